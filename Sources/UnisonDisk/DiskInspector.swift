import FoundationEssentials
import UnisonCore

/// What `unisonctl image inspect` reports about a disk image.
package struct DiskReport: Sendable, Codable, Equatable {
    package var schema = "unisonctl.image-inspect/v1"
    package var path: String
    package var format: DiskFormat
    package var virtualSize: Int64
    package var fileSize: Int64
    /// "gpt", "mbr" or "none".
    package var partitionTable: String
    package var diskGUID: GUID?
    package var gptValid: Bool?
    package var partitions: [Partition]
    /// Descriptor fields of a VMDK (createType, CID).
    package var vmdk: VMDKInfo?

    package struct Partition: Sendable, Codable, Equatable {
        package var index: Int
        package var type: GUID
        package var typeName: String
        package var name: String
        package var guid: GUID
        package var firstLBA: UInt64
        package var lastLBA: UInt64
        package var offset: Int64
        package var size: Int64
        package var filesystem: Filesystem?
    }

    package struct Filesystem: Sendable, Codable, Equatable {
        /// "fat32" or "ext4".
        package var type: String
        package var label: String
        /// ext4 UUID, or the FAT volume ID as XXXX-XXXX.
        package var uuid: String
    }

    package struct VMDKInfo: Sendable, Codable, Equatable {
        package var createType: String
        package var cid: String
        package var version: UInt32
    }
}

package enum DiskInspector {
    package static func inspect(_ url: URL) throws -> DiskReport {
        let reader = try DiskImage.open(url)
        let fileSize = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? UInt).map(Int64.init) ?? 0
        var report = DiskReport(
            path: url.path, format: reader.format, virtualSize: reader.virtualSize, fileSize: fileSize,
            partitionTable: "none", partitions: [])
        if let vmdk = reader as? VMDKReader {
            let text = vmdk.descriptor
            func field(_ key: String) -> String {
                for line in text.split(separator: "\n") where line.hasPrefix(key + "=") {
                    return String(line.dropFirst(key.count + 1)).trimming(ScalarSet(charactersIn: "\" \r"))
                }
                return ""
            }
            report.vmdk = .init(createType: field("createType"), cid: field("CID"), version: vmdk.header.version)
        }
        let sectors = UInt64(reader.virtualSize / 512)
        guard sectors >= 3 else { return report }
        let gpt = try GPT.read(diskSectors: sectors, path: url.path) { lba, count in
            try reader.read(at: Int64(lba) * 512, count: count * 512)
        }
        guard let gpt else {
            let mbr = try reader.read(at: 0, count: 512)
            if mbr[510] == 0x55, mbr[511] == 0xAA { report.partitionTable = "mbr" }
            return report
        }
        report.partitionTable = "gpt"
        report.diskGUID = gpt.gpt.diskGUID
        report.gptValid = gpt.headerCRCValid && gpt.entriesCRCValid && gpt.backupMatches
        for (i, p) in gpt.gpt.partitions.enumerated() {
            let head = try reader.read(at: p.offset, count: 4096)
            var fs: DiskReport.Filesystem?
            if let fat = FAT32BootSector.probe(Array(head[0..<512])) {
                fs = .init(
                    type: "fat32", label: fat.label,
                    uuid: NumberText.hex(fat.volumeID >> 16, width: 4, uppercase: true) + "-"
                        + NumberText.hex(fat.volumeID & 0xFFFF, width: 4, uppercase: true))
            } else if let ext4 = Ext4Superblock.probe(head) {
                fs = .init(type: "ext4", label: ext4.label, uuid: ext4.uuid.text(uppercase: false))
            }
            report.partitions.append(
                .init(
                    index: i + 1, type: p.type, typeName: PartitionType.name(of: p.type), name: p.name,
                    guid: p.guid, firstLBA: p.firstLBA, lastLBA: p.lastLBA, offset: p.offset,
                    size: p.size, filesystem: fs))
        }
        return report
    }
}
