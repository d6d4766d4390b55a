import FoundationEssentials
import Glibc
import UnisonArchive
import UnisonCore

/// ext4 through e2fsprogs, rootless and reproducible:
///
/// 1. The tree is materialized into a staging directory without owners, devices or xattrs
///    (a normal user can create none of them); unreadable modes are widened for the copy.
/// 2. `mke2fs -t ext4 -d STAGING` with a private `mke2fs.conf` (the host's cannot change the
///    features), `E2FSPROGS_FAKE_TIME`, `-U` and `-E hash_seed=` from the content UUID.
/// 3. `debugfs -w -f SCRIPT` restores what the staging directory could not hold: owners and
///    modes of every inode, device nodes (`mknod`), xattrs (`ea_set`), and the timestamps
///    mke2fs copied from the staging files (their ctime is the time of staging).
///
/// Inode numbers follow the staging directory's `readdir` order, which is fixed for a given
/// host filesystem; a native writer will remove that last dependence on the build host.
package struct Mke2fsExt4Builder: Ext4Builder {
    package let runner: any ProcessRunner

    package init(runner: any ProcessRunner = SystemProcessRunner()) { self.runner = runner }

    /// Features fixed here rather than taken from /etc/mke2fs.conf; `orphan_file` and
    /// `metadata_csum_seed` stay off for older kernels and boot loaders.
    static let config = """
        [defaults]
        \tbase_features = sparse_super,large_file,filetype,resize_inode,dir_index,ext_attr
        \tdefault_mntopts = acl,user_xattr
        \tblocksize = 4096
        \tinode_size = 256
        \tinode_ratio = 16384
        \treserved_ratio = 5.0
        \tlazy_itable_init = false
        \tlazy_journal_init = false
        \tenable_periodic_fsck = false

        [fs_types]
        \text4 = {
        \t\tfeatures = has_journal,extent,huge_file,flex_bg,metadata_csum,64bit,dir_nlink,extra_isize
        \t}
        \tdefault = {
        \t}

        """

    package func build(_ tree: FileTree, image: URL, size: Int64, options: Ext4Options) throws -> Ext4Image {
        guard size % 4096 == 0 else { throw DiskError.misaligned(what: "ext4 filesystem size", value: size, alignment: 4096) }
        let fm = FileManager.default
        let work = options.workDir.appendingPathComponent("ext4-\(UUID().uuidString.prefix(8))")
        try fm.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? fm.removeItem(at: work) }

        let staging = work.appendingPathComponent("staging")
        try tree.materialize(into: staging)
        try Self.widenModes(tree, staging: staging)

        let conf = work.appendingPathComponent("mke2fs.conf")
        try Data(Self.config.utf8).write(to: conf)
        // A fresh sparse file of the final size: mke2fs uses the whole file.
        if fm.fileExists(atPath: image.path) { try fm.removeItem(at: image) }
        guard fm.createFile(atPath: image.path, contents: nil) else {
            throw DiskError.io(path: image.path, operation: "create", errno: errno)
        }
        let handle = try FileIO(forWritingTo: image)
        try handle.truncate(atOffset: UInt64(size))
        try handle.close()

        let uuid = options.uuid.text(uppercase: false)
        let env = [
            "E2FSPROGS_FAKE_TIME": String(options.epoch), "MKE2FS_CONFIG": conf.path,
            "MKE2FS_SYNC": "0", "LC_ALL": "C",
        ]
        try runner.check(
            [
                "mke2fs", "-F", "-q", "-t", "ext4", "-T", "default", "-b", "4096",
                "-L", String(options.label.prefix(16)), "-U", uuid,
                "-E", "hash_seed=\(uuid),root_owner=0:0,nodiscard",
                "-d", staging.path, image.path,
            ], environment: env)
        try fm.removeItem(at: staging)

        let script = try DebugfsScript.make(tree, valueDir: work)
        let scriptURL = work.appendingPathComponent("fixup.debugfs")
        try Data(script.utf8).write(to: scriptURL)
        let result = try runner.check(["debugfs", "-w", "-f", scriptURL.path, image.path], environment: env)
        // debugfs exits 0 whatever its commands do: any diagnostic besides its banner is a failure.
        let problems = result.stderrString.split(separator: "\n").filter { !$0.hasPrefix("debugfs ") && !$0.isEmpty }
        if !problems.isEmpty {
            throw ProcessError.failed(
                command: ["debugfs", "-w", "-f", scriptURL.path, image.path], status: 0,
                stderr: problems.prefix(8).joined(separator: "\n"))
        }
        return Ext4Image(url: image, size: size, uuid: options.uuid, dataRanges: try SparseFile.dataRanges(image))
    }

    /// A non-root build cannot read a 0000 file or list a 0600 directory it created: give the
    /// owner access in the staging copy (debugfs sets the real modes afterwards).
    static func widenModes(_ tree: FileTree, staging: URL) throws {
        for entry in tree.walk() {
            let need: UInt32
            switch entry.kind {
            case .directory: need = 0o700
            case .regular: need = 0o600
            default: continue
            }
            guard entry.mode & need != need else { continue }
            let path = entry.path.isEmpty ? staging.path : staging.path + "/" + entry.path
            if chmod(path, mode_t(entry.mode | need)) != 0 { throw DiskError.io(path: path, operation: "chmod", errno: errno) }
        }
    }
}

/// The `debugfs` commands that make an `mke2fs -d` image match the tree exactly.
enum DebugfsScript {
    static func make(_ tree: FileTree, valueDir: URL) throws -> String {
        var lines: [String] = []
        var valueCount = 0
        for entry in tree.walk() {
            let path = "/" + entry.path
            try checkName(path)
            let quoted = "\"\(path)\""
            let typeBits: UInt32
            switch entry.kind {
            case .directory: typeBits = 0o040000
            case .regular: typeBits = 0o100000
            case .symlink: typeBits = 0o120000
            case .hardlink: continue  // the target's inode carries the metadata
            case let .characterDevice(major, minor), let .blockDevice(major, minor):
                let isChar: Bool = { if case .characterDevice = entry.kind { return true } else { return false } }()
                typeBits = isChar ? 0o020000 : 0o060000
                let parent = "/" + (entry.path.contains("/") ? String(entry.path[..<entry.path.lastIndex(of: "/")!]) : "")
                let name = String(entry.path.split(separator: "/").last!)
                lines.append("cd \"\(parent)\"")
                lines.append("mknod \"\(name)\" \(isChar ? "c" : "b") \(major) \(minor)")
            case .fifo: typeBits = 0o010000
            }
            lines.append("sif \(quoted) uid \(entry.uid)")
            lines.append("sif \(quoted) gid \(entry.gid)")
            lines.append("sif \(quoted) mode 0\(String(typeBits | entry.mode, radix: 8))")
            for field in ["atime", "mtime", "ctime", "crtime"] {
                lines.append("sif \(quoted) \(field) @\(entry.mtime)")
            }
            for (name, value) in entry.xattrs.sorted(by: { $0.key < $1.key }) {
                guard !name.isEmpty, name.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0 != "\"" }) else {
                    throw DiskError.unsupportedEntry(
                        path: path, filesystem: "ext4 (debugfs)", detail: "xattr name '\(name)' cannot be passed to debugfs")
                }
                let file = valueDir.appendingPathComponent("xattr-\(valueCount)")
                valueCount += 1
                try value.write(to: file)
                lines.append("ea_set -f \"\(file.path)\" \(quoted) \(name)")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// debugfs reads one command per line and splits on blanks outside double quotes.
    static func checkName(_ path: String) throws {
        if path.unicodeScalars.contains(where: { $0.value < 0x20 || $0 == "\"" || $0.value == 0x7F }) {
            throw DiskError.unsupportedEntry(path: path, filesystem: "ext4 (debugfs)", detail: "the name holds a quote or a control character")
        }
    }
}
