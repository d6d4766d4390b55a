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
// is a function of the input, level and block size only, never of the thread count, of which
// block finished first, or of how the input was split into writes.
//
// Work is spread as pigz does it: every block is an independent task; the caller's thread
// cuts blocks, then writes finished ones in input order, combining their CRCs.
import CZlib
import Foundation

public final class ParallelGzipSink: ByteSink {
    public static let dictionarySize = 32 * 1024

    // Threads: the caller's thread cuts blocks and writes finished ones in order; `threads`
    // worker threads of our own deflate blocks as they come. No round barrier: a slow block only
    // delays the writer, never the other workers. Own threads rather than libdispatch's pool,
    // which on Linux holds workers back when the machine is busy.
    private let output: ByteSink
    private let level: Int32
    private let blockSize: Int
    /// Blocks submitted and not yet written, oldest first.
    private var inFlight: [BlockTask] = []
    private let maxInFlight: Int
    /// Input not yet cut into a block: `buffer[start...]`.
    private var buffer: [UInt8] = []
    private var start = 0
    /// The 32 KiB of input before the next block: its dictionary.
    private var dictionary: [UInt8] = []
    private var crc: uLong = crc32(0, nil, 0)
    private var length: UInt64 = 0
    private var finished = false
    private let workers: WorkerPool

    /// `level` 1...9 (6 is gzip's default); `threads`: blocks compressed at once (the
    /// active cores by default). The output does not depend on `threads`.
    public init(_ output: ByteSink, level: Int32 = 6, blockSize: Int = 128 * 1024,
                threads: Int = ProcessInfo.processInfo.activeProcessorCount) {
        precondition(blockSize >= Self.dictionarySize, "blocks must hold at least one dictionary")
        self.output = output
        self.level = max(1, min(9, level))
        self.blockSize = blockSize
        // Several blocks per worker, so workers find the next block ready while the writer waits.
        self.maxInFlight = max(1, threads) * 4
        self.workers = WorkerPool(threads: max(1, threads), level: self.level)
        buffer.reserveCapacity(blockSize * 2)
    }

    deinit { workers.shutdown() }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard !finished else { throw StreamError.finished }
        buffer.append(contentsOf: bytes)
        // Strictly more than a block: the stream's last block is cut by finish().
        while buffer.count - start > blockSize {
            try submit(Array(buffer[start..<(start + blockSize)]), final: false)
            start += blockSize
        }
        if start > 0 && start >= buffer.count / 2 {
            buffer.removeFirst(start)
            start = 0
        }
    }

    public func finish() throws {
        guard !finished else { return }
        finished = true
        try submit(Array(buffer[start...]), final: true)
        buffer = []
        while !inFlight.isEmpty { try writeOldest() }
        workers.shutdown()
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

    private var wroteHeader = false

    private func header() -> [UInt8] {
        // XFL: 2 = maximum compression, 4 = fastest (RFC 1952 §2.3.1), 0 otherwise.
        let xfl: UInt8 = level == 9 ? 2 : (level == 1 ? 4 : 0)
        return [0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, xfl, 0x03]
    }

    /// Starts compressing one block; writes the oldest finished ones when too many are open.
    private func submit(_ block: [UInt8], final: Bool) throws {
        if !wroteHeader {
            try output.write(header())
            wroteHeader = true
        }
        let task = BlockTask(input: block, dictionary: dictionary, level: level, final: final)
        dictionary = block.count >= Self.dictionarySize
            ? Array(block.suffix(Self.dictionarySize))
            : Array((dictionary + block).suffix(Self.dictionarySize))
        inFlight.append(task)
        workers.submit(task)
        while inFlight.count > maxInFlight { try writeOldest() }
    }

    private func writeOldest() throws {
        let task = inFlight.removeFirst()
        task.done.wait()
        switch task.result {
        case let .success(compressed):
            try output.write(compressed)
            crc = crc32_combine(crc, task.crc, off_t(task.input.count))
            length &+= UInt64(task.input.count)
        case let .failure(error):
            throw error
        case nil:
            throw CompressionError.codec(format: "gzip", detail: "a block finished without a result")
        }
    }

    /// Worker threads taking blocks in submission order until shut down.
    private final class WorkerPool: @unchecked Sendable {
        private let condition = NSCondition()
        private var queue: [BlockTask] = []
        private var head = 0
        private var stopping = false
        private let level: Int32

        init(threads: Int, level: Int32) {
            self.level = level
            for i in 0..<threads {
                let thread = Thread { [self] in loop() }
                thread.name = "unisonctl-gzip-\(i)"
                thread.start()
            }
        }

        func submit(_ task: BlockTask) {
            condition.lock()
            queue.append(task)
            condition.signal()
            condition.unlock()
        }

        func shutdown() {
            condition.lock()
            stopping = true
            condition.broadcast()
            condition.unlock()
        }

        private func loop() {
            let deflater = Deflater(level: level)
            while true {
                condition.lock()
                while head == queue.count && !stopping { condition.wait() }
                if head == queue.count {
                    condition.unlock()
                    return
                }
                let task = queue[head]
                head += 1
                if head > 64 && head * 2 > queue.count {
                    queue.removeFirst(head)
                    head = 0
                }
                condition.unlock()
                task.run(deflater)
            }
        }
    }

    /// One block's work: input and dictionary in, compressed bytes and CRC out. Written by its
    /// worker before `done` is signalled and read by the writer only after waiting on it.
    private final class BlockTask: @unchecked Sendable {
        let input: [UInt8]
        let dictionary: [UInt8]
        let level: Int32
        let final: Bool
        let done = DispatchSemaphore(value: 0)
        var result: Result<[UInt8], Error>?
        var crc: uLong = 0

        init(input: [UInt8], dictionary: [UInt8], level: Int32, final: Bool) {
            self.input = input
            self.dictionary = dictionary
            self.level = level
            self.final = final
        }

        func run(_ deflater: Deflater) {
            defer { done.signal() }
            input.withUnsafeBytes { block in
                dictionary.withUnsafeBytes { dict in
                    result = Result { try deflater.block(block, dictionary: dict, final: final) }
                    crc = crc32(0, block.baseAddress?.assumingMemoryBound(to: Bytef.self), uInt(block.count))
                }
            }
        }
    }

    /// A raw-deflate stream reused block after block by one worker (`deflateReset` instead of a
    /// fresh `deflateInit2`, which would allocate and zero its tables for every block). A reset
    /// stream behaves exactly like a new one, so the bytes do not change.
    final class Deflater {
        /// On the heap: zlib keeps a pointer back to its z_stream and checks it on every call.
        private let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        private let level: Int32
        private var ready = false

        init(level: Int32) {
            self.level = level
            stream.initialize(to: z_stream())
        }

        deinit {
            if ready { deflateEnd(stream) }
            stream.deinitialize(count: 1)
            stream.deallocate()
        }

        /// Raw deflate of one block: primed with `dictionary`, ended by a sync flush, or
        /// finished (final bit) for the stream's last block.
        func block(_ input: UnsafeRawBufferPointer, dictionary: UnsafeRawBufferPointer, final: Bool) throws -> [UInt8] {
            var rc: Int32
            if ready {
                rc = deflateReset(stream)
            } else {
                // windowBits -15: raw deflate, no zlib header (the gzip wrapper is ours).
                rc = deflateInit2_(stream, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY,
                                   zlibVersion(), Int32(MemoryLayout<z_stream>.size))
                ready = rc == Z_OK
            }
            guard rc == Z_OK else { throw CompressionError.codec(format: "gzip", detail: "deflate init/reset returned \(rc)") }
            if dictionary.count > 0 {
                rc = deflateSetDictionary(stream, dictionary.baseAddress!.assumingMemoryBound(to: Bytef.self), uInt(dictionary.count))
                guard rc == Z_OK else { throw CompressionError.codec(format: "gzip", detail: "deflateSetDictionary returned \(rc)") }
            }
            var out = [UInt8](repeating: 0, count: Int(deflateBound(stream, uLong(input.count))) + 64)
            var produced = 0
            stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
            stream.pointee.avail_in = uInt(input.count)
            let flush = final ? Z_FINISH : Z_SYNC_FLUSH
            while true {
                if produced == out.count { out += [UInt8](repeating: 0, count: max(4096, out.count / 2)) }
                rc = out.withUnsafeMutableBytes { raw -> Int32 in
                    stream.pointee.next_out = raw.baseAddress!.assumingMemoryBound(to: Bytef.self) + produced
                    stream.pointee.avail_out = uInt(raw.count - produced)
                    let r = deflate(stream, flush)
                    produced = raw.count - Int(stream.pointee.avail_out)
                    return r
                }
                guard rc == Z_OK || rc == Z_BUF_ERROR || (final && rc == Z_STREAM_END) else {
                    throw CompressionError.codec(format: "gzip", detail: "deflate returned \(rc)")
                }
                if final {
                    if rc == Z_STREAM_END { break }
                } else if stream.pointee.avail_in == 0 && stream.pointee.avail_out > 0 {
                    // A sync flush is complete when deflate left output space unused.
                    break
                }
            }
            stream.pointee.next_in = nil
            stream.pointee.next_out = nil
            out.removeSubrange(produced...)
            return out
        }
    }
}
