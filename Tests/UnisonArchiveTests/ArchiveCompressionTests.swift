import Foundation
import Testing
import UnisonCore
@testable import UnisonArchive

/// gzip (parallel, one member), zstd and xz, checked by gzip, pigz, zstd, xz and Python's zlib.
@Suite("compression", .tags(.interop))
struct CompressionTests {
    static func gzip(_ data: Data, threads: Int = 2, level: Int32 = 6, chunks: [Int]? = nil) throws -> Data {
        let sink = DataSink()
        let gz = ParallelGzipSink(sink, level: level, threads: threads)
        if let chunks {
            var offset = 0
            var i = 0
            while offset < data.count {
                let n = min(chunks[i % chunks.count], data.count - offset)
                try gz.write(data.subdata(in: offset..<(offset + n)))
                offset += n
                i += 1
            }
        } else {
            try gz.write(data)
        }
        try gz.finish()
        return sink.data
    }

    static let sizes = [0, 1, 32 * 1024 - 1, 128 * 1024, 128 * 1024 + 1, 5 * 128 * 1024, 3 * 1024 * 1024 + 17]

    @Test("gzip -t, pigz -t and zlib accept our gzip; it is one member with a fixed header", arguments: sizes)
    func gzipValid(_ size: Int) throws {
        let dir = try Scratch("gz")
        defer { dir.cleanup() }
        let input = textBytes(size, seed: UInt64(size) + 11)
        let gz = try Self.gzip(input)
        #expect(Array(gz.prefix(10)) == [0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0x03])
        let file = dir.path("x.gz")
        try gz.write(to: file)
        try Tool.run(["gzip", "-t", file.path])
        try Tool.run(["pigz", "-t", file.path])
        #expect(try Tool.run(["gzip", "-dc", file.path]).stdout == input)
        // zlib (through Python) sees exactly one member and no trailing data.
        let check = try Tool.run(["python3", "-c", """
            import sys, zlib
            raw = open(sys.argv[1], 'rb').read()
            d = zlib.decompressobj(31)
            out = d.decompress(raw) + d.flush()
            print(len(out), d.eof, len(d.unused_data))
            """, file.path]).stdoutString
        #expect(check == "\(size) True 0\n")
        // And our own reader.
        #expect(try ArchiveCompression.openDecompressing(file).readFully(size + 10) == input)
    }

    @Test("gzip output depends only on the input: not on threads or on how it was written")
    func gzipDeterministic() throws {
        let input = textBytes(2 * 1024 * 1024 + 333, seed: 5) + pseudoRandomBytes(400_000, seed: 9)
        let reference = try Self.gzip(input, threads: 1)
        #expect(try Self.gzip(input, threads: 2) == reference)
        #expect(try Self.gzip(input, threads: 7) == reference)
        #expect(try Self.gzip(input, threads: 3, chunks: [1, 4095, 131_072, 77, 1 << 20]) == reference)
        #expect(try Self.gzip(input, threads: 2, chunks: [128 * 1024]) == reference)
    }

    @Test("parallel gzip compresses within 3% of gzip -6")
    func gzipRatio() throws {
        let dir = try Scratch("gz-ratio")
        defer { dir.cleanup() }
        let input = textBytes(4 * 1024 * 1024, seed: 21)
        let file = dir.path("in")
        try input.write(to: file)
        let reference = try Tool.run(["gzip", "-6", "-c", file.path]).stdout.count
        let ours = try Self.gzip(input).count
        #expect(Double(ours) <= Double(reference) * 1.03, "ours \(ours) vs gzip \(reference)")
    }

    @Test("our reader handles concatenated members and refuses truncated or corrupt gzip")
    func gzipReader() throws {
        let dir = try Scratch("gz-read")
        defer { dir.cleanup() }
        let a = textBytes(100_000, seed: 1), b = textBytes(50_000, seed: 2)
        try (try Self.gzip(a) + Self.gzip(b)).write(to: dir.path("cat.gz"))
        #expect(try ArchiveCompression.openDecompressing(dir.path("cat.gz")).readFully(1 << 20) == a + b)
        let whole = try Self.gzip(a)
        try whole.prefix(whole.count / 2).write(to: dir.path("cut.gz"))
        #expect(throws: CompressionError.truncated(format: "gzip", path: dir.path("cut.gz").path)) {
            try ArchiveCompression.openDecompressing(dir.path("cut.gz")).readFully(1 << 20)
        }
        var bad = whole
        bad[200] ^= 0xff
        bad[201] ^= 0xff
        try bad.write(to: dir.path("bad.gz"))
        #expect { try ArchiveCompression.openDecompressing(dir.path("bad.gz")).readFully(1 << 20) } throws: { error in
            guard case .corrupt(format: "gzip", _, _, _)? = error as? CompressionError else { return false }
            return true
        }
    }

    @Test("zstd -t accepts our zstd; the output is the same for any worker count")
    func zstd() throws {
        let dir = try Scratch("zst")
        defer { dir.cleanup() }
        let input = textBytes(6 * 1024 * 1024, seed: 4) + pseudoRandomBytes(1_000_000, seed: 8)
        var outputs: [Data] = []
        for workers in [1, 2, 4] {
            let sink = DataSink()
            let z = try ZstdSink(sink, workers: workers)
            var offset = 0
            while offset < input.count {
                let n = min(700_000, input.count - offset)
                try z.write(input.subdata(in: offset..<(offset + n)))
                offset += n
            }
            try z.finish()
            outputs.append(sink.data)
        }
        #expect(Set(outputs).count == 1)
        let file = dir.path("x.zst")
        try outputs[0].write(to: file)
        try Tool.run(["zstd", "-q", "-t", file.path])
        #expect(try Tool.run(["zstd", "-q", "-dc", file.path]).stdout == input)
        #expect(try ArchiveCompression.openDecompressing(file).readFully(input.count + 1) == input)
    }

    @Test("xz from xz-utils is read, corrupt xz refused")
    func xz() throws {
        let dir = try Scratch("xz")
        defer { dir.cleanup() }
        let input = textBytes(500_000, seed: 6)
        try input.write(to: dir.path("in"))
        try Tool.shell("xz -c < in > in.xz && cat in.xz in.xz > twice.xz", cwd: dir.url)
        #expect(try ArchiveCompression.openDecompressing(dir.path("in.xz")).readFully(input.count + 1) == input)
        #expect(try ArchiveCompression.openDecompressing(dir.path("twice.xz")).readFully(2 * input.count + 1) == input + input)
        var bad = try Data(contentsOf: dir.path("in.xz"))
        bad[bad.count / 2] ^= 0x55
        try bad.write(to: dir.path("bad.xz"))
        #expect { try ArchiveCompression.openDecompressing(dir.path("bad.xz")).readFully(input.count + 1) } throws: { error in
            if case .corrupt(format: "xz", _, _, _)? = error as? CompressionError { return true }
            return false
        }
    }

    @Test("formats are recognized by magic number, not by name", arguments: [
        ([UInt8]([0x1f, 0x8b, 8, 0]), ArchiveCompression?.some(.gzip)), ([0x28, 0xb5, 0x2f, 0xfd], .zstd),
        ([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], .xz), (Array("ustar".utf8), ArchiveCompression.none), (Array("BZh9".utf8), nil),
    ])
    func sniff(_ head: [UInt8], _ expected: ArchiveCompression?) {
        #expect(ArchiveCompression.sniff(head) == expected)
    }
}
