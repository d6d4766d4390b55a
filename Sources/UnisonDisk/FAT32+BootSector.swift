import FoundationEssentials

// FAT32 boot sector and FSInfo, Microsoft "FAT: General Overview of On-Disk Format" (fatgen103),
// §3.1-3.3 (BPB), §5 (FSInfo). Little-endian.
//
//   0 jmpBoot EB 58 90     3 OEMName      11 BytsPerSec   13 SecPerClus   14 RsvdSecCnt
//  16 NumFATs             17 RootEntCnt 0 19 TotSec16 0   21 Media F8     22 FATSz16 0
//  24 SecPerTrk           26 NumHeads     28 HiddSec      32 TotSec32
//  36 FATSz32             40 ExtFlags     42 FSVer 0      44 RootClus     48 FSInfo (1)
//  50 BkBootSec (6)       52 reserved     64 DrvNum 80    66 BootSig 29   67 VolID
//  71 VolLab (11)         82 FilSysType "FAT32   "       510 55 AA
//
// FSInfo (sector 1, copy at 7): 0 LeadSig 41615252, 484 StrucSig 61417272, 488 Free_Count,
// 492 Nxt_Free, 508 TrailSig AA550000.
//
// Reserved region layout written here (32 sectors):
//   0 boot sector | 1 FSInfo | 2-5 zero | 6 backup boot sector | 7 backup FSInfo | 8-31 zero

package struct FAT32Geometry: Sendable, Equatable {
    package static let bytesPerSector = 512
    package static let reservedSectors = 32
    package static let fatCount = 2
    /// fatgen103: a volume with fewer clusters is FAT16 whatever its BPB says; firmware
    /// decides the type by this count, so stay clear of the boundary.
    package static let minimumClusters: Int64 = 65525 + 16

    package var totalSectors: Int64
    package var sectorsPerCluster: Int
    package var fatSectors: Int64

    package var clusterSize: Int { sectorsPerCluster * Self.bytesPerSector }
    package var dataStartSector: Int64 { Int64(Self.reservedSectors) + Int64(Self.fatCount) * fatSectors }
    package var clusterCount: Int64 { (totalSectors - dataStartSector) / Int64(sectorsPerCluster) }

    /// Byte offset (within the volume) of cluster `n` (the first data cluster is 2).
    package func offset(ofCluster n: UInt32) -> Int64 {
        (dataStartSector + Int64(n - 2) * Int64(sectorsPerCluster)) * Int64(Self.bytesPerSector)
    }

    /// The largest cluster (4 KiB down to 512 B) that still leaves a FAT32-sized cluster count,
    /// with the FAT size computed as fatgen103 §3.5 does.
    package static func choose(volumeBytes: Int64) throws -> FAT32Geometry {
        let total = volumeBytes / Int64(bytesPerSector)
        for spc in [8, 4, 2, 1] {
            let tmp1 = total - Int64(reservedSectors)
            let tmp2 = (256 * Int64(spc) + Int64(fatCount)) / 2
            let fat = (tmp1 + tmp2 - 1) / tmp2
            let g = FAT32Geometry(totalSectors: total, sectorsPerCluster: spc, fatSectors: fat)
            if g.clusterCount >= minimumClusters, g.clusterCount < 0x0FFF_FFF5 { return g }
        }
        throw DiskError.doesNotFit(
            what: "a FAT32 volume", needed: (minimumClusters + 600) * 512 + 32 * 512,
            available: volumeBytes)
    }
}

package struct FAT32BootSector: Sendable, Equatable {
    package var geometry: FAT32Geometry
    package var hiddenSectors: UInt32
    package var volumeID: UInt32
    package var label: String
    package var oemName = "MSWIN4.1"
    package var rootCluster: UInt32 = 2

    package func encode() -> [UInt8] {
        var r = BinaryRecord(size: 512)
        r.put([0xEB, 0x58, 0x90], at: 0)
        r.ascii(oemName, at: 3, width: 8, pad: 0x20)
        r.le16(UInt16(FAT32Geometry.bytesPerSector), at: 11)
        r.u8(UInt8(geometry.sectorsPerCluster), at: 13)
        r.le16(UInt16(FAT32Geometry.reservedSectors), at: 14)
        r.u8(UInt8(FAT32Geometry.fatCount), at: 16)
        r.u8(0xF8, at: 21)
        r.le16(63, at: 24)
        r.le16(255, at: 26)
        r.le32(hiddenSectors, at: 28)
        r.le32(UInt32(geometry.totalSectors), at: 32)
        r.le32(UInt32(geometry.fatSectors), at: 36)
        r.le32(rootCluster, at: 44)
        r.le16(1, at: 48)
        r.le16(6, at: 50)
        r.u8(0x80, at: 64)
        r.u8(0x29, at: 66)
        r.le32(volumeID, at: 67)
        r.ascii(label, at: 71, width: 11, pad: 0x20)
        r.ascii("FAT32", at: 82, width: 8, pad: 0x20)
        // Boot code: this volume is not bootable by a BIOS; halt forever.
        r.put([0xFA, 0xF4, 0xEB, 0xFD], at: 90)
        r.put([0x55, 0xAA], at: 510)
        return r.bytes
    }

    package static func fsInfo(freeClusters: UInt32, nextFree: UInt32) -> [UInt8] {
        var r = BinaryRecord(size: 512)
        r.le32(0x4161_5252, at: 0)
        r.le32(0x6141_7272, at: 484)
        r.le32(freeClusters, at: 488)
        r.le32(nextFree, at: 492)
        r.le32(0xAA55_0000, at: 508)
        return r.bytes
    }

    /// Volume label and ID read back from a boot sector; nil when it is not FAT32.
    package static func probe(_ sector: [UInt8]) -> (label: String, volumeID: UInt32)? {
        guard sector.count >= 512, sector[510] == 0x55, sector[511] == 0xAA else { return nil }
        let v = BinaryView(sector)
        guard v.ascii(82, 8) == "FAT32", v.le16(11) >= 512 else { return nil }
        return (v.ascii(71, 11), v.le32(67))
    }
}
