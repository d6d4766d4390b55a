import FoundationEssentials
import Glibc

/// Walks a `DiskLayout` in fixed-size chunks (a qcow2 cluster, a VMDK grain, a raw write),
/// in ascending order, yielding only chunks that hold a non-zero byte. Chunks no extent touches
/// are never read. File ranges are read with `pread`; each host file is opened once.
package struct LayoutChunker {
    package let layout: DiskLayout
    package let chunkSize: Int
    private var extentIndex = 0
    /// Next chunk to consider within the current extent.
    private var nextChunk: Int64 = 0
    private var files: [URL: Int32] = [:]
    private var buffer: [UInt8]
    /// Bytes of mapped data consumed so far (for progress).
    package private(set) var bytesRead: Int64 = 0

    package init(_ layout: DiskLayout, chunkSize: Int) {
        precondition(chunkSize > 0 && chunkSize % 512 == 0)
        self.layout = layout
        self.chunkSize = chunkSize
        self.buffer = [UInt8](repeating: 0, count: chunkSize)
        if let first = layout.extents.first { nextChunk = first.offset / Int64(chunkSize) }
    }

    /// Closes the host files.
    package mutating func close() {
        for fd in files.values { Glibc.close(fd) }
        files = [:]
    }

    /// The next non-zero chunk: its index (offset / chunkSize) and its bytes (the last chunk of
    /// a disk whose size is not a multiple of the chunk size is zero-padded).
    package mutating func next() throws -> (index: Int64, data: Data)? {
        while let index = try fillNext() {
            let nonZero = buffer.withUnsafeBytes { !ZeroCheck.isZero($0) }
            if nonZero { return (index, Data(buffer)) }
        }
        return nil
    }

    /// Like `next()` but hands out the internal buffer without copying.
    package mutating func nextInPlace(_ body: (Int64, UnsafeRawBufferPointer) throws -> Void) throws -> Bool {
        while let index = try fillNext() {
            let handled = try buffer.withUnsafeBytes { raw -> Bool in
                if ZeroCheck.isZero(raw) { return false }
                try body(index, raw)
                return true
            }
            if handled { return true }
        }
        return false
    }

    /// Fills `buffer` with the next chunk touched by an extent; nil at the end.
    private mutating func fillNext() throws -> Int64? {
        let extents = layout.extents
        let size = Int64(chunkSize)
        while extentIndex < extents.count, extents[extentIndex].end <= nextChunk * size { extentIndex += 1 }
        guard extentIndex < extents.count else { return nil }
        let index = max(nextChunk, extents[extentIndex].offset / size)
        let start = index * size
        let end = start + size
        buffer.withUnsafeMutableBytes { _ = memset($0.baseAddress!, 0, $0.count) }
        var i = extentIndex
        while i < extents.count, extents[i].offset < end {
            let e = extents[i]
            let from = max(start, e.offset), to = min(end, e.end)
            if from < to { try copy(e, range: from..<to, into: Int(from - start)) }
            i += 1
        }
        nextChunk = index + 1
        return index
    }

    private mutating func copy(_ e: DiskLayout.Extent, range: Range<Int64>, into position: Int) throws {
        let count = Int(range.upperBound - range.lowerBound)
        let within = range.lowerBound - e.offset
        bytesRead += Int64(count)
        switch e.source {
        case let .bytes(data):
            data.withUnsafeBytes { src in
                buffer.withUnsafeMutableBytes { dst in
                    _ = memcpy(dst.baseAddress! + position, src.baseAddress! + Int(within), count)
                }
            }
        case let .file(url, offset, _):
            let fd = try descriptor(url)
            var done = 0
            while done < count {
                let n = buffer.withUnsafeMutableBytes { dst in
                    pread(fd, dst.baseAddress! + position + done, count - done, off_t(offset + within) + off_t(done))
                }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw DiskError.io(path: url.path, operation: "read", errno: errno)
                }
                if n == 0 { break }  // past the end of the file: the rest stays zero
                done += n
            }
        }
    }

    private mutating func descriptor(_ url: URL) throws -> Int32 {
        if let fd = files[url] { return fd }
        let fd = open(url.path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw DiskError.io(path: url.path, operation: "open", errno: errno) }
        files[url] = fd
        return fd
    }
}

/// Data regions of a sparse host file (`SEEK_DATA`/`SEEK_HOLE`), so that a mostly empty
/// filesystem image contributes only its written blocks to a layout.
package enum SparseFile {
    /// Linux's whence values (glibc only declares them under _GNU_SOURCE).
    static let seekData: Int32 = 3
    static let seekHole: Int32 = 4

    package static func dataRanges(_ url: URL) throws -> [Range<Int64>] {
        let fd = open(url.path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw DiskError.io(path: url.path, operation: "open", errno: errno) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw DiskError.io(path: url.path, operation: "stat", errno: errno) }
        let size = Int64(st.st_size)
        var ranges: [Range<Int64>] = []
        var position: Int64 = 0
        while position < size {
            let data = lseek(fd, off_t(position), seekData)
            if data < 0 {
                if errno == ENXIO { break }  // only a hole remains
                if errno == EINVAL { return [0..<size] }  // no SEEK_DATA on this filesystem: all data
                throw DiskError.io(path: url.path, operation: "seek in", errno: errno)
            }
            var hole = Int64(lseek(fd, data, seekHole))
            if hole < 0 { hole = size }
            ranges.append(Int64(data)..<hole)
            position = hole
        }
        return ranges
    }
}
