// A gzip writer that uses every core, the way pigz does, with libdeflate doing the deflating.
// The file is a sequence of ordinary gzip members (RFC 1952 §2.2: "a gzip file consists of a
// series of members"), one per fixed-size block of the input:
//
//   +----+----+----+----+----+----+----+----+----+----+
//   | 1f | 8b | 08 | 00 | 00   00   00   00 |XFL | 03 |   header: no name, MTIME 0, OS Unix
//   +----+----+----+----+----+----+----+----+----+----+
//   | raw deflate of the block (libdeflate, whole buffer, final block set)  ...  |
//   +----+----+----+----+----+----+----+----+
//   |   CRC32 (LE)      |   ISIZE (LE)      |   trailer: the block's CRC and length
//   +----+----+----+----+----+----+----+----+
//   ... the next member, and so on; an empty input is one member holding an empty block.
//
// gzip, pigz, zlib (inflate with auto-detected multi-member handling in its callers), GNU tar,
// bsdtar, busybox and our GzipSource read such files as one stream. libdeflate compresses whole
// buffers only (no preset dictionary, no sync flush), so blocks are independent members; at
// 1 MiB a block loses next to nothing to the cut, and libdeflate's parser more than makes up
// for it (smaller than zlib's at the same level).
//
// Reproducible: every header has no name and MTIME 0 and a fixed OS byte; blocks are cut at
// fixed offsets of the input and the last block always holds 1...blockSize bytes (0 only for an
// empty input), and libdeflate's output is a function of its input and level. So the file is a
// function of the input, level and block size only, never of the thread count, of which block
// finished first, or of how the input was split into writes. A full block of zeros (disk
// images are mostly zeros) is compressed once per level and block size and reused.
import CLibdeflate
import Dispatch
import FoundationEssentials
import UnisonCore

package final class ParallelGzipSink: ByteSink {
    package static let defaultBlockSize = 1 << 20

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
    private var finished = false
    private let workers: WorkerPool

    /// `level` 1...12 (libdeflate's scale; 6 is gzip's default and compresses at least as well
    /// as `gzip -6`); `threads`: blocks compressed at once (the active cores by default). The
    /// output does not depend on `threads`.
    package init(
        _ output: ByteSink, level: Int32 = 6, blockSize: Int = ParallelGzipSink.defaultBlockSize,
        threads: Int = ProcessInfo.processInfo.activeProcessorCount
    ) {
        precondition(blockSize >= 4096, "blocks must hold at least 4 KiB")
        self.output = output
        self.level = max(1, min(12, level))
        self.blockSize = blockSize
        // Two blocks per worker, so workers find the next block ready while the writer waits.
        self.maxInFlight = max(1, threads) * 2
        self.workers = WorkerPool(threads: max(1, threads), level: self.level)
        buffer.reserveCapacity(blockSize * 2)
    }

    deinit { workers.shutdown() }

    package func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard !finished else { throw StreamError.finished }
        buffer.append(contentsOf: bytes)
        // Strictly more than a block: the stream's last block is cut by finish().
        while buffer.count - start > blockSize {
            try submit(Array(buffer[start..<(start + blockSize)]))
            start += blockSize
        }
        if start > 0 && start >= buffer.count / 2 {
            buffer.removeFirst(start)
            start = 0
        }
    }

    package func finish() throws {
        guard !finished else { return }
        finished = true
        try submit(Array(buffer[start...]))
        buffer = []
        while !inFlight.isEmpty { try writeOldest() }
        workers.shutdown()
        try output.finish()
    }

    /// Starts compressing one block; writes the oldest finished ones when too many are open.
    private func submit(_ block: [UInt8]) throws {
        let task = BlockTask(input: block, zeroKey: block.count == blockSize ? ZeroMembers.Key(level: level, size: blockSize) : nil)
        inFlight.append(task)
        workers.submit(task)
        while inFlight.count > maxInFlight { try writeOldest() }
    }

    private func writeOldest() throws {
        let task = inFlight.removeFirst()
        task.done.wait()
        switch task.result {
        case let .success(member): try output.write(member)
        case let .failure(error): throw error
        case nil: throw CompressionError.codec(format: "gzip", detail: "a block finished without a result")
        }
    }

    /// One gzip member holding `input`, deflated by `compressor` at `level`.
    static func member(_ input: UnsafeRawBufferPointer, compressor: OpaquePointer, level: Int32) throws -> [UInt8] {
        // XFL: 2 = maximum compression, 4 = fastest (RFC 1952 §2.3.1), 0 otherwise.
        let xfl: UInt8 = level >= 9 ? 2 : (level == 1 ? 4 : 0)
        let header: [UInt8] = [0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, xfl, 0x03]
        let bound = libdeflate_deflate_compress_bound(compressor, input.count)
        var out = [UInt8](repeating: 0, count: header.count + bound + 8)
        let produced = out.withUnsafeMutableBytes { raw -> Int in
            for (i, b) in header.enumerated() { raw[i] = b }
            return libdeflate_deflate_compress(
                compressor, input.baseAddress ?? UnsafeRawPointer(raw.baseAddress!), input.count,
                raw.baseAddress! + header.count, bound)
        }
        // The bound is libdeflate's own worst case, so 0 ("did not fit") cannot happen.
        guard produced > 0 else { throw CompressionError.codec(format: "gzip", detail: "libdeflate produced no output") }
        let crc = libdeflate_crc32(0, input.baseAddress, input.count)
        let n = UInt32(truncatingIfNeeded: input.count)
        var end = header.count + produced
        for i in 0..<4 {
            out[end + i] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(i)))
            out[end + 4 + i] = UInt8(truncatingIfNeeded: n >> (8 * UInt32(i)))
        }
        end += 8
        out.removeSubrange(end...)
        return out
    }

    /// Members for full blocks of zeros, compressed once per (level, size) and shared.
    enum ZeroMembers {
        struct Key: Hashable { let level: Int32; let size: Int }
        private final class Cache: @unchecked Sendable {
            let lock = Lock()
            var members: [Key: [UInt8]] = [:]
        }
        private static let cache = Cache()

        static func member(_ key: Key, compressor: OpaquePointer) throws -> [UInt8] {
            cache.lock.lock()
            defer { cache.lock.unlock() }
            if let m = cache.members[key] { return m }
            let zeros = [UInt8](repeating: 0, count: key.size)
            let m = try zeros.withUnsafeBytes { try ParallelGzipSink.member($0, compressor: compressor, level: key.level) }
            if cache.members.count > 8 { cache.members.removeAll() }
            cache.members[key] = m
            return m
        }
    }

    /// Worker threads taking blocks in submission order until shut down.
    private final class WorkerPool: @unchecked Sendable {
        private let condition = Condition()
        private var queue: [BlockTask] = []
        private var head = 0
        private var stopping = false
        private let level: Int32

        init(threads: Int, level: Int32) {
            self.level = level
            // (Foundation's Thread named them "unisonctl-gzip-N", but that is past Linux's 15-byte
            // thread name limit, so the name never reached the system; none is set.)
            for _ in 0..<threads {
                Threads.detach { [self] in loop() }
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
            // One compressor per thread, reused block after block (it holds no state between calls).
            guard let compressor = libdeflate_alloc_compressor(level) else {
                failAll(CompressionError.codec(format: "gzip", detail: "libdeflate could not allocate a compressor"))
                return
            }
            defer { libdeflate_free_compressor(compressor) }
            while let task = next() { task.run(compressor, level: level) }
        }

        private func next() -> BlockTask? {
            condition.lock()
            defer { condition.unlock() }
            while head == queue.count && !stopping { condition.wait() }
            if head == queue.count { return nil }
            let task = queue[head]
            head += 1
            if head > 64 && head * 2 > queue.count {
                queue.removeFirst(head)
                head = 0
            }
            return task
        }

        private func failAll(_ error: Error) {
            while let task = next() {
                task.result = .failure(error)
                task.done.signal()
            }
        }
    }

    /// One block's work: input in, a whole gzip member out. Written by its worker before `done`
    /// is signalled and read by the writer only after waiting on it.
    private final class BlockTask: @unchecked Sendable {
        let input: [UInt8]
        /// Set for full-size blocks, which may be all zeros.
        let zeroKey: ZeroMembers.Key?
        let done = DispatchSemaphore(value: 0)
        var result: Result<[UInt8], Error>?

        init(input: [UInt8], zeroKey: ZeroMembers.Key?) {
            self.input = input
            self.zeroKey = zeroKey
        }

        func run(_ compressor: OpaquePointer, level: Int32) {
            defer { done.signal() }
            input.withUnsafeBytes { block in
                result = Result {
                    if let zeroKey, isZero(block) { return try ZeroMembers.member(zeroKey, compressor: compressor) }
                    return try ParallelGzipSink.member(block, compressor: compressor, level: level)
                }
            }
        }

        private func isZero(_ block: UnsafeRawBufferPointer) -> Bool {
            let words = block.count / 8
            let w = block.baseAddress!.assumingMemoryBound(to: UInt64.self)
            var acc: UInt64 = 0
            var i = 0
            while i < words {
                acc |= w[i]
                if i & 1023 == 1023 && acc != 0 { return false }
                i += 1
            }
            if acc != 0 { return false }
            for j in (words * 8)..<block.count where block[j] != 0 { return false }
            return true
        }
    }
}
