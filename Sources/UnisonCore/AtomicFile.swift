import Foundation

/// Writes outputs so that an interrupted run never leaves a partial file at the final path:
/// the content goes to a hidden temporary name in the same directory and is renamed into place.
public enum AtomicFile {
    /// A temporary path beside `destination` (same directory, so rename is atomic).
    public static func temporaryURL(for destination: URL) -> URL {
        let dir = destination.deletingLastPathComponent()
        return dir.appendingPathComponent(".\(destination.lastPathComponent).tmp-\(getpid())-\(UUID().uuidString.prefix(8))")
    }

    public static func write(_ data: Data, to destination: URL, permissions: Int? = nil) throws {
        try write(to: destination, permissions: permissions) { tmp in
            try data.write(to: tmp)
        }
    }

    /// Runs `body` with a temporary URL, then renames it to `destination`. On error the
    /// temporary file is removed and the destination is left as it was.
    public static func write(to destination: URL, permissions: Int? = nil, _ body: (URL) throws -> Void) throws {
        let fm = FileManager.default
        try fm.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
        let tmp = temporaryURL(for: destination)
        do {
            try body(tmp)
            if let permissions {
                try fm.setAttributes([.posixPermissions: permissions], ofItemAtPath: tmp.path)
            }
            if rename(tmp.path, destination.path) != 0 {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: destination.path,
                                                               NSLocalizedDescriptionKey: String(cString: strerror(errno))])
            }
        } catch {
            try? fm.removeItem(at: tmp)
            throw error
        }
    }
}
