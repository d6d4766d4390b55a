// A gzip writer that uses every core and still produces ONE ordinary gzip member
// (RFC 1952, deflate RFC 1951), the way pigz does:
//
//   +----+----+----+----+----+----+----+----+----+----+
//   | 1f | 8b | 08 | 00 | 00   00   00   00 |XFL | 03 |   header: no name, MTIME 0, OS Unix
//   +----+----+----+----+----+----+----+----+----+----+
//   | deflate(block 0) ... sync flush | deflate(block 1) ... | ... | deflate(last) final |
//   +----+----+----+----+----+----+----+----+
//   |   CRC32 (LE)      |   ISIZE (LE)      |   trailer: crc32_combine of the blocks' CRCs,
//   +----+----+----+----+----+----+----+----+            input length mod 2^32
//
// The input is cut into fixed 128 KiB blocks. Each block is deflated on its own, primed with the
// 32 KiB of input before it as a preset dictionary (so matches may reach back across the cut,
// keeping the ratio close to single-threaded gzip), and ends with a sync flush: a byte-aligned
// empty stored block without the final bit, so the raw deflate pieces concatenate into one
// valid stream. Only the last block is finished (final bit set).
//
// Reproducible: the header has no name and MTIME 0 and a fixed OS byte; blocks are cut at
// fixed offsets of the input and the last block always holds 1...blockSize bytes, so the output
// is a function of the input, level and block size only, never of the thread count or of how
// the input was split into writes.
import CZlib
import Foundation

public final class ParallelGzipSink: ByteSink {
    public static let dictionarySize = 32 * 1024

    private let output: ByteSink
    private let level: Int32
    private let blockSize: Int
    private let threads: Int
    /// Blocks compressed per parallel round.
    private let batchBlocks: Int
    private var pending: [UInt8] = []
    /// The last 32 KiB of input already compressed: the next block's dictionary.
    private var dictionary: [UInt8] = []
    private var crc: uLong = crc32(0, nil, 0)
    private var length: UInt64 = 0
    private var wroteHeader = false
    private var finished = false

    /// `level` 1...9 (6 is gzip's default); `threads` defaults to the active cores.
    public init(_ output: ByteSink, level: Int32 = 6, blockSize: Int = 128 * 1024,
                threads: Int = ProcessInfo.processInfo.activeProcessorCount) {
        precondition(blockSize >= Self.dictionarySize, "blocks must hold at least one dictionary")
        self.output = output
        self.level = max(1, min(9, level))
        self.blockSize = blockSize
        self.threads = max(1, threads)
        self.batchBlocks = max(4, self.threads * 4)
        pending.reserveCapacity(blockSize * batchBlocks + blockSize)
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard !finished else { throw StreamError.finished }
        pending.append(contentsOf: bytes)
        let batchBytes = blockSize * batchBlocks
        // Strictly more than a batch: the stream's last block must be compressed by finish().
        while pending.count > batchBytes {
            try compress(count: batchBytes, final: false)
        }
    }

    public func finish() throws {
        guard !finished else { return }
        finished = true
        try compress(count: pending.count, final: true)
        var trailer = [UInt8](repeating: 0, count: 8)
        let c = UInt32(truncatingIfNeeded: crc)
        let n = UInt32(truncatingIfNeeded: length)
        for i in 0..<4 {
            trailer[i] = UInt8(truncatingIfNeeded: c >> (8 * UInt32(i)))
            trailer[4 + i] = UInt8(truncatingIfNeeded: n >> (8 * UInt32(i)))
        }
        try output.write(trailer)
        try output.finish()
    }

    private func header() -> [UInt8] {
        // XFL: 2 = maximum compression, 4 = fastest (RFC 1952 §2.3.1), 0 otherwise.
        let xfl: UInt8 = level == 9 ? 2 : (level == 1 ? 4 : 0)
        return [0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, xfl, 0x03]
    }

    /// Compresses the first `count` pending bytes as blocks; the last one is final when `final`.
    private func compress(count: Int, final: Bool) throws {
        if !wroteHeader {
            try output.write(header())
            wroteHeader = true
        }
        let blockCount = final ? max(1, (count + blockSize - 1) / blockSize) : count / blockSize
        let results = UnsafeMutableBufferPointer<BlockResult>.allocate(capacity: blockCount)
        results.initialize(repeating: BlockResult())
        defer { results.deinitialize(); results.deallocate() }
        let failure = FailureBox()

        let job = BatchJob(level: level, blockSize: blockSize, count: count, blockCount: blockCount, final: final,
                           workers: min(threads, blockCount), results: results, failure: failure)
        let previous = dictionary
        pending.withUnsafeBytes { (input: UnsafeRawBufferPointer) in
            previous.withUnsafeBytes { (carried: UnsafeRawBufferPointer) in
                let buffers = Buffers(input: input, carried: carried)
                if job.workers <= 1 {
                    job.run(worker: 0, buffers)
                } else {
                    DispatchQueue.concurrentPerform(iterations: job.workers) { job.run(worker: $0, buffers) }
                }
            }
        }
        if let error = failure.error { throw error }
        for result in results {
            try output.write(result.compressed)
            crc = crc32_combine(crc, result.crc, off_t(result.length))
            length &+= UInt64(result.length)
        }
        // Carry the last 32 KiB of input forward as the next block's dictionary.
        let tailStart = max(0, count - Self.dictionarySize)
        if count >= Self.dictionarySize {
            dictionary = Array(pending[tailStart..<count])
        } else {
            dictionary = Array((dictionary + pending[0..<count]).suffix(Self.dictionarySize))
        }
        pending.removeFirst(count)
    }

    /// The input of one round: pending bytes and the dictionary carried from the last round.
    /// Only read while the round runs.
    private struct Buffers: @unchecked Sendable {
        let input: UnsafeRawBufferPointer
        let carried: UnsafeRawBufferPointer
    }

    /// One parallel round. Worker `w` compresses blocks w, w + workers, …; each writes only
    /// its own result slots, so the shared buffer needs no lock.
    private struct BatchJob: @unchecked Sendable {
        let level: Int32
        let blockSize: Int
        let count: Int
        let blockCount: Int
        let final: Bool
        let workers: Int
        let results: UnsafeMutableBufferPointer<BlockResult>
        let failure: FailureBox

        func run(worker: Int, _ buffers: Buffers) {
            var index = worker
            while index < blockCount {
                let start = index * blockSize
                let end = min(count, start + blockSize)
                let block = UnsafeRawBufferPointer(rebasing: buffers.input[start..<end])
                let dict: UnsafeRawBufferPointer = index == 0
                    ? buffers.carried
                    : UnsafeRawBufferPointer(rebasing: buffers.input[max(0, start - ParallelGzipSink.dictionarySize)..<start])
                let isLast = final && index == blockCount - 1
                do {
                    let bytes = try ParallelGzipSink.deflateBlock(block, dictionary: dict, level: level, final: isLast)
                    let check = crc32(0, block.baseAddress?.assumingMemoryBound(to: Bytef.self), uInt(block.count))
                    results[index] = BlockResult(compressed: bytes, crc: check, length: block.count)
                } catch {
                    failure.set(error)
                }
                index += workers
            }
        }
    }

    private struct BlockResult {
        var compressed: [UInt8] = []
        var crc: uLong = 0
        var length = 0
    }

    private final class FailureBox: @unchecked Sendable {
        private let lock = NSLock()
        private(set) var error: Error?
        func set(_ e: Error) { lock.lock(); if error == nil { error = e }; lock.unlock() }
    }

    /// Raw deflate of one block: primed with `dictionary`, ended by a sync flush, or finished
    /// (final bit) for the stream's last block.
    static func deflateBlock(_ input: UnsafeRawBufferPointer, dictionary: UnsafeRawBufferPointer,
                             level: Int32, final: Bool) throws -> [UInt8] {
        var stream = z_stream()
        // windowBits -15: raw deflate, no zlib header (the gzip wrapper is ours).
        var rc = deflateInit2_(&stream, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY,
                               zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard rc == Z_OK else { throw CompressionError.codec(format: "gzip", detail: "deflateInit2 returned \(rc)") }
        defer { deflateEnd(&stream) }
        if dictionary.count > 0 {
            rc = deflateSetDictionary(&stream, dictionary.baseAddress!.assumingMemoryBound(to: Bytef.self), uInt(dictionary.count))
            guard rc == Z_OK else { throw CompressionError.codec(format: "gzip", detail: "deflateSetDictionary returned \(rc)") }
        }
        var out = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(input.count))) + 64)
        var produced = 0
        stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = uInt(input.count)
        let flush = final ? Z_FINISH : Z_SYNC_FLUSH
        while true {
            if produced == out.count { out += [UInt8](repeating: 0, count: max(4096, out.count / 2)) }
            rc = out.withUnsafeMutableBytes { raw -> Int32 in
                stream.next_out = raw.baseAddress!.assumingMemoryBound(to: Bytef.self) + produced
                stream.avail_out = uInt(raw.count - produced)
                let r = deflate(&stream, flush)
                produced = raw.count - Int(stream.avail_out)
                return r
            }
            if final {
                if rc == Z_STREAM_END { break }
                guard rc == Z_OK || rc == Z_BUF_ERROR else {
                    throw CompressionError.codec(format: "gzip", detail: "deflate returned \(rc)")
                }
            } else {
                guard rc == Z_OK || rc == Z_BUF_ERROR else {
                    throw CompressionError.codec(format: "gzip", detail: "deflate returned \(rc)")
                }
                // A sync flush is complete when deflate left output space unused.
                if stream.avail_in == 0 && stream.avail_out > 0 { break }
            }
        }
        out.removeSubrange(produced...)
        return out
    }
}
