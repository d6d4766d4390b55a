import FoundationEssentials
import Glibc
import UnisonCore

/// A directory of this machine used as the installed system's `/`: the real root, or a staging
/// directory (`--root DIR`). Nothing is written outside it: every parent directory is checked
/// to resolve inside the root (a symlink planted in a staging root cannot lead out), files are
/// created with `O_EXCL | O_NOFOLLOW` under a temporary name and renamed into place, with their
/// final mode from the start (an env file is never readable by others, even briefly).
package struct HostRoot: InstallRoot {
    package let root: URL
    private let realRoot: String

    package init(_ root: URL) throws {
        self.root = root.standardizedFileURL
        guard let real = realpath(self.root.path, nil) else {
            throw InstallError.ioFailed(path: root.path, operation: "use as the install root", reason: String(cString: strerror(errno)))
        }
        realRoot = String(cString: real)
        free(real)
    }

    package var label: String { root.path }
    /// Ownership needs root privileges; without them it is recorded in the manifest only.
    package var appliesOwnership: Bool { geteuid() == 0 }
    package var isSystemRoot: Bool { realRoot == "/" }

    /// The host path for an installed path.
    package func hostPath(_ path: String) throws -> String {
        try InstallPlan.checkPath(path)
        return realRoot == "/" ? path : realRoot + path
    }

    /// Checks that the parent of `path` exists and resolves inside the root.
    private func checkedParent(_ path: String) throws -> String {
        let host = try hostPath(path)
        let parent = PathText.parent(host)
        guard let real = realpath(parent, nil) else { throw failure(path, "resolve the parent of") }
        let resolved = String(cString: real)
        free(real)
        if realRoot != "/", resolved != realRoot, !resolved.hasPrefix(realRoot + "/") {
            throw InstallError.escapesRoot(path: path, root: realRoot)
        }
        return resolved + "/" + PathText.lastComponent(host)
    }

    private func failure(_ path: String, _ operation: String, _ code: Int32 = errno) -> InstallError {
        .ioFailed(path: path, operation: operation, reason: String(cString: strerror(code)))
    }

    package func item(at path: String) throws -> RootItem? {
        var st = stat()
        if lstat(try hostPath(path), &st) != 0 {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw failure(path, "inspect")
        }
        let owner = FileOwner(uid: st.st_uid, gid: st.st_gid)
        let mode = UInt32(st.st_mode) & 0o7777
        switch st.st_mode & S_IFMT {
        case S_IFDIR: return RootItem(kind: .directory, mode: mode, owner: owner)
        case S_IFREG: return RootItem(kind: .file, mode: mode, owner: owner)
        case S_IFLNK:
            let target = try FileManager.default.destinationOfSymbolicLink(atPath: try hostPath(path))
            return RootItem(kind: .symlink(target: target), mode: mode, owner: owner)
        default: return RootItem(kind: .other, mode: mode, owner: owner)
        }
    }

    package func contents(of path: String) throws -> Data {
        let host = try checkedParent(path)
        let fd = open(host, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        if fd < 0 { throw failure(path, "read") }
        let handle = FileIO(fileDescriptor: fd, closeOnDealloc: true)
        return try handle.readToEnd() ?? Data()
    }

    package mutating func makeDirectory(_ path: String, mode: UInt32, owner: FileOwner) throws {
        let host = try checkedParent(path)
        if mkdir(host, 0o700) != 0 { throw failure(path, "create the directory") }
        try applyAttributes(host, path: path, mode: mode, owner: owner)
    }

    package mutating func writeFile(_ path: String, _ data: Data, mode: UInt32, owner: FileOwner) throws {
        try replace(path, mode: mode, owner: owner) { fd, host in
            try data.withUnsafeBytes { buffer in
                var done = 0
                while done < buffer.count {
                    let n = Glibc.write(fd, buffer.baseAddress! + done, buffer.count - done)
                    if n < 0 { if errno == EINTR { continue }; throw failure(path, "write") }
                    done += n
                }
            }
        }
    }

    package mutating func copyFile(_ path: String, from source: URL, mode: UInt32, owner: FileOwner) throws {
        guard let input = FileIO(forReadingAtPath: source.path) else { throw InstallError.missingBinary(path: source.path) }
        defer { try? input.close() }
        try replace(path, mode: mode, owner: owner) { fd, _ in
            let out = FileIO(fileDescriptor: fd, closeOnDealloc: false)
            while let chunk = try input.read(upToCount: 1 << 20), !chunk.isEmpty { try out.write(contentsOf: chunk) }
        }
    }

    /// Writes through a temporary name created with the final mode, then renames it over `path`.
    private func replace(_ path: String, mode: UInt32, owner: FileOwner, _ body: (Int32, String) throws -> Void) throws {
        let host = try checkedParent(path)
        let dir = PathText.parent(host)
        let tmp = dir + "/.\(PathText.lastComponent(host)).unisonctl-\(getpid())-\(UUID().uuidString.prefix(8))"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode_t(mode & 0o777 & 0o700))
        if fd < 0 { throw failure(path, "create a temporary file for") }
        do {
            try body(fd, host)
            if appliesOwnership, fchown(fd, owner.uid, owner.gid) != 0 { throw failure(path, "set the owner of") }
            if fchmod(fd, mode_t(mode)) != 0 { throw failure(path, "set the mode of") }
            if fsync(fd) != 0 { throw failure(path, "flush") }
            close(fd)
            if rename(tmp, host) != 0 { throw failure(path, "rename into place") }
        } catch {
            close(fd)
            unlink(tmp)
            throw error
        }
    }

    package mutating func setAttributes(_ path: String, mode: UInt32, owner: FileOwner) throws {
        try applyAttributes(try checkedParent(path), path: path, mode: mode, owner: owner)
    }

    private func applyAttributes(_ host: String, path: String, mode: UInt32, owner: FileOwner) throws {
        if appliesOwnership, lchown(host, owner.uid, owner.gid) != 0 { throw failure(path, "set the owner of") }
        if chmod(host, mode_t(mode)) != 0 { throw failure(path, "set the mode of") }
    }

    package mutating func makeSymlink(_ path: String, target: String) throws {
        let host = try checkedParent(path)
        var st = stat()
        if lstat(host, &st) == 0 {
            guard st.st_mode & S_IFMT == S_IFLNK else { throw InstallError.conflict(path: path, found: "file", wanted: "symlink") }
            unlink(host)
        }
        if symlink(target, host) != 0 { throw failure(path, "create the symlink") }
    }

    package mutating func remove(_ path: String) throws {
        let host = try checkedParent(path)
        var st = stat()
        guard lstat(host, &st) == 0 else { return }
        let ok = st.st_mode & S_IFMT == S_IFDIR ? rmdir(host) == 0 : unlink(host) == 0
        if !ok { throw failure(path, "remove") }
    }

    package mutating func removeTree(_ path: String) throws {
        let host = try checkedParent(path)
        var st = stat()
        guard lstat(host, &st) == 0 else { return }
        do { try FileManager.default.removeItem(atPath: host) } catch {
            throw InstallError.ioFailed(path: path, operation: "remove", reason: ErrorText.describe(error))
        }
    }

    package func list(_ path: String) throws -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: try hostPath(path))) ?? []).sorted()
    }
}
