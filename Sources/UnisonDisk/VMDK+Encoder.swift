import CLibdeflate
import FoundationEssentials

/// VMDK stream-optimized writer (VMware Virtual Disk Format 5.0; what ovftool and ESXi
/// import), version 3, 64 KiB grains deflated (zlib wrapper, libdeflate) on every core.
///
/// File order, one pass:
///
///     sector 0         header (gdOffset = GD_AT_END: the directory follows the grains)
///     sectors 1..20    descriptor (rewritten at the end, when the content CID is known)
///     sector 128..     for each grain table g: its non-zero grains as {lba, size, zlib data}
///                      records, then the GT marker and grain table g (512 entries, 4 sectors)
///     then             GD marker, grain directory; footer marker, footer; end-of-stream marker
///
/// Grains are compressed in batches by a bounded task group and written in order, so the
/// output does not depend on scheduling.
package struct VMDKEncoder: DiskEncoder {
    package var format: DiskFormat { .vmdk }
    /// The file name the descriptor's extent line names (the artifact's final name).
    package var fileName: String
    package var level: Int32
    package var concurrency: Int
    package static let grainBytes = 64 << 10
    static let batchGrains = 32

    package init(fileName: String, level: Int32 = 6, concurrency: Int = ProcessInfo.processInfo.activeProcessorCount) {
        self.fileName = fileName
        self.level = level
        self.concurrency = max(1, concurrency)
    }

    package func encode(_ layout: DiskLayout, to url: URL, progress: (@Sendable (Int64) -> Void)?) async throws {
        let grainSectors = UInt64(Self.grainBytes / 512)
        let capacity = UInt64((layout.size + 511) / 512)
        var header = VMDKHeader(capacity: capacity)
        header.grainSize = grainSectors
        let gtes = UInt64(header.gtesPerGT)
        let grains = (capacity + grainSectors - 1) / grainSectors
        let gtCount = Int((grains + gtes - 1) / gtes)

        let out = try OutputFile(creating: url)
        try out.append(header.encode())
        try out.appendZeros(Int(header.descriptorSize) * 512)  // descriptor, written at the end
        try out.appendZeros(Int(header.overhead) * 512 - Int(out.position))

        var tables = [[UInt32]](repeating: [UInt32](repeating: 0, count: Int(gtes)), count: gtCount)
        var directory = [UInt32](repeating: 0, count: gtCount)
        var nextTable = 0
        var cid: UInt32 = 0
        let level = self.level

        func writeTables(upTo limit: Int) throws {
            while nextTable < limit {
                try out.append(VMDKMarker.sector(.grainTable, sectors: gtes * 4 / 512))
                directory[nextTable] = UInt32(out.position / 512)
                var r = BinaryRecord(size: Int(gtes) * 4)
                for (i, e) in tables[nextTable].enumerated() { r.le32(e, at: i * 4) }
                try out.append(r.bytes)
                nextTable += 1
            }
        }

        func writeGrain(_ index: Int64, _ compressed: Data) throws {
            try writeTables(upTo: Int(UInt64(index) / gtes))
            let sector = out.position / 512
            guard sector <= Int64(UInt32.max) else {
                throw DiskError.doesNotFit(what: "a VMDK grain offset", needed: out.position, available: Int64(UInt32.max) * 512)
            }
            tables[Int(UInt64(index) / gtes)][Int(UInt64(index) % gtes)] = UInt32(sector)
            var marker = BinaryRecord(size: 12)
            marker.le64(UInt64(index) * grainSectors, at: 0)
            marker.le32(UInt32(compressed.count), at: 8)
            try out.append(marker.bytes)
            try out.append(compressed)
            let used = 12 + compressed.count
            try out.appendZeros((512 - used % 512) % 512)
        }

        var chunker = LayoutChunker(layout, chunkSize: Self.grainBytes)
        defer { chunker.close() }
        try await withThrowingTaskGroup(of: (Int, [(Int64, Data)]).self) { group in
            var submitted = 0, written = 0
            var ready: [Int: [(Int64, Data)]] = [:]
            var exhausted = false

            func submitBatch() throws {
                var batch: [(Int64, Data)] = []
                while batch.count < Self.batchGrains, let (index, data) = try chunker.next() {
                    // The content ID hashes each grain's position and bytes, in disk order.
                    var lba = UInt64(index).littleEndian
                    cid = withUnsafeBytes(of: &lba) { CRC32.update(cid, $0) }
                    cid = data.withUnsafeBytes { CRC32.update(cid, $0) }
                    batch.append((index, data))
                }
                if batch.isEmpty { exhausted = true; return }
                let sequence = submitted
                submitted += 1
                group.addTask {
                    let compressor = try GrainCompressor(level: level)
                    return (sequence, try batch.map { ($0.0, try compressor.zlib($0.1)) })
                }
            }

            while !exhausted, submitted - written < concurrency * 2 { try submitBatch() }
            while written < submitted {
                guard let (sequence, batch) = try await group.next() else { break }
                ready[sequence] = batch
                while let batch = ready.removeValue(forKey: written) {
                    for (index, data) in batch { try writeGrain(index, data) }
                    written += 1
                    progress?(chunker.bytesRead)
                    if !exhausted { try submitBatch() }
                }
            }
        }
        try writeTables(upTo: gtCount)

        let gdSectors = (UInt64(gtCount) * 4 + 511) / 512
        try out.append(VMDKMarker.sector(.grainDirectory, sectors: gdSectors))
        let gdOffset = UInt64(out.position / 512)
        var gd = BinaryRecord(size: Int(gdSectors) * 512)
        for (i, e) in directory.enumerated() { gd.le32(e, at: i * 4) }
        try out.append(gd.bytes)

        var footer = header
        footer.gdOffset = gdOffset
        try out.append(VMDKMarker.sector(.footer, sectors: 1))
        try out.append(footer.encode())
        try out.append(VMDKMarker.sector(.endOfStream, sectors: 0))

        let descriptor = VMDKDescriptor(cid: cid, capacitySectors: capacity, fileName: fileName).text
        guard descriptor.utf8.count < Int(header.descriptorSize) * 512 else {
            throw DiskError.doesNotFit(
                what: "the VMDK descriptor", needed: Int64(descriptor.utf8.count),
                available: Int64(header.descriptorSize) * 512)
        }
        try out.write(Array(descriptor.utf8), at: Int64(header.descriptorOffset) * 512)
        try out.finish()
        progress?(chunker.bytesRead)
    }
}

/// A libdeflate compressor for one task's grains (not shared between threads). libdeflate's
/// output is a function of the input and level, so grains do not depend on which task ran them.
final class GrainCompressor {
    private let compressor: OpaquePointer

    init(level: Int32) throws {
        guard let c = libdeflate_alloc_compressor(max(1, min(12, level))) else {
            throw DiskError.unsupported(path: "libdeflate", detail: "could not allocate a compressor at level \(level)")
        }
        compressor = c
    }

    deinit { libdeflate_free_compressor(compressor) }

    /// zlib-wrapped deflate (RFC 1950) of `input`.
    func zlib(_ input: Data) throws -> Data {
        let bound = libdeflate_zlib_compress_bound(compressor, input.count)
        var output = Data(count: bound)
        let produced = output.withUnsafeMutableBytes { dst in
            input.withUnsafeBytes { src in
                libdeflate_zlib_compress(compressor, src.baseAddress ?? UnsafeRawPointer(dst.baseAddress!), input.count, dst.baseAddress!, bound)
            }
        }
        guard produced > 0 else { throw DiskError.unsupported(path: "libdeflate", detail: "zlib compression produced no output") }
        output.count = produced
        return output
    }
}
