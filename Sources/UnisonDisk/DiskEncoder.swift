import FoundationEssentials
import Glibc
import UnisonCore

/// Container formats a VM disk is written in.
package enum DiskFormat: String, Sendable, CaseIterable, Codable {
    case raw, qcow2, vmdk

    package var fileExtension: String { rawValue }

    /// Parses `qcow2,vmdk,raw` (order kept, duplicates dropped).
    package static func list(_ text: String) -> (formats: [DiskFormat], unknown: [String]) {
        var formats: [DiskFormat] = []
        var unknown: [String] = []
        for part in text.split(separator: ",").map({ $0.trimming(.whitespaces).lowercased() }) where !part.isEmpty {
            if let f = DiskFormat(rawValue: part) {
                if !formats.contains(f) { formats.append(f) }
            } else {
                unknown.append(part)
            }
        }
        return (formats, unknown)
    }
}

/// Writes a `DiskLayout` into one container file in a single pass. `progress` receives the
/// number of layout bytes consumed so far.
package protocol DiskEncoder: Sendable {
    var format: DiskFormat { get }
    func encode(_ layout: DiskLayout, to url: URL, progress: (@Sendable (Int64) -> Void)?) async throws
}

/// An output file written mostly sequentially through a buffer, with positioned writes for
/// the headers and tables that are only known at the end.
final class OutputFile {
    let url: URL
    private let fd: Int32
    private var buffer: [UInt8] = []
    private let bufferLimit = 4 << 20
    /// The offset the next `append` lands at.
    private(set) var position: Int64 = 0

    init(creating url: URL) throws {
        self.url = url
        fd = open(url.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd < 0 { throw DiskError.io(path: url.path, operation: "create", errno: errno) }
        buffer.reserveCapacity(bufferLimit + (1 << 17))
    }

    deinit { Glibc.close(fd) }

    func append(_ bytes: UnsafeRawBufferPointer) throws {
        buffer.append(contentsOf: bytes)
        position += Int64(bytes.count)
        if buffer.count >= bufferLimit { try flush() }
    }

    func append(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try append($0) } }
    func append(_ data: Data) throws { try data.withUnsafeBytes { try append($0) } }

    func appendZeros(_ count: Int) throws {
        guard count > 0 else { return }
        buffer.append(contentsOf: repeatElement(0, count: count))
        position += Int64(count)
        if buffer.count >= bufferLimit { try flush() }
    }

    /// Moves the append position forward without writing (leaves a hole).
    func skip(to offset: Int64) throws {
        try flush()
        precondition(offset >= position)
        position = offset
    }

    func write(_ bytes: [UInt8], at offset: Int64) throws {
        try flush()
        try bytes.withUnsafeBytes { try pwriteAll($0, at: offset) }
    }

    func flush() throws {
        guard !buffer.isEmpty else { return }
        let start = position - Int64(buffer.count)
        try buffer.withUnsafeBytes { try pwriteAll($0, at: start) }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes, sets the file length and syncs.
    func finish(length: Int64? = nil) throws {
        try flush()
        if ftruncate(fd, off_t(length ?? position)) != 0 { throw DiskError.io(path: url.path, operation: "set the length of", errno: errno) }
        if fsync(fd) != 0 { throw DiskError.io(path: url.path, operation: "sync", errno: errno) }
    }

    private func pwriteAll(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws {
        var done = 0
        while done < bytes.count {
            let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset) + off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                throw DiskError.io(path: url.path, operation: "write", errno: errno)
            }
            done += n
        }
    }
}

/// Raw image: the virtual disk byte for byte, written sparse (zero chunks are holes).
package struct RawEncoder: DiskEncoder {
    package var format: DiskFormat { .raw }
    package var chunkSize: Int

    package init(chunkSize: Int = 64 << 10) { self.chunkSize = chunkSize }

    package func encode(_ layout: DiskLayout, to url: URL, progress: (@Sendable (Int64) -> Void)?) async throws {
        let out = try OutputFile(creating: url)
        var chunker = LayoutChunker(layout, chunkSize: chunkSize)
        defer { chunker.close() }
        let size = Int64(chunkSize)
        while try chunker.nextInPlace({ index, bytes in
            let offset = index * size
            let length = Int(min(size, layout.size - offset))
            try out.skip(to: offset)
            try out.append(UnsafeRawBufferPointer(rebasing: bytes[0..<length]))
        }) {
            progress?(chunker.bytesRead)
        }
        try out.finish(length: layout.size)
        progress?(chunker.bytesRead)
    }
}
