import FoundationEssentials

// GUID Partition Table, UEFI specification 2.10 §5.2-5.3; partition type GUIDs from the
// Discoverable Partitions Specification (uapi-group.org/specifications/specs/discoverable_partitions_specification).
//
//   LBA 0        protective MBR: one partition of type 0xEE covering the disk
//   LBA 1        primary GPT header ("EFI PART", 92 bytes, CRC32 over the header)
//   LBA 2..33    primary partition entry array (128 entries × 128 bytes)
//   LBA 34..     partitions (first usable LBA 34; ours start at 1 MiB)
//   LBA N-33..N-2  backup partition entry array
//   LBA N-1      backup GPT header (MyLBA and AlternateLBA swapped, entries at N-33)
//
// GPT header (little-endian):
//   0 Signature "EFI PART"   8 Revision 0x00010000   12 HeaderSize 92   16 HeaderCRC32
//   20 Reserved   24 MyLBA   32 AlternateLBA   40 FirstUsableLBA   48 LastUsableLBA
//   56 DiskGUID   72 PartitionEntryLBA   80 NumberOfPartitionEntries   84 SizeOfPartitionEntry
//   88 PartitionEntryArrayCRC32
// Partition entry:
//   0 PartitionTypeGUID   16 UniquePartitionGUID   32 StartingLBA   40 EndingLBA (inclusive)
//   48 Attributes   56 PartitionName (36 UTF-16LE code units)

/// Partition type GUIDs this project writes or recognizes.
package enum PartitionType {
    package static let efiSystem = GUID("C12A7328-F81F-11D2-BA4B-00A0C93EC93B")!
    package static let linuxRootX86_64 = GUID("4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709")!
    package static let linuxGeneric = GUID("0FC63DAF-8483-4772-8E79-3D69D8477DE4")!
    package static let biosBoot = GUID("21686148-6449-6E6F-744E-656564454649")!

    package static func name(of type: GUID) -> String {
        switch type {
        case efiSystem: return "EFI System"
        case linuxRootX86_64: return "Linux root (x86-64)"
        case linuxGeneric: return "Linux filesystem"
        case biosBoot: return "BIOS boot"
        default: return "unknown"
        }
    }
}

package struct GPTPartition: Sendable, Equatable, Codable {
    package var type: GUID
    package var guid: GUID
    package var name: String
    package var firstLBA: UInt64
    /// Inclusive, as GPT stores it.
    package var lastLBA: UInt64
    package var attributes: UInt64

    package init(type: GUID, guid: GUID, name: String, firstLBA: UInt64, lastLBA: UInt64, attributes: UInt64 = 0) {
        self.type = type
        self.guid = guid
        self.name = name
        self.firstLBA = firstLBA
        self.lastLBA = lastLBA
        self.attributes = attributes
    }

    package var offset: Int64 { Int64(firstLBA) * GPT.sectorSize }
    package var size: Int64 { Int64(lastLBA - firstLBA + 1) * GPT.sectorSize }
}

/// A whole GPT: encodes the protective MBR, both headers and both entry arrays.
package struct GPT: Sendable, Equatable {
    package static let sectorSize: Int64 = 512
    package static let entryCount = 128
    package static let entrySize = 128
    /// Sectors of the entry array: 128 × 128 bytes = 32 sectors.
    package static let entrySectors = UInt64(entryCount * entrySize) / UInt64(sectorSize)

    package var diskSectors: UInt64
    package var diskGUID: GUID
    package var partitions: [GPTPartition]

    package init(diskSectors: UInt64, diskGUID: GUID, partitions: [GPTPartition]) {
        self.diskSectors = diskSectors
        self.diskGUID = diskGUID
        self.partitions = partitions
    }

    package var firstUsableLBA: UInt64 { 2 + Self.entrySectors }
    package var lastUsableLBA: UInt64 { diskSectors - 2 - Self.entrySectors }
    var backupEntriesLBA: UInt64 { diskSectors - 1 - Self.entrySectors }

    /// The 16 KiB partition entry array (unused entries are zero).
    package func entryArray() -> [UInt8] {
        var r = BinaryRecord(size: Self.entryCount * Self.entrySize)
        for (i, p) in partitions.enumerated() {
            let o = i * Self.entrySize
            r.put(p.type.diskBytes, at: o)
            r.put(p.guid.diskBytes, at: o + 16)
            r.le64(p.firstLBA, at: o + 32)
            r.le64(p.lastLBA, at: o + 40)
            r.le64(p.attributes, at: o + 48)
            for (j, unit) in p.name.utf16.prefix(36).enumerated() { r.le16(unit, at: o + 56 + 2 * j) }
        }
        return r.bytes
    }

    /// A header sector: the primary one at LBA 1 or the backup one at the last LBA.
    package func header(primary: Bool, entriesCRC: UInt32) -> [UInt8] {
        var r = BinaryRecord(size: Int(Self.sectorSize))
        let myLBA: UInt64 = primary ? 1 : diskSectors - 1
        let alternate: UInt64 = primary ? diskSectors - 1 : 1
        r.ascii("EFI PART", at: 0, width: 8)
        r.le32(0x0001_0000, at: 8)
        r.le32(92, at: 12)
        r.le64(myLBA, at: 24)
        r.le64(alternate, at: 32)
        r.le64(firstUsableLBA, at: 40)
        r.le64(lastUsableLBA, at: 48)
        r.put(diskGUID.diskBytes, at: 56)
        r.le64(primary ? 2 : backupEntriesLBA, at: 72)
        r.le32(UInt32(Self.entryCount), at: 80)
        r.le32(UInt32(Self.entrySize), at: 84)
        r.le32(entriesCRC, at: 88)
        // The header CRC covers HeaderSize bytes with the CRC field itself zero.
        r.le32(CRC32.checksum(Array(r.bytes[0..<92])), at: 16)
        return r.bytes
    }

    /// LBA 0: a protective MBR whose single 0xEE partition covers the disk (capped at 2^32-1).
    package func protectiveMBR() -> [UInt8] {
        var r = BinaryRecord(size: Int(Self.sectorSize))
        let e = 446
        r.u8(0x00, at: e)  // not bootable
        r.put([0x00, 0x02, 0x00], at: e + 1)  // CHS of LBA 1
        r.u8(0xEE, at: e + 4)  // GPT protective
        r.put([0xFF, 0xFF, 0xFF], at: e + 5)  // CHS beyond what CHS can say
        r.le32(1, at: e + 8)
        r.le32(UInt32(min(diskSectors - 1, 0xFFFF_FFFF)), at: e + 12)
        r.put([0x55, 0xAA], at: 510)
        return r.bytes
    }

    /// LBA 0 through 33: protective MBR, primary header, primary entries.
    package func primaryRegion() -> Data {
        let entries = entryArray()
        return Data(protectiveMBR() + header(primary: true, entriesCRC: CRC32.checksum(entries)) + entries)
    }

    /// The last 33 sectors: backup entries, then the backup header.
    package func backupRegion() -> Data {
        let entries = entryArray()
        return Data(entries + header(primary: false, entriesCRC: CRC32.checksum(entries)))
    }

    package var backupRegionOffset: Int64 { Int64(backupEntriesLBA) * Self.sectorSize }

    /// Checks that partitions are in bounds, ordered and disjoint.
    package func validate() throws {
        var previousEnd: UInt64 = firstUsableLBA
        for p in partitions {
            guard p.firstLBA >= previousEnd, p.lastLBA >= p.firstLBA, p.lastLBA <= lastUsableLBA else {
                throw DiskError.extentOutOfBounds(offset: p.offset, length: p.size, diskSize: Int64(lastUsableLBA + 1) * Self.sectorSize)
            }
            previousEnd = p.lastLBA + 1
        }
    }
}
