import FoundationEssentials

// QCOW2 version 3 header, qemu docs/interop/qcow2.txt ("Header"). Big-endian throughout.
//
//    0 magic "QFI\xfb"           4 version (3)             8 backing_file_offset (0)
//   16 backing_file_size (0)    20 cluster_bits (16)      24 size (virtual bytes)
//   32 crypt_method (0)         36 l1_size (entries)      40 l1_table_offset
//   48 refcount_table_offset    56 refcount_table_clusters
//   60 nb_snapshots (0)         64 snapshots_offset (0)
//   72 incompatible_features    80 compatible_features    88 autoclear_features
//   96 refcount_order (4: 16-bit refcounts)              100 header_length (104)
//  104 header extensions: we write none, only the end marker (type 0, length 0).
//
// Tables: L1 entries point to L2 tables, L2 entries to data clusters (bits 9-55 of the host
// offset; bit 63 "copied" = refcount exactly 1; bit 62 compressed). An all-zero L2 entry is
// an unallocated cluster and reads as zeros. The refcount table points to refcount blocks of
// 2^(cluster_bits + 3 - refcount_order) entries; every cluster in use needs refcount 1.

package struct Qcow2Header: Sendable, Equatable {
    package static let magic: [UInt8] = [0x51, 0x46, 0x49, 0xFB]
    package static let length = 104

    package var version: UInt32 = 3
    package var clusterBits: UInt32 = 16
    package var size: UInt64
    package var cryptMethod: UInt32 = 0
    package var l1Size: UInt32
    package var l1TableOffset: UInt64
    package var refcountTableOffset: UInt64
    package var refcountTableClusters: UInt32
    package var snapshotCount: UInt32 = 0
    package var snapshotsOffset: UInt64 = 0
    package var incompatibleFeatures: UInt64 = 0
    package var compatibleFeatures: UInt64 = 0
    package var autoclearFeatures: UInt64 = 0
    package var refcountOrder: UInt32 = 4
    package var headerLength: UInt32 = UInt32(length)
    package var backingFileOffset: UInt64 = 0

    package init(size: UInt64, l1Size: UInt32, l1TableOffset: UInt64, refcountTableOffset: UInt64, refcountTableClusters: UInt32) {
        self.size = size
        self.l1Size = l1Size
        self.l1TableOffset = l1TableOffset
        self.refcountTableOffset = refcountTableOffset
        self.refcountTableClusters = refcountTableClusters
    }

    package var clusterSize: Int64 { 1 << Int64(clusterBits) }

    /// The header plus the end-of-extensions marker, 112 bytes.
    package func encode() -> [UInt8] {
        var r = BinaryRecord(size: Self.length + 8)
        r.put(Self.magic, at: 0)
        r.be32(version, at: 4)
        r.be64(backingFileOffset, at: 8)
        r.be32(clusterBits, at: 20)
        r.be64(size, at: 24)
        r.be32(cryptMethod, at: 32)
        r.be32(l1Size, at: 36)
        r.be64(l1TableOffset, at: 40)
        r.be64(refcountTableOffset, at: 48)
        r.be32(refcountTableClusters, at: 56)
        r.be32(snapshotCount, at: 60)
        r.be64(snapshotsOffset, at: 64)
        r.be64(incompatibleFeatures, at: 72)
        r.be64(compatibleFeatures, at: 80)
        r.be64(autoclearFeatures, at: 88)
        r.be32(refcountOrder, at: 96)
        r.be32(headerLength, at: 100)
        // 104..111: header extension type 0 (end), length 0.
        return r.bytes
    }

    package static func decode(_ bytes: [UInt8], path: String) throws -> Qcow2Header {
        guard bytes.count >= 72, Array(bytes[0..<4]) == magic else {
            throw DiskError.corrupt(path: path, offset: 0, detail: "not a qcow2 image (no QFI\\xfb magic)")
        }
        let v = BinaryView(bytes)
        var h = Qcow2Header(
            size: v.be64(24), l1Size: v.be32(36), l1TableOffset: v.be64(40),
            refcountTableOffset: v.be64(48), refcountTableClusters: v.be32(56))
        h.version = v.be32(4)
        h.backingFileOffset = v.be64(8)
        h.clusterBits = v.be32(20)
        h.cryptMethod = v.be32(32)
        h.snapshotCount = v.be32(60)
        h.snapshotsOffset = v.be64(64)
        guard h.version == 2 || h.version == 3 else {
            throw DiskError.unsupported(path: path, detail: "qcow2 version \(h.version) is not supported")
        }
        guard (9...21).contains(h.clusterBits) else {
            throw DiskError.corrupt(path: path, offset: 20, detail: "qcow2 cluster_bits \(h.clusterBits) is out of range")
        }
        if h.version == 3 {
            guard bytes.count >= 104 else { throw DiskError.corrupt(path: path, offset: 0, detail: "qcow2 v3 header is truncated") }
            h.incompatibleFeatures = v.be64(72)
            h.compatibleFeatures = v.be64(80)
            h.autoclearFeatures = v.be64(88)
            h.refcountOrder = v.be32(96)
            h.headerLength = v.be32(100)
        } else {
            h.refcountOrder = 4
            h.headerLength = 72
        }
        return h
    }
}
