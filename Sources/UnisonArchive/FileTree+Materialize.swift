import FoundationEssentials
import Glibc

/// Writing a tree out as real files (for tools that take a directory, such as `mke2fs -d`).
package struct MaterializeOptions: Sendable, Equatable {
    /// chown every entry to its recorded uid/gid (needs root; builds are rootless by default).
    package var applyOwnership: Bool
    /// Create device nodes (needs CAP_MKNOD); when false they are left out.
    package var createDevices: Bool
    /// Set extended attributes; `security.*` and `trusted.*` need root.
    package var applyXattrs: Bool

    package init(applyOwnership: Bool = false, createDevices: Bool = false, applyXattrs: Bool = false) {
        self.applyOwnership = applyOwnership
        self.createDevices = createDevices
        self.applyXattrs = applyXattrs
    }
}

package enum MaterializeError: Error, CustomStringConvertible, Sendable, Equatable {
    case notEmpty(String)
    case failed(path: String, operation: String, errno: Int32)

    package var description: String {
        switch self {
        case let .notEmpty(p): return "'\(p)' must be an empty directory to write a tree into"
        case let .failed(p, op, e): return "cannot \(op) '\(p)': \(String(cString: strerror(e)))"
        }
    }
}

extension FileTree {
    /// Creates every entry of the tree below `root`, which must be empty or absent.
    ///
    /// Nothing is ever written outside `root`: tree paths are normalized and never pass through
    /// a symlink, each parent is a directory created here, files are created with `O_EXCL |
    /// O_NOFOLLOW`, and symlinks are created, never followed. Directory modes and times are
    /// set after their children exist.
    package func materialize(into root: URL, options: MaterializeOptions = MaterializeOptions()) throws {
        let fm = FileManager.default
        if fm.fileExists(atPath: root.path) {
            guard (try? fm.contentsOfDirectory(atPath: root.path))?.isEmpty == true else { throw MaterializeError.notEmpty(root.path) }
        } else {
            try fm.createDirectory(at: root, withIntermediateDirectories: true)
        }
        let contents = ContentReader()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        var directories: [Entry] = []
        func fail(_ path: String, _ op: String) -> MaterializeError { .failed(path: path, operation: op, errno: errno) }

        for entry in orderedForArchive() {
            let path = entry.path.isEmpty ? root.path : root.path + "/" + entry.path
            switch entry.kind {
            case .directory:
                if !entry.path.isEmpty, mkdir(path, 0o700) != 0 { throw fail(path, "create the directory") }
                directories.append(entry)
                continue
            case let .regular(content):
                let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
                if fd < 0 { throw fail(path, "create the file") }
                defer { close(fd) }
                func put(_ chunk: UnsafeRawBufferPointer) throws {
                    var done = 0
                    while done < chunk.count {
                        let n = write(fd, chunk.baseAddress! + done, chunk.count - done)
                        if n < 0 { if errno == EINTR { continue }; throw fail(path, "write") }
                        done += n
                    }
                }
                switch content {
                case let .bytes(data): try data.withUnsafeBytes { try put($0) }
                case let .file(url): try contents.stream(url, offset: 0, length: content.size, buffer: buffer, put)
                case let .range(url, offset, length): try contents.stream(url, offset: offset, length: length, buffer: buffer, put)
                }
            case let .symlink(target):
                if symlink(target, path) != 0 { throw fail(path, "create the symlink") }
            case let .hardlink(target):
                if link(root.path + "/" + target, path) != 0 { throw fail(path, "create the hard link") }
                continue  // shares the target's inode: metadata is the target's
            case let .characterDevice(major, minor), let .blockDevice(major, minor):
                guard options.createDevices else { continue }
                let type: mode_t = entry.kind == .characterDevice(major: major, minor: minor) ? S_IFCHR : S_IFBLK
                if mknod(path, type | 0o600, Self.makedev(major, minor)) != 0 { throw fail(path, "create the device") }
            case .fifo:
                if mkfifo(path, 0o600) != 0 { throw fail(path, "create the fifo") }
            }
            try finishMetadata(entry, path: path, options: options)
        }
        // Deepest directories first, so a read-only parent is restricted last.
        for entry in directories.reversed() {
            try finishMetadata(entry, path: entry.path.isEmpty ? root.path : root.path + "/" + entry.path, options: options)
        }
    }

    private func finishMetadata(_ entry: Entry, path: String, options: MaterializeOptions) throws {
        func fail(_ op: String) -> MaterializeError { .failed(path: path, operation: op, errno: errno) }
        let isSymlink: Bool = { if case .symlink = entry.kind { return true } else { return false } }()
        if options.applyXattrs {
            for (name, value) in entry.xattrs.sorted(by: { $0.key < $1.key }) where XattrCalls.set(path, name, value) != 0 {
                throw fail("set the extended attribute \(name) on")
            }
        }
        if options.applyOwnership, lchown(path, entry.uid, entry.gid) != 0 { throw fail("change the owner of") }
        // chmod after chown: chown clears setuid/setgid bits. Symlinks have no mode of their own.
        if !isSymlink, chmod(path, mode_t(entry.mode)) != 0 { throw fail("set the mode of") }
        var times = [timespec(tv_sec: Int(entry.mtime), tv_nsec: 0), timespec(tv_sec: Int(entry.mtime), tv_nsec: 0)]
        if utimensat(AT_FDCWD, path, &times, AT_SYMLINK_NOFOLLOW) != 0 { throw fail("set the time of") }
    }

    static func makedev(_ major: UInt32, _ minor: UInt32) -> dev_t {
        let ma = dev_t(major), mi = dev_t(minor)
        return ((ma & 0xffff_f000) << 32) | ((ma & 0xfff) << 8) | ((mi & 0xffff_ff00) << 12) | (mi & 0xff)
    }
}
