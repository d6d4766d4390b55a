import FoundationEssentials
import UnisonArchive
import UnisonCore

/// Makes an ext4 filesystem image from a `FileTree`. Two implementations: `NativeExt4Builder`
/// (one pass, no staging directory; the VM pipeline's default) and `Mke2fsExt4Builder`
/// (e2fsprogs' `mke2fs -d` plus a `debugfs` pass), kept for comparison tests.
package protocol Ext4Builder: Sendable {
    /// Writes a filesystem of exactly `size` bytes holding `tree` to `image`.
    func build(_ tree: FileTree, image: URL, size: Int64, options: Ext4Options) throws -> Ext4Image
}

package struct Ext4Options: Sendable, Equatable {
    /// Filesystem UUID; also the directory hash seed, so the hash order is fixed.
    package var uuid: GUID
    package var label: String
    /// Every time the filesystem records (superblock, inodes) comes from here.
    package var epoch: Int64
    /// Scratch space for the staging directory and scripts (removed afterwards).
    package var workDir: URL

    package init(uuid: GUID, label: String, epoch: Int64, workDir: URL) {
        self.uuid = uuid
        self.label = label
        self.epoch = epoch
        self.workDir = workDir
    }
}

/// A finished filesystem image and where its data is (its holes read as zeros).
package struct Ext4Image: Sendable, Equatable {
    package var url: URL
    package var size: Int64
    package var uuid: GUID
    package var dataRanges: [Range<Int64>]

    /// The image's data ranges as layout extents starting at `base`.
    package func extents(at base: Int64) -> [DiskLayout.Extent] {
        dataRanges.map { .init(offset: base + $0.lowerBound, source: .file(url, offset: $0.lowerBound, length: Int64($0.count))) }
    }
}

/// ext4 superblock fields read back (kernel Documentation/filesystems/ext4/super.rst): the
/// superblock is 1024 bytes at offset 1024; magic 0xEF53 at 0x38, UUID at 0x68, volume name
/// at 0x78 (16 bytes), block size 2^(10 + s_log_block_size at 0x18), block count at 0x4 (+ hi at 0x150).
package struct Ext4Superblock: Sendable, Equatable {
    package var uuid: GUID
    package var label: String
    package var blockSize: Int64
    package var blockCount: Int64

    package static func probe(_ bytes: [UInt8]) -> Ext4Superblock? {
        guard bytes.count >= 1024 + 0x160 else { return nil }
        let v = BinaryView(Array(bytes[1024..<(1024 + 0x160)]))
        guard v.le16(0x38) == 0xEF53 else { return nil }
        let logBlock = v.le32(0x18)
        guard logBlock < 7 else { return nil }
        let incompat = v.le32(0x60)
        var blocks = Int64(v.le32(0x4))
        if incompat & 0x80 != 0 { blocks |= Int64(v.le32(0x150)) << 32 }  // INCOMPAT_64BIT
        return Ext4Superblock(
            uuid: GUID(bytes: v.slice(0x68, 16)), label: v.ascii(0x78, 16),
            blockSize: 1024 << Int64(logBlock), blockCount: blocks)
    }
}
