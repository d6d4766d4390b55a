import CLzma
import CZlib
import CZstd
import FoundationEssentials

/// Stream compressions an archive may use, recognized by their magic numbers:
/// gzip RFC 1952 (`1f 8b`), zstd RFC 8878 (`28 b5 2f fd`), xz (`fd 37 7a 58 5a 00`).
package enum ArchiveCompression: String, Sendable, CaseIterable {
    case none, gzip, zstd, xz

    /// From the first bytes of a file; nil for a format we do not read (bzip2, lz4, …).
    package static func sniff(_ head: [UInt8]) -> ArchiveCompression? {
        if head.starts(with: [0x1f, 0x8b]) { return .gzip }
        if head.starts(with: [0x28, 0xb5, 0x2f, 0xfd]) { return .zstd }
        if head.starts(with: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]) { return .xz }
        if head.starts(with: Array("BZh".utf8)) || head.starts(with: [0x04, 0x22, 0x4d, 0x18]) { return nil }
        return ArchiveCompression.none
    }

    /// From an output name: `.tar.gz`/`.tgz`/`.wsl` gzip, `.tar.zst` zstd, `.tar.xz` xz, else none.
    package static func forFileName(_ name: String) -> ArchiveCompression {
        let lower = name.lowercased()
        if lower.hasSuffix(".gz") || lower.hasSuffix(".tgz") || lower.hasSuffix(".wsl") { return .gzip }
        if lower.hasSuffix(".zst") || lower.hasSuffix(".tzst") { return .zstd }
        if lower.hasSuffix(".xz") || lower.hasSuffix(".txz") { return .xz }
        return .none
    }

    /// Sniffs the file's compression.
    package static func detect(_ url: URL) throws -> ArchiveCompression {
        let source = try FileSource(url)
        let head = [UInt8](try source.readFully(8))
        guard let kind = sniff(head) else { throw CompressionError.unsupportedFormat(path: url.path) }
        return kind
    }

    /// Opens `url` for reading, decompressing as its magic number says.
    package static func openDecompressing(_ url: URL) throws -> ByteSource {
        let kind = try detect(url)
        let file = try FileSource(url)
        switch kind {
        case .none: return file
        case .gzip: return try GzipSource(file)
        case .zstd: return try ZstdSource(file)
        case .xz: return try XzSource(file)
        }
    }
}

package enum CompressionError: Error, CustomStringConvertible, Sendable, Equatable {
    case unsupportedFormat(path: String)
    case corrupt(format: String, path: String, offset: Int64, detail: String)
    case truncated(format: String, path: String)
    case codec(format: String, detail: String)
    case notWritable(format: String)

    package var description: String {
        switch self {
        case let .unsupportedFormat(p):
            return "'\(p)' is compressed with a format unisonctl does not read (use .tar, .tar.gz, .tar.zst or .tar.xz)"
        case let .corrupt(f, p, o, d): return "'\(p)' is not valid \(f) data (compressed offset \(o)): \(d)"
        case let .truncated(f, p): return "'\(p)' ends in the middle of its \(f) stream"
        case let .codec(f, d): return "\(f) failed: \(d)"
        case let .notWritable(f): return "unisonctl does not write \(f) archives (use .tar, .tar.gz or .tar.zst)"
        }
    }
}

// MARK: - gzip (zlib inflate)

/// Decompresses gzip, including multi-member files (pigz, concatenations).
package final class GzipSource: ByteSource {
    private let input: FileSource
    /// On the heap: zlib keeps a pointer back to its z_stream and checks it on every call.
    private let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
    private let inBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
    private var inputEnded = false
    private var ended = false
    private var inputConsumed: Int64 = 0

    package init(_ input: FileSource) throws {
        self.input = input
        stream.initialize(to: z_stream())
        // 15 + 16: a gzip wrapper is required (RFC 1952).
        let rc = inflateInit2_(stream, 15 + 16, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard rc == Z_OK else { throw CompressionError.codec(format: "gzip", detail: "inflateInit2 returned \(rc)") }
    }

    deinit {
        inflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
        inBuffer.deallocate()
    }

    package func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard !ended, buffer.count > 0 else { return 0 }
        stream.pointee.next_out = buffer.baseAddress!.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_out = uInt(min(buffer.count, Int(UInt32.max)))
        while stream.pointee.avail_out > 0 {
            if stream.pointee.avail_in == 0 && !inputEnded {
                let n = try input.read(into: inBuffer)
                if n == 0 {
                    inputEnded = true
                } else {
                    stream.pointee.next_in = inBuffer.baseAddress!.assumingMemoryBound(to: Bytef.self)
                    stream.pointee.avail_in = uInt(n)
                }
            }
            if stream.pointee.avail_in == 0 && inputEnded {
                throw CompressionError.truncated(format: "gzip", path: input.path)
            }
            let before = stream.pointee.avail_in
            let rc = inflate(stream, Z_NO_FLUSH)
            inputConsumed += Int64(before - stream.pointee.avail_in)
            if rc == Z_STREAM_END {
                // Another member may follow; trailing zero padding ends the stream.
                if stream.pointee.avail_in == 0 {
                    let n = try input.read(into: inBuffer)
                    if n == 0 { ended = true; break }
                    stream.pointee.next_in = inBuffer.baseAddress!.assumingMemoryBound(to: Bytef.self)
                    stream.pointee.avail_in = uInt(n)
                }
                if stream.pointee.next_in.pointee == 0 {
                    ended = true
                    break
                }
                inflateReset(stream)
                continue
            }
            guard rc == Z_OK || rc == Z_BUF_ERROR else {
                let msg = stream.pointee.msg.map { String(cString: $0) } ?? "error \(rc)"
                throw CompressionError.corrupt(format: "gzip", path: input.path, offset: inputConsumed, detail: msg)
            }
        }
        return buffer.count - Int(stream.pointee.avail_out)
    }
}

// MARK: - zstd

/// Decompresses zstd frames (concatenated frames included).
package final class ZstdSource: ByteSource {
    private let input: FileSource
    private let context: OpaquePointer
    private let inBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
    private var inPos = 0
    private var inSize = 0
    private var inputEnded = false
    /// ZSTD_decompressStream's hint: 0 when a frame just ended.
    private var lastHint = 1
    private var consumed: Int64 = 0

    package init(_ input: FileSource) throws {
        self.input = input
        guard let ctx = ZSTD_createDCtx() else { throw CompressionError.codec(format: "zstd", detail: "cannot allocate a context") }
        context = ctx
    }

    deinit {
        ZSTD_freeDCtx(context)
        inBuffer.deallocate()
    }

    package func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard buffer.count > 0 else { return 0 }
        var out = ZSTD_outBuffer(dst: buffer.baseAddress, size: buffer.count, pos: 0)
        while out.pos == 0 {
            if inPos == inSize && !inputEnded {
                inSize = try input.read(into: inBuffer)
                inPos = 0
                if inSize == 0 { inputEnded = true }
            }
            if inPos == inSize && inputEnded {
                if lastHint != 0 { throw CompressionError.truncated(format: "zstd", path: input.path) }
                return 0
            }
            var inb = ZSTD_inBuffer(src: inBuffer.baseAddress, size: inSize, pos: inPos)
            let rc = ZSTD_decompressStream(context, &out, &inb)
            consumed += Int64(inb.pos - inPos)
            inPos = inb.pos
            if ZSTD_isError(rc) != 0 {
                throw CompressionError.corrupt(
                    format: "zstd", path: input.path, offset: consumed,
                    detail: String(cString: ZSTD_getErrorName(rc)))
            }
            lastHint = rc
        }
        return out.pos
    }
}

/// Compresses to one zstd frame, with libzstd's worker threads.
///
/// Always multi-threaded (at least one worker) and always fed incrementally: libzstd's output
/// in that mode does not depend on the number of workers, so archives are the same bytes on
/// any machine.
package final class ZstdSink: ByteSink {
    private let output: ByteSink
    private let context: OpaquePointer
    private let outBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
    private var finished = false

    package init(_ output: ByteSink, level: Int32 = 3, workers: Int = ProcessInfo.processInfo.activeProcessorCount) throws {
        self.output = output
        guard let ctx = ZSTD_createCCtx() else { throw CompressionError.codec(format: "zstd", detail: "cannot allocate a context") }
        context = ctx
        for (param, value) in [
            (ZSTD_c_compressionLevel, level), (ZSTD_c_checksumFlag, 1),
            (ZSTD_c_nbWorkers, Int32(max(1, workers))),
        ] {
            let rc = ZSTD_CCtx_setParameter(ctx, param, value)
            if ZSTD_isError(rc) != 0 {
                ZSTD_freeCCtx(ctx)
                throw CompressionError.codec(format: "zstd", detail: String(cString: ZSTD_getErrorName(rc)))
            }
        }
    }

    deinit {
        ZSTD_freeCCtx(context)
        outBuffer.deallocate()
    }

    package func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard !finished else { throw StreamError.finished }
        guard bytes.count > 0 else { return }
        var inb = ZSTD_inBuffer(src: bytes.baseAddress, size: bytes.count, pos: 0)
        while inb.pos < inb.size {
            try step(&inb, ZSTD_e_continue)
        }
    }

    @discardableResult
    private func step(_ inb: inout ZSTD_inBuffer, _ directive: ZSTD_EndDirective) throws -> Int {
        var out = ZSTD_outBuffer(dst: outBuffer.baseAddress, size: outBuffer.count, pos: 0)
        let rc = ZSTD_compressStream2(context, &out, &inb, directive)
        if ZSTD_isError(rc) != 0 {
            throw CompressionError.codec(format: "zstd", detail: String(cString: ZSTD_getErrorName(rc)))
        }
        if out.pos > 0 { try output.write(UnsafeRawBufferPointer(rebasing: outBuffer[0..<out.pos])) }
        return rc
    }

    package func finish() throws {
        guard !finished else { return }
        finished = true
        var inb = ZSTD_inBuffer(src: nil, size: 0, pos: 0)
        while try step(&inb, ZSTD_e_end) != 0 {}
        try output.finish()
    }
}

// MARK: - xz (liblzma)

/// Decompresses xz (concatenated streams included).
package final class XzSource: ByteSource {
    private let input: FileSource
    private var stream = lzma_stream()
    private let inBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
    private var inputEnded = false
    private var ended = false

    package init(_ input: FileSource) throws {
        self.input = input
        // LZMA_CONCATENATED (0x08, a macro Swift does not import): decode every stream of the file.
        let rc = lzma_stream_decoder(&stream, UInt64.max, 0x08)
        guard rc == LZMA_OK else { throw CompressionError.codec(format: "xz", detail: "decoder init returned \(rc.rawValue)") }
    }

    deinit {
        lzma_end(&stream)
        inBuffer.deallocate()
    }

    package func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard !ended, buffer.count > 0 else { return 0 }
        stream.next_out = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
        stream.avail_out = buffer.count
        while stream.avail_out > 0 {
            if stream.avail_in == 0 && !inputEnded {
                let n = try input.read(into: inBuffer)
                if n == 0 {
                    inputEnded = true
                } else {
                    stream.next_in = UnsafePointer(inBuffer.baseAddress!.assumingMemoryBound(to: UInt8.self))
                    stream.avail_in = n
                }
            }
            let rc = lzma_code(&stream, inputEnded ? LZMA_FINISH : LZMA_RUN)
            if rc == LZMA_STREAM_END { ended = true; break }
            if rc == LZMA_BUF_ERROR && inputEnded { throw CompressionError.truncated(format: "xz", path: input.path) }
            guard rc == LZMA_OK || rc == LZMA_BUF_ERROR else {
                throw CompressionError.corrupt(
                    format: "xz", path: input.path, offset: Int64(stream.total_in),
                    detail: "liblzma error \(rc.rawValue)")
            }
        }
        return buffer.count - stream.avail_out
    }
}
