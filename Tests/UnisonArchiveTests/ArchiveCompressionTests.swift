import Foundation
import Testing
import UnisonCore
import UnisonTestSupport

@testable import UnisonArchive

/// gzip (parallel members, libdeflate), zstd and xz, checked by gzip, pigz, zstd, xz and Python's zlib.
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

    static let sizes = [0, 1, 32 * 1024 - 1, 1 << 20, (1 << 20) + 1, 5 * (1 << 20), 3 * 1024 * 1024 + 17]

    /// zlib (through Python) reading the file member by member: prints the total length, the
    /// member count and whether every member starts with our fixed header.
    static func zlibMembers(_ file: URL) throws -> String {
        try Tool.run([
            "python3", "-c",
            """
            import sys, zlib
            raw = open(sys.argv[1], 'rb').read()
            total, members, headers = 0, 0, True
            while raw:
                headers = headers and raw[:10] == bytes([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3])
                d = zlib.decompressobj(31)
                total += len(d.decompress(raw) + d.flush())
                assert d.eof, 'member not finished'
                members += 1
                raw = d.unused_data
            print(total, members, headers)
            """, file.path,
        ]).stdoutString
    }

    @Test("gzip -t, pigz -t and zlib accept libdeflate's members; one per MiB, each with a fixed header", arguments: sizes)
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
        let members = max(1, (size + (1 << 20) - 1) >> 20)
        #expect(try Self.zlibMembers(file) == "\(size) \(members) True\n")
        // And our own reader.
        #expect(try ArchiveCompression.openDecompressing(file).readFully(size + 10) == input)
    }

    @Test("blocks of zeros reuse one compressed member, byte-identical to compressing them")
    func gzipZeros() throws {
        let dir = try Scratch("gz-zero")
        defer { dir.cleanup() }
        let input = Data(count: 3 << 20) + textBytes(1000, seed: 3) + Data(count: 2 << 20)
        let a = try Self.gzip(input, threads: 3)
        // Level 7 has its own cached member; level 6's must not leak into it.
        let b = try Self.gzip(input, threads: 1, level: 7)
        let file = dir.path("z.gz")
        try a.write(to: file)
        #expect(try Tool.run(["gzip", "-dc", file.path]).stdout == input)
        #expect(try Self.zlibMembers(file) == "\(input.count) 6 True\n")
        try b.write(to: file)
        #expect(try Tool.run(["gzip", "-dc", file.path]).stdout == input)
        // The first three members (zeros) are the same member three times.
        let bytes = Array(a)
        let first = try #require(try Self.firstMember(bytes))
        #expect(Array(bytes[first.count..<(2 * first.count)]) == first)
    }

    /// The first member of a gzip file, found by inflating it with zlib (through Python).
    static func firstMember(_ bytes: [UInt8]) throws -> [UInt8]? {
        let dir = try Scratch("gz-first")
        defer { dir.cleanup() }
        let file = dir.path("f.gz")
        try Data(bytes).write(to: file)
        let rest = try Tool.run([
            "python3", "-c",
            """
            import sys, zlib
            raw = open(sys.argv[1], 'rb').read()
            d = zlib.decompressobj(31)
            d.decompress(raw)
            print(len(d.unused_data))
            """, file.path,
        ]).stdoutString
        guard let n = Int(rest.trimmingCharacters(in: .whitespacesAndNewlines)) else { return nil }
        return Array(bytes.prefix(bytes.count - n))
    }

    @Test("gzip output depends only on the input: not on threads or on how it was written")
    func gzipDeterministic() throws {
        let input = textBytes(2 * 1024 * 1024 + 333, seed: 5) + pseudoRandomBytes(400_000, seed: 9)
        let reference = try Self.gzip(input, threads: 1)
        #expect(try Self.gzip(input, threads: 2) == reference)
        #expect(try Self.gzip(input, threads: 7) == reference)
        #expect(try Self.gzip(input, threads: 3, chunks: [1, 4095, 131_072, 77, 1 << 20]) == reference)
        #expect(try Self.gzip(input, threads: 2, chunks: [1 << 20]) == reference)
    }

    @Test("parallel gzip is no larger than gzip -6 on real files (programs and text)")
    func gzipRatio() throws {
        let dir = try Scratch("gz-ratio")
        defer { dir.cleanup() }
        // Real content rather than synthetic text: files of the interop tools scripts/setup.sh
        // installs. (On a 20-word random text libdeflate's level 6 loses to zlib's; on a root
        // filesystem it wins, which is what we compress.)
        var input = Data()
        for path in [
            "/usr/bin/tar", "/usr/bin/gzip", "/usr/bin/pigz", "/usr/bin/xz", "/usr/share/common-licenses/GPL-3",
            "/usr/share/common-licenses/Apache-2.0", "/usr/share/common-licenses/LGPL-2.1",
        ] {
            input += try Data(contentsOf: URL(fileURLWithPath: path))
        }
        let file = dir.path("in")
        try input.write(to: file)
        let reference = try Tool.run(["gzip", "-6", "-c", file.path]).stdout.count
        let ours = try Self.gzip(input).count
        #expect(ours <= reference, "ours \(ours) vs gzip -6 \(reference) for \(input.count) bytes")
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

    @Test(
        "formats are recognized by magic number, not by name",
        arguments: [
            ([UInt8]([0x1f, 0x8b, 8, 0]), ArchiveCompression?.some(.gzip)), ([0x28, 0xb5, 0x2f, 0xfd], .zstd),
            ([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], .xz), (Array("ustar".utf8), ArchiveCompression.none), (Array("BZh9".utf8), nil),
        ])
    func sniff(_ head: [UInt8], _ expected: ArchiveCompression?) {
        #expect(ArchiveCompression.sniff(head) == expected)
    }
}
