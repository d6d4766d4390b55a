import FoundationEssentials

/// Reading a GPT back (for `image inspect` and tests): header fields, CRCs, entries.
package struct GPTReadResult: Sendable, Equatable {
    package var gpt: GPT
    package var headerCRCValid: Bool
    package var entriesCRCValid: Bool
    package var backupMatches: Bool
}

extension GPT {
    /// Parses the primary header (sector 1) and its entry array; `readSector` reads 512-byte
    /// sectors of the virtual disk. Returns nil when sector 1 carries no "EFI PART" signature.
    package static func read(
        diskSectors: UInt64, path: String,
        readSectors: (UInt64, Int) throws -> [UInt8]
    ) throws -> GPTReadResult? {
        let header = BinaryView(try readSectors(1, 1))
        guard header.slice(0, 8) == Array("EFI PART".utf8) else { return nil }
        let headerSize = Int(header.le32(12))
        guard (92...512).contains(headerSize) else {
            throw DiskError.corrupt(path: path, offset: 512 + 12, detail: "GPT header size \(headerSize) is invalid")
        }
        var zeroed = header.slice(0, headerSize)
        zeroed.replaceSubrange(16..<20, with: [0, 0, 0, 0])
        let headerOK = CRC32.checksum(zeroed) == header.le32(16)
        let entriesLBA = header.le64(72)
        let count = Int(header.le32(80)), size = Int(header.le32(84))
        guard size >= 128, size % 8 == 0, count <= 4096, count * size <= 1 << 20 else {
            throw DiskError.corrupt(path: path, offset: 512 + 80, detail: "GPT entry array of \(count) × \(size) bytes is invalid")
        }
        let sectors = (count * size + 511) / 512
        let raw = try readSectors(entriesLBA, sectors)
        let entries = Array(raw.prefix(count * size))
        let entriesOK = CRC32.checksum(entries) == header.le32(88)
        var partitions: [GPTPartition] = []
        let view = BinaryView(entries)
        for i in 0..<count {
            let o = i * size
            let type = GUID(diskBytes: view.slice(o, 16))
            if type.isZero { continue }
            var units: [UInt16] = []
            for j in 0..<36 {
                let u = view.le16(o + 56 + 2 * j)
                if u == 0 { break }
                units.append(u)
            }
            partitions.append(
                GPTPartition(
                    type: type, guid: GUID(diskBytes: view.slice(o + 16, 16)),
                    name: String(decoding: units, as: UTF16.self),
                    firstLBA: view.le64(o + 32), lastLBA: view.le64(o + 40),
                    attributes: view.le64(o + 48)))
        }
        let gpt = GPT(diskSectors: diskSectors, diskGUID: GUID(diskBytes: header.slice(56, 16)), partitions: partitions)
        var backupOK = false
        let alternate = header.le64(32)
        if alternate < diskSectors {
            let backup = BinaryView(try readSectors(alternate, 1))
            backupOK =
                backup.slice(0, 8) == Array("EFI PART".utf8) && backup.le64(24) == alternate
                && backup.le64(32) == 1 && backup.slice(56, 16) == header.slice(56, 16) && backup.le32(88) == header.le32(88)
        }
        return GPTReadResult(gpt: gpt, headerCRCValid: headerOK, entriesCRCValid: entriesOK, backupMatches: backupOK)
    }
}
