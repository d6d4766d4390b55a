import Foundation
import UnisonCore

/// What a staged root holds, read the way the install tests compare runs: every path with its
/// type, mode, size, mtime and content hash, and single modes.
package enum RootFiles {
    /// Every path below `root` with its type, mode, size and mtime (nanoseconds), sorted.
    package static func snapshot(_ root: URL) throws -> [String: String] {
        var out: [String: String] = [:]
        let fm = FileManager.default
        guard let walker = fm.enumerator(atPath: root.path) else { return out }
        while let rel = walker.nextObject() as? String {
            var st = stat()
            lstat(root.path + "/" + rel, &st)
            let mtime = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
            var line = "type=\(st.st_mode & S_IFMT) mode=\(String(st.st_mode & 0o7777, radix: 8)) size=\(st.st_size) mtime=\(mtime) ino=\(st.st_ino)"
            if st.st_mode & S_IFMT == S_IFREG { line += " sha=" + (try SHA256Hex.file(root.appendingPathComponent(rel)).hex) }
            if st.st_mode & S_IFMT == S_IFLNK { line += " -> " + (try fm.destinationOfSymbolicLink(atPath: root.path + "/" + rel)) }
            out[rel] = line
        }
        return out
    }

    /// The permission bits of `root` + `path` (not followed through a link), 0 when it is missing.
    package static func mode(_ root: URL, _ path: String) -> UInt32 {
        var st = stat()
        guard lstat(root.path + path, &st) == 0 else { return 0 }
        return UInt32(st.st_mode & 0o7777)
    }

    /// A stand-in for the unisonctl binary (any executable file will do for the copy).
    package static func fakeBinary(in dir: URL, text: String = "#!/bin/sh\necho fake unisonctl\n") throws -> URL {
        let url = dir.appendingPathComponent("unisonctl-src")
        try Data(text.utf8).write(to: url)
        chmod(url.path, 0o755)
        return url
    }
}
