// The installer's initramfs: a cpio archive in the "new ASCII" (newc) format the kernel
// unpacks into its rootfs (https://docs.kernel.org/driver-api/early-userspace/buffer-format.html).
//
//   offset  size  field (ASCII hex, 8 digits each unless noted)
//   ------  ----  ---------------------------------------------
//        0     6  c_magic     "070701"
//        6     8  c_ino       1, 2, 3, ... in archive order (never the build host's inodes)
//       14     8  c_mode      file type bits | permissions
//       22     8  c_uid
//       30     8  c_gid
//       38     8  c_nlink     2 for directories, 1 otherwise
//       46     8  c_mtime     seconds (SOURCE_DATE_EPOCH)
//       54     8  c_filesize  0 for directories and devices; the target's length for symlinks
//       62     8  c_maj, 70 c_min      device of the file (always 0)
//       78     8  c_rmaj, 86 c_rmin    device a character/block node stands for
//       94     8  c_namesize  name length + 1 (the NUL)
//      102     8  c_chksum    0 (newc has no checksum)
//      110        name, NUL, zero-padded to a multiple of 4 from the header's start
//                 data, zero-padded to a multiple of 4
//   ... the last member is named "TRAILER!!!".
import FoundationEssentials
import UnisonArchive
import UnisonCore
import UnisonDisk

enum NewcArchive {
    /// Serializes `tree` (directories, regular files, symlinks and device nodes) in its walk
    /// order, parents before children; the root itself is not a member.
    static func encode(_ tree: FileTree) throws -> Data {
        var out = Data()
        var ino: UInt32 = 0
        for entry in tree.walk() where !entry.path.isEmpty {
            ino += 1
            var body = Data()
            var rdev: (UInt32, UInt32) = (0, 0)
            let type: UInt32
            var nlink: UInt32 = 1
            switch entry.kind {
            case .directory: type = 0o040000; nlink = 2
            case let .regular(content): type = 0o100000; body = try content.data()
            case let .symlink(target): type = 0o120000; body = Data(target.utf8)
            case let .characterDevice(major, minor): type = 0o020000; rdev = (major, minor)
            case let .blockDevice(major, minor): type = 0o060000; rdev = (major, minor)
            case .fifo: type = 0o010000
            case .hardlink:
                throw DiskError.unsupportedEntry(path: entry.path, filesystem: "initramfs (cpio newc)", detail: "hard links are not written")
            }
            append(
                &out, name: entry.path, ino: ino, mode: type | entry.mode, uid: entry.uid, gid: entry.gid, nlink: nlink,
                mtime: entry.mtime, body: body, rdev: rdev)
        }
        append(&out, name: "TRAILER!!!", ino: 0, mode: 0, uid: 0, gid: 0, nlink: 1, mtime: 0, body: Data(), rdev: (0, 0))
        return out
    }

    private static func append(
        _ out: inout Data, name: String, ino: UInt32, mode: UInt32, uid: UInt32, gid: UInt32,
        nlink: UInt32, mtime: Int64, body: Data, rdev: (UInt32, UInt32)
    ) {
        let nameBytes = Array(name.utf8) + [0]
        let fields: [UInt32] = [
            ino, mode, uid, gid, nlink, UInt32(clamping: max(0, mtime)), UInt32(body.count), 0, 0,
            rdev.0, rdev.1, UInt32(nameBytes.count), 0,
        ]
        var header = "070701"
        for f in fields { header += NumberText.hex(f, width: 8, uppercase: true) }
        out.append(contentsOf: Array(header.utf8))
        out.append(contentsOf: nameBytes)
        pad(&out)
        out.append(body)
        pad(&out)
    }

    private static func pad(_ out: inout Data) {
        let rest = out.count % 4
        if rest != 0 { out.append(contentsOf: [UInt8](repeating: 0, count: 4 - rest)) }
    }
}
