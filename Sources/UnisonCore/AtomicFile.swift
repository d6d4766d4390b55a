import FoundationEssentials
import Glibc

#if canImport(Glibc)
import Glibc
#endif

/// Writes outputs so that an interrupted run never leaves a partial file at the final path:
/// the content goes to a hidden temporary name in the same directory and is renamed into place.
///
/// Files are created with their final mode from the first byte: `write(_:to:permissions:)`
/// creates the temporary file itself with `O_CREAT | O_EXCL | O_NOFOLLOW` and that mode (so a
/// secret is never readable by others, not even while it is written, and a planted symlink
/// is never followed); the closure form does the same before handing the name over whenever
/// the mode gives the group and others nothing (a secret, such as a diag bundle).
package enum AtomicFile {
    /// A temporary path beside `destination` (same directory, so rename is atomic), registered
    /// with `TempPaths` so that SIGINT/SIGTERM removes it.
    package static func temporaryURL(for destination: URL) -> URL {
        let dir = destination.deletingLastPathComponent()
        let url = dir.appendingPathComponent(".\(destination.lastPathComponent).tmp-\(getpid())-\(UUID().uuidString.prefix(8))")
        TempPaths.register(url)
        return url
    }

    /// A temporary file beside `destination`, created now (exclusively, with `mode` exactly)
    /// and registered with `TempPaths` in one step, so a signal never leaves it behind.
    /// Returns its URL and an open read-write descriptor the caller closes.
    package static func createTemporary(for destination: URL, mode: Int = 0o644, exactMode: Bool = false) throws -> (URL, Int32) {
        let dir = destination.deletingLastPathComponent()
        let url = dir.appendingPathComponent(".\(destination.lastPathComponent).tmp-\(getpid())-\(UUID().uuidString.prefix(8))")
        let fd = try TempPaths.createFile(url, mode: mode_t(mode & 0o7777))
        if exactMode, fchmod(fd, mode_t(mode & 0o7777)) != 0 {
            let code = errno
            close(fd)
            unlink(url.path)
            TempPaths.unregister(url)
            throw failure(url, code)
        }
        return (url, fd)
    }

    package static func write(_ data: Data, to destination: URL, permissions: Int? = nil) throws {
        let fm = FileManager.default
        try fm.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
        let (tmp, fd) = try createTemporary(for: destination, mode: permissions ?? 0o644, exactMode: permissions != nil)
        defer { TempPaths.unregister(tmp) }
        do {
            defer { close(fd) }
            do {
                try FileIO(fileDescriptor: fd).write(contentsOf: data)
            } catch FileIOError.system(_, _, let code) {
                throw failure(tmp, code)
            }
            try commit(tmp, to: destination)
        } catch {
            unlink(tmp.path)
            throw error
        }
    }

    /// Runs `body` with a temporary URL, then renames it to `destination`. On error the
    /// temporary file is removed and the destination is left as it was.
    package static func write(to destination: URL, permissions: Int? = nil, _ body: (URL) throws -> Void) throws {
        let fm = FileManager.default
        try fm.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
        // A secret's file is made before the body runs, with its final mode; other bodies
        // create the file themselves (a copy refuses an existing one).
        let tmp: URL
        if let permissions, permissions & 0o077 == 0 {
            let (url, fd) = try createTemporary(for: destination, mode: permissions, exactMode: true)
            close(fd)
            tmp = url
        } else {
            tmp = temporaryURL(for: destination)
        }
        defer { TempPaths.unregister(tmp) }
        do {
            try body(tmp)
            if let permissions {
                try fm.setAttributes([.posixPermissions: permissions], ofItemAtPath: tmp.path)
            }
            try commit(tmp, to: destination)
        } catch {
            try? fm.removeItem(at: tmp)
            throw error
        }
    }

    /// Creates `url` (which must not exist; a symlink there is not followed) with `mode`; with
    /// `exactMode` the umask does not narrow it.
    static func createExclusive(_ url: URL, mode: Int, exactMode: Bool) throws -> Int32 {
        let fd = open(url.path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode_t(mode & 0o7777))
        guard fd >= 0 else { throw failure(url, errno) }
        if exactMode, fchmod(fd, mode_t(mode & 0o7777)) != 0 {
            let code = errno
            close(fd)
            throw failure(url, code)
        }
        return fd
    }

    private static func commit(_ tmp: URL, to destination: URL) throws {
        if rename(tmp.path, destination.path) != 0 { throw failure(destination, errno) }
    }

    private static func failure(_ url: URL, _ code: Int32) -> FileIOError {
        .system(operation: "write", path: url.path, errno: code)
    }
}
