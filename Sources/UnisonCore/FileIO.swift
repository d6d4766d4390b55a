import FoundationEssentials
import Glibc

/// An open file descriptor with the reading and writing calls the project needs, in place of full
/// Foundation's `FileIO` (whose use links CoreFoundation and ICU; docs/performance.md). The
/// method names follow FileIO's so the call sites read the same. Not thread-safe: one owner.
package final class FileIO: @unchecked Sendable {
    package let fileDescriptor: Int32
    private let ownsDescriptor: Bool
    private var closed = false

    /// Wraps `fd`; with `closeOnDealloc` the descriptor is closed when this object goes away.
    package init(fileDescriptor fd: Int32, closeOnDealloc: Bool = false) {
        self.fileDescriptor = fd
        self.ownsDescriptor = closeOnDealloc
    }

    deinit { if ownsDescriptor && !closed { Glibc.close(fileDescriptor) } }

    package convenience init(forReadingFrom url: URL) throws {
        try self.init(path: url.path, flags: O_RDONLY)
    }

    /// Opens an existing file for writing at offset 0, without truncating it (FileIO's rule).
    package convenience init(forWritingTo url: URL) throws {
        try self.init(path: url.path, flags: O_WRONLY)
    }

    package convenience init?(forReadingAtPath path: String) {
        try? self.init(path: path, flags: O_RDONLY)
    }

    private convenience init(path: String, flags: Int32) throws {
        let fd = Glibc.open(path, flags | O_CLOEXEC)
        guard fd >= 0 else { throw FileIOError.system(operation: "open", path: path, errno: errno) }
        self.init(fileDescriptor: fd, closeOnDealloc: true)
    }

    package static let standardInput = FileIO(fileDescriptor: STDIN_FILENO)
    package static let standardOutput = FileIO(fileDescriptor: STDOUT_FILENO)
    package static let standardError = FileIO(fileDescriptor: STDERR_FILENO)

    /// Up to `count` bytes; nil at the end of the file.
    package func read(upToCount count: Int) throws -> Data? {
        guard count > 0 else { return Data() }
        var buffer = Data(count: count)
        var filled = 0
        while filled < count {
            let n = buffer.withUnsafeMutableBytes { raw in
                Glibc.read(fileDescriptor, raw.baseAddress! + filled, count - filled)
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileIOError.system(operation: "read", path: nil, errno: errno)
            }
            if n == 0 { break }
            filled += n
        }
        guard filled > 0 else { return nil }
        buffer.count = filled
        return buffer
    }

    /// Everything from the current offset to the end; nil when nothing is left.
    package func readToEnd() throws -> Data? {
        var out = Data()
        while let chunk = try read(upToCount: 1 << 20) { out.append(chunk) }
        return out.isEmpty ? nil : out
    }

    package func readDataToEndOfFile() -> Data { (try? readToEnd()) ?? Data() }

    /// Writes all of `data`, retrying short writes.
    package func write(contentsOf data: some DataProtocol) throws {
        for region in data.regions {
            try region.withUnsafeBytes { raw in
                var done = 0
                while done < raw.count {
                    let n = Glibc.write(fileDescriptor, raw.baseAddress! + done, raw.count - done)
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw FileIOError.system(operation: "write", path: nil, errno: errno)
                    }
                    done += n
                }
            }
        }
    }

    /// Writes a string's UTF-8 bytes; errors are dropped (for diagnostics on stderr).
    package func write(_ text: String) {
        try? write(contentsOf: Array(text.utf8))
    }

    package func seek(toOffset offset: UInt64) throws {
        guard lseek(fileDescriptor, off_t(offset), SEEK_SET) >= 0 else {
            throw FileIOError.system(operation: "seek", path: nil, errno: errno)
        }
    }

    @discardableResult
    package func seekToEnd() throws -> UInt64 {
        let end = lseek(fileDescriptor, 0, SEEK_END)
        guard end >= 0 else { throw FileIOError.system(operation: "seek", path: nil, errno: errno) }
        return UInt64(end)
    }

    package func offset() throws -> UInt64 {
        let at = lseek(fileDescriptor, 0, SEEK_CUR)
        guard at >= 0 else { throw FileIOError.system(operation: "seek", path: nil, errno: errno) }
        return UInt64(at)
    }

    package func truncate(atOffset offset: UInt64) throws {
        guard ftruncate(fileDescriptor, off_t(offset)) == 0 else {
            throw FileIOError.system(operation: "truncate", path: nil, errno: errno)
        }
        try seek(toOffset: offset)
    }

    package func synchronize() throws {
        guard fsync(fileDescriptor) == 0 else { throw FileIOError.system(operation: "fsync", path: nil, errno: errno) }
    }

    package func close() throws {
        guard !closed else { return }
        closed = true
        guard Glibc.close(fileDescriptor) == 0 else {
            throw FileIOError.system(operation: "close", path: nil, errno: errno)
        }
    }
}

package enum FileIOError: Error, CustomStringConvertible, Equatable {
    case system(operation: String, path: String?, errno: Int32)

    package var description: String {
        switch self {
        case .system(let operation, let path, let code):
            let reason = String(cString: strerror(code))
            return path.map { "\(operation) \($0): \(reason)" } ?? "\(operation): \(reason)"
        }
    }
}
