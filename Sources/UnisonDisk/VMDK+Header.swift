import FoundationEssentials
import UnisonCore

// VMDK hosted sparse extent header, VMware "Virtual Disk Format 5.0" §"Hosted Sparse Extent
// Header" and §"Stream-Optimized Compressed Sparse Extents"; qemu block/vmdk.c (VMDK4Header)
// for what qemu-img accepts. Little-endian, one 512-byte sector:
//
//    0 magicNumber "KDMV"       4 version (3)              8 flags
//   12 capacity (sectors)       20 grainSize (sectors)    28 descriptorOffset (sectors)
//   36 descriptorSize           44 numGTEsPerGT (512)     48 rgdOffset (0: none)
//   56 gdOffset (GD_AT_END in the header of a stream)      64 overHead (sectors before grains)
//   72 uncleanShutdown          73 "\n"  74 " "  75 "\r"  76 "\n"   (line-ending check bytes)
//   77 compressAlgorithm (1 = deflate)                      79..511 zero
//
// flags: bit 0 valid newline test, bit 16 compressed grains, bit 17 markers present.
//
// A stream-optimized file is a sequence of sector-aligned records:
//
//   grain:     lba u64 | size u32 | zlib data (size bytes) | pad to 512
//   metadata:  numSectors u64 | 0 u32 | type u32 | pad to 512, then numSectors of metadata
//              type 0 end of stream, 1 grain table, 2 grain directory, 3 footer
//
// The end of the file is: footer marker, footer (a header copy with the real gdOffset), and
// an end-of-stream marker; readers find the footer 1536 bytes before the end.

package struct VMDKHeader: Sendable, Equatable {
    package static let magic: [UInt8] = Array("KDMV".utf8)
    package static let gdAtEnd: UInt64 = 0xFFFF_FFFF_FFFF_FFFF
    package static let flagNewlineTest: UInt32 = 1 << 0
    package static let flagRedundantGrainTable: UInt32 = 1 << 1
    package static let flagCompressed: UInt32 = 1 << 16
    package static let flagMarkers: UInt32 = 1 << 17

    package var version: UInt32 = 3
    package var flags: UInt32 = flagNewlineTest | flagCompressed | flagMarkers
    package var capacity: UInt64
    package var grainSize: UInt64 = 128
    package var descriptorOffset: UInt64 = 1
    package var descriptorSize: UInt64 = 20
    package var gtesPerGT: UInt32 = 512
    package var rgdOffset: UInt64 = 0
    package var gdOffset: UInt64 = gdAtEnd
    package var overhead: UInt64 = 128
    package var uncleanShutdown: UInt8 = 0
    package var compressAlgorithm: UInt16 = 1

    package init(capacity: UInt64) { self.capacity = capacity }

    package func encode() -> [UInt8] {
        var r = BinaryRecord(size: 512)
        r.put(Self.magic, at: 0)
        r.le32(version, at: 4)
        r.le32(flags, at: 8)
        r.le64(capacity, at: 12)
        r.le64(grainSize, at: 20)
        r.le64(descriptorOffset, at: 28)
        r.le64(descriptorSize, at: 36)
        r.le32(gtesPerGT, at: 44)
        r.le64(rgdOffset, at: 48)
        r.le64(gdOffset, at: 56)
        r.le64(overhead, at: 64)
        r.u8(uncleanShutdown, at: 72)
        r.put([0x0A, 0x20, 0x0D, 0x0A], at: 73)
        r.le16(compressAlgorithm, at: 77)
        return r.bytes
    }

    package static func decode(_ bytes: [UInt8], path: String, offset: Int64 = 0) throws -> VMDKHeader {
        guard bytes.count >= 79, Array(bytes[0..<4]) == magic else {
            throw DiskError.corrupt(path: path, offset: offset, detail: "not a VMDK sparse extent (no KDMV magic)")
        }
        let v = BinaryView(bytes)
        var h = VMDKHeader(capacity: v.le64(12))
        h.version = v.le32(4)
        h.flags = v.le32(8)
        h.grainSize = v.le64(20)
        h.descriptorOffset = v.le64(28)
        h.descriptorSize = v.le64(36)
        h.gtesPerGT = v.le32(44)
        h.rgdOffset = v.le64(48)
        h.gdOffset = v.le64(56)
        h.overhead = v.le64(64)
        h.uncleanShutdown = v.u8(72)
        h.compressAlgorithm = v.le16(77)
        return h
    }

    package var isCompressed: Bool { compressAlgorithm == 1 }
    package var hasMarkers: Bool { flags & Self.flagMarkers != 0 }
}

/// Metadata marker types of a stream-optimized extent.
package enum VMDKMarker: UInt32, Sendable {
    case endOfStream = 0, grainTable = 1, grainDirectory = 2, footer = 3

    /// A 512-byte marker sector announcing `sectors` sectors of metadata.
    package static func sector(_ type: VMDKMarker, sectors: UInt64) -> [UInt8] {
        var r = BinaryRecord(size: 512)
        r.le64(sectors, at: 0)
        r.le32(0, at: 8)
        r.le32(type.rawValue, at: 12)
        return r.bytes
    }
}

/// The embedded text descriptor (VDF 5.0 §"The Descriptor File"), deterministic: the CID is
/// derived from the disk's content, the geometry from its size (VMware's 255 heads, 63 sectors
/// for SCSI adapters), and the extent line names the file the descriptor lives in.
package struct VMDKDescriptor: Sendable, Equatable {
    package var cid: UInt32
    package var capacitySectors: UInt64
    package var fileName: String
    package var adapterType = "lsilogic"
    package var hardwareVersion = "4"

    package init(cid: UInt32, capacitySectors: UInt64, fileName: String) {
        self.cid = cid
        self.capacitySectors = capacitySectors
        self.fileName = fileName
    }

    package var text: String {
        let cylinders = min(capacitySectors / (255 * 63), 65535)
        return """
            # Disk DescriptorFile
            version=1
            encoding="UTF-8"
            CID=\(NumberText.hex(cid, width: 8))
            parentCID=ffffffff
            createType="streamOptimized"

            # Extent description
            RW \(capacitySectors) SPARSE "\(fileName)"

            # The Disk Data Base
            #DDB

            ddb.adapterType = "\(adapterType)"
            ddb.geometry.cylinders = "\(cylinders)"
            ddb.geometry.heads = "255"
            ddb.geometry.sectors = "63"
            ddb.toolsVersion = "2147483647"
            ddb.virtualHWVersion = "\(hardwareVersion)"

            """
    }
}
