import FoundationEssentials
import Glibc

/// Where archive bytes are read from: a file, or a decompressor wrapped around one.
///
/// Classes rather than structs: a stream owns a file descriptor or a codec state that must not
/// be copied. Each stream is used by one thread at a time.
package protocol ByteSource: AnyObject {
    /// Reads up to `buffer.count` bytes; returns 0 only at the end of the stream.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

/// Where archive bytes are written to: a file, or a compressor in front of one.
package protocol ByteSink: AnyObject {
    func write(_ bytes: UnsafeRawBufferPointer) throws
    /// Flushes everything and writes trailers. The sink is unusable afterwards.
    func finish() throws
}

extension ByteSink {
    package func write(_ data: Data) throws {
        try data.withUnsafeBytes { try write($0) }
    }

    package func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }
}

extension ByteSource {
    /// Reads exactly `count` bytes, or fewer only at the end of the stream.
    package func readFully(_ count: Int) throws -> Data {
        // Grows as bytes arrive instead of allocating `count` up front: a size read from
        // hostile input must not turn into a huge allocation before the stream runs dry.
        let step = 1 << 20
        var out = Data(count: min(max(0, count), step))
        var filled = 0
        while filled < count {
            if filled == out.count { out.count = min(count, out.count + max(step, out.count)) }
            let n = try out.withUnsafeMutableBytes { raw in
                try read(into: UnsafeMutableRawBufferPointer(rebasing: raw[filled...]))
            }
            if n == 0 { break }
            filled += n
        }
        if filled < out.count { out.removeSubrange(filled...) }
        return out
    }

    /// Copies the rest of the stream into `sink`; returns the number of bytes copied.
    @discardableResult
    package func copy(to sink: ByteSink, chunk: Int = 1 << 20) throws -> Int64 {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 16)
        defer { buffer.deallocate() }
        var total: Int64 = 0
        while true {
            let n = try read(into: buffer)
            if n == 0 { return total }
            try sink.write(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            total += Int64(n)
        }
    }
}

/// I/O failures with the path and what was being done.
package enum StreamError: Error, CustomStringConvertible, Sendable, Equatable {
    case open(path: String, errno: Int32)
    case read(path: String, errno: Int32)
    case write(path: String, errno: Int32)
    case seek(path: String, offset: Int64, errno: Int32)
    case shortRead(path: String, offset: Int64, wanted: Int64)
    case finished

    package var description: String {
        switch self {
        case let .open(p, e): return "cannot open '\(p)': \(String(cString: strerror(e)))"
        case let .read(p, e): return "cannot read '\(p)': \(String(cString: strerror(e)))"
        case let .write(p, e): return "cannot write '\(p)': \(String(cString: strerror(e)))"
        case let .seek(p, o, e): return "cannot seek '\(p)' to offset \(o): \(String(cString: strerror(e)))"
        case let .shortRead(p, o, w): return "'\(p)' ended before offset \(o + w) (wanted \(w) bytes at \(o))"
        case .finished: return "write after the stream was finished"
        }
    }
}

/// A file read sequentially through a file descriptor; can skip forward by seeking.
package final class FileSource: ByteSource {
    package let path: String
    private let fd: Int32
    /// Bytes consumed so far: the offset of the next byte `read` returns.
    package private(set) var position: Int64 = 0

    package init(_ url: URL) throws {
        path = url.path
        fd = open(url.path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw StreamError.open(path: url.path, errno: errno) }
    }

    deinit { close(fd) }

    package func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        while true {
            let n = Glibc.read(fd, base, buffer.count)
            if n < 0 {
                if errno == EINTR { continue }
                throw StreamError.read(path: path, errno: errno)
            }
            position += Int64(n)
            return n
        }
    }

    /// The file's current size.
    package func size() throws -> Int64 {
        var st = stat()
        if fstat(fd, &st) != 0 { throw StreamError.read(path: path, errno: errno) }
        return Int64(st.st_size)
    }

    package func seek(to offset: Int64) throws {
        if lseek(fd, off_t(offset), SEEK_SET) < 0 { throw StreamError.seek(path: path, offset: offset, errno: errno) }
        position = offset
    }
}

/// A file written through a file descriptor with a 1 MiB buffer.
package final class FileSink: ByteSink {
    package let path: String
    private let fd: Int32
    private var buffer: [UInt8] = []
    private let capacity = 1 << 20
    private var closed = false
    /// Bytes written so far (buffered ones included).
    package private(set) var count: Int64 = 0

    /// Creates or truncates `url` with mode 0644.
    package init(_ url: URL) throws {
        path = url.path
        fd = open(url.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd < 0 { throw StreamError.open(path: url.path, errno: errno) }
        buffer.reserveCapacity(capacity)
    }

    deinit { if !closed { close(fd) } }

    package func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard !closed else { throw StreamError.finished }
        count += Int64(bytes.count)
        if buffer.count + bytes.count <= capacity {
            buffer.append(contentsOf: bytes)
            return
        }
        try flush()
        if bytes.count >= capacity { try writeAll(bytes) } else { buffer.append(contentsOf: bytes) }
    }

    private func flush() throws {
        guard !buffer.isEmpty else { return }
        try buffer.withUnsafeBytes { try writeAll($0) }
        buffer.removeAll(keepingCapacity: true)
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw StreamError.write(path: path, errno: errno)
            }
            offset += n
        }
    }

    package func finish() throws {
        guard !closed else { return }
        try flush()
        closed = true
        if close(fd) != 0 { throw StreamError.write(path: path, errno: errno) }
    }
}

/// Collects everything written, for tests and small archives.
package final class DataSink: ByteSink {
    package private(set) var data = Data()
    package init() {}
    package func write(_ bytes: UnsafeRawBufferPointer) throws { data.append(contentsOf: bytes) }
    package func finish() throws {}
}

/// Reads from bytes in memory.
package final class DataSource: ByteSource {
    private let data: Data
    private var offset = 0
    package init(_ data: Data) { self.data = data }
    package func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = min(buffer.count, data.count - offset)
        guard n > 0 else { return 0 }
        data.withUnsafeBytes { src in
            buffer.baseAddress!.copyMemory(from: src.baseAddress! + offset, byteCount: n)
        }
        offset += n
        return n
    }
}

/// Positional reads from files referenced by a `FileTree` (`.file` and `.range` contents),
/// keeping each file open once while an archive is written.
final class ContentReader {
    private var descriptors: [String: Int32] = [:]

    deinit { for fd in descriptors.values { close(fd) } }

    private func descriptor(for url: URL) throws -> Int32 {
        if let fd = descriptors[url.path] { return fd }
        let fd = open(url.path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw StreamError.open(path: url.path, errno: errno) }
        if descriptors.count > 64 { for old in descriptors.values { close(old) }; descriptors.removeAll() }
        descriptors[url.path] = fd
        return fd
    }

    /// Streams `length` bytes at `offset` of `url` into `body`, in chunks of at most 1 MiB.
    func stream(
        _ url: URL, offset: Int64, length: Int64, buffer: UnsafeMutableRawBufferPointer,
        _ body: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        let fd = try descriptor(for: url)
        var done: Int64 = 0
        while done < length {
            let want = Int(min(Int64(buffer.count), length - done))
            let n = pread(fd, buffer.baseAddress!, want, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw StreamError.read(path: url.path, errno: errno)
            }
            if n == 0 { throw StreamError.shortRead(path: url.path, offset: offset, wanted: length) }
            try body(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            done += Int64(n)
        }
    }
}
