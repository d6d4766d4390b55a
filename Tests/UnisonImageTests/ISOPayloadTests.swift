import Foundation
import Testing
import UnisonCore
import UnisonDisk
import UnisonTestSupport

@testable import UnisonImage

/// Reads an ISO payload (extent map + gzip parts) back into the raw disk with python3: an
/// implementation that shares nothing with ours.
enum PayloadReader {
    static let program = #"""
        import gzip, hashlib, sys
        directory, map_name, out = sys.argv[1], sys.argv[2], sys.argv[3]
        parts = sys.argv[4:]
        data = b"".join(open(f"{directory}/{p}", "rb").read() for p in parts)
        data = gzip.decompress(data) if data else b""
        lines = open(f"{directory}/{map_name}").read().splitlines()
        magic, size = lines[0].split()
        assert magic == "unisonos-extents/1", magic
        size = int(size)
        position, consumed = 0, 0
        with open(out, "wb") as disk:
            for line in lines[1:]:
                kind, offset, length = line.split()
                offset, length = int(offset), int(length)
                assert offset == position, f"gap or overlap at {offset}, expected {position}"
                if kind == "data":
                    disk.write(data[consumed:consumed + length])
                    consumed += length
                else:
                    assert kind == "zero", kind
                    disk.write(bytes(length))
                position += length
        assert position == size, f"the map covers {position} of {size} bytes"
        assert consumed == len(data), f"{len(data) - consumed} bytes of data left over"
        print(hashlib.sha256(open(out, "rb").read()).hexdigest())
        """#

    /// The raw disk rebuilt at `out`; returns its sha256 as python computes it.
    static func reconstruct(directory: URL, map: String, parts: [String], to out: URL) throws -> String {
        let r = try ImageTool.run(["python3", "-c", program, directory.path, map, out.path] + parts)
        return r.stdoutString.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// The ISO payload's extents layout: only non-zero 1 MiB blocks are compressed, the map covers
/// the disk, an independent reader (python3) and the installer's own shell function (busybox
/// dd) rebuild the exact raw disk, split parts included.
@Suite("ISO payload: extents and map", .tags(.interop))
struct ISOPayloadTests {
    static let mib = 1 << 20

    /// A sparse raw disk of 9 MiB + 1536 bytes: data in blocks 0, 2 (a few bytes), 5-6 and the
    /// short last block; block 4 written as zeros (allocated, not a hole); the rest holes.
    static func disk(_ url: URL) throws -> Data {
        let size = 9 * mib + 1536
        var bytes = Data(count: size)
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func noise(_ range: Range<Int>) {
            for i in stride(from: range.lowerBound, to: range.upperBound, by: 8) {
                state ^= state << 13; state ^= state >> 7; state ^= state << 17
                withUnsafeBytes(of: state) { bytes.replaceSubrange(i..<min(i + 8, range.upperBound), with: $0.prefix(range.upperBound - i)) }
            }
        }
        noise(0..<mib)
        bytes.replaceSubrange((2 * mib + 100)..<(2 * mib + 105), with: Data("hello".utf8))
        noise((5 * mib)..<(7 * mib))
        bytes.replaceSubrange((size - 7)..<size, with: Data("the end".utf8))
        FileManager.default.createFile(atPath: url.path, contents: nil)
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        for block in [0, 2, 4, 5, 6, 9] {
            try handle.seek(toOffset: UInt64(block * mib))
            try handle.write(contentsOf: bytes[(block * mib)..<min((block + 1) * mib, size)])
        }
        try handle.truncate(atOffset: UInt64(size))
        return bytes
    }

    static func pack(_ raw: URL, into dir: URL, splitAbove: Int64) throws -> ISOPayloadInfo {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return try ISOPayload.pack(
            raw: raw, name: "disk.raw", source: raw.path, sourceFormat: .raw, into: dir, splitAbove: splitAbove, level: 6,
            threads: 2, progress: nil)
    }

    /// `image build iso` packs the disk it laid out in the same run straight from the layout;
    /// packing the raw disk written from that layout must give the same files, byte for byte.
    @Test("packing from a layout writes the same parts, map and digest as packing the raw disk written from it")
    func layoutPackingMatchesRawPacking() async throws {
        let scratch = try ImageScratch("payload-layout")
        defer { scratch.cleanup() }
        // Sources of every kind: in-memory bytes, ranges of a host file (one all zeros, one past
        // the file's end, which reads as zeros), an extent across a block boundary, the short last block.
        let host = scratch.path("host.bin")
        let hostBytes = try Self.disk(host)
        let m = Int64(Self.mib)
        var layout = DiskLayout(size: 11 * m + 1536)
        try layout.add(.bytes(Data(hostBytes[0..<Self.mib])), at: 0)
        try layout.add(.bytes(Data("hello".utf8)), at: 2 * m + 100)
        try layout.add(.file(host, offset: 4 * m, length: m), at: 3 * m)
        try layout.add(.file(host, offset: 5 * m, length: 2 * m + 4096), at: 5 * m - 2048)
        try layout.add(.file(host, offset: 9 * m, length: 3 * m), at: 8 * m)
        try layout.add(.bytes(Data("the end".utf8)), at: layout.size - 7)
        let raw = scratch.path("disk.raw")
        try await RawEncoder().encode(layout, to: raw, progress: nil)

        let fromRaw = try Self.pack(raw, into: scratch.path("from-raw"), splitAbove: 1 << 20)
        try FileManager.default.createDirectory(at: scratch.path("from-layout"), withIntermediateDirectories: true)
        let fromLayout = try ISOPayload.pack(
            layout: layout, name: "disk.raw", source: raw.path, into: scratch.path("from-layout"), splitAbove: 1 << 20, level: 6,
            threads: 2, progress: nil)
        #expect(fromLayout == fromRaw)
        #expect(fromLayout.sha256 == (try SHA256Hex.file(raw).hex))
        #expect(fromRaw.parts.count > 1, "the data spans several parts")
        for name in fromRaw.parts.map(\.name) + [fromRaw.map] {
            let a = try Data(contentsOf: scratch.path("from-raw").appendingPathComponent(name))
            let b = try Data(contentsOf: scratch.path("from-layout").appendingPathComponent(name))
            #expect(a == b, "\(name) differs")
        }
        let map = try String(contentsOf: scratch.path("from-layout").appendingPathComponent(fromLayout.map), encoding: .utf8)
        #expect(map.contains("zero \(3 * m) \(m)"), "the all-zero file range is a zero extent: \(map)")
    }

    @Test("the map lists the non-zero blocks as data and the rest as zero; python3 rebuilds the disk from map and parts")
    func mapAndIndependentReader() throws {
        let scratch = try ImageScratch("payload")
        defer { scratch.cleanup() }
        let raw = scratch.path("disk.raw")
        let bytes = try Self.disk(raw)
        let dir = scratch.path("payload")
        let info = try Self.pack(raw, into: dir, splitAbove: 1 << 20)
        let m = Int64(Self.mib), size = Int64(bytes.count)

        #expect(info.size == size)
        #expect(info.sha256 == (try SHA256Hex.file(raw).hex))
        #expect(info.layout == "extents/1" && info.compression == "gzip" && info.map == "disk.raw.extents")
        let map = try String(contentsOf: dir.appendingPathComponent(info.map), encoding: .utf8)
        #expect(
            map == """
                unisonos-extents/1 \(size)
                data 0 \(m)
                zero \(m) \(m)
                data \(2 * m) \(m)
                zero \(3 * m) \(2 * m)
                data \(5 * m) \(2 * m)
                zero \(7 * m) \(2 * m)
                data \(9 * m) 1536

                """, "\(map)")
        #expect(info.dataBytes == 4 * m + 1536)
        #expect(info.parts.count >= 2, "split above 1 MiB: \(info.parts.map(\.name))")
        #expect(info.parts.map(\.name) == info.parts.indices.map { String(format: "disk.raw.data.gz.%03d", $0) })
        #expect(info.parts.allSatisfy { $0.size <= 1 << 20 })

        let rebuilt = scratch.path("rebuilt.raw")
        let hex = try PayloadReader.reconstruct(directory: dir, map: info.map, parts: info.parts.map(\.name), to: rebuilt)
        #expect(hex == info.sha256)
        #expect(try ImageTool.run(["cmp", raw.path, rebuilt.path]).status == 0)
        // gzip itself reads the concatenated parts: the data blocks in order, nothing else.
        let parts = info.parts.map { "'\($0.name)'" }.joined(separator: " ")
        let stream = try ImageTool.shell("cat \(parts) | gzip -dc | sha256sum", cwd: dir).stdoutString
        var data = Data()
        for range in [0..<Self.mib, (2 * Self.mib)..<(3 * Self.mib), (5 * Self.mib)..<(7 * Self.mib), (9 * Self.mib)..<bytes.count] {
            data += bytes[range]
        }
        #expect(stream.hasPrefix(SHA256Hex.hex(data)), "\(stream)")
    }

    /// The installer's `write_extents`, cut from /init, run by busybox sh.
    static func installerFunction() throws -> String {
        let script = ISOInstaller.initScript
        let start = try #require(script.range(of: "write_extents() {"))
        let end = try #require(script.range(of: "\n}\n", range: start.upperBound..<script.endIndex))
        return String(script[start.lowerBound..<end.upperBound])
    }

    @Test("the installer's write_extents (busybox dd) writes the disk over a target full of 0xFF; a wrong map is refused")
    func installerWritesExtents() throws {
        let scratch = try ImageScratch("payload-sh")
        defer { scratch.cleanup() }
        let raw = scratch.path("disk.raw")
        let bytes = try Self.disk(raw)
        let dir = scratch.path("payload")
        let info = try Self.pack(raw, into: dir, splitAbove: 2 << 20)
        let target = scratch.path("target.img")
        try Data(repeating: 0xFF, count: bytes.count + Self.mib).write(to: target)
        let function = try Self.installerFunction()
        func install(map: String, bytes: Int64) throws -> ProcessResult {
            let parts = info.parts.map { "'\($0.name)'" }.joined(separator: " ")
            // TARGET is a /sys/block name in /init; here a path relative to /dev reaches the file.
            return try ImageTool.status([
                "busybox", "sh", "-c",
                """
                \(function)
                TARGET=..\(target.path)
                PAYLOAD_BYTES=\(bytes)
                set -o pipefail
                cd '\(dir.path)' && cat \(parts) | gunzip -c | write_extents 3<'\(map)'
                """,
            ])
        }
        let r = try install(map: info.map, bytes: info.size)
        #expect(r.status == 0, "\(r.stderrString)")
        let written = try ImageTool.shell("head -c \(info.size) '\(target.path)' | sha256sum").stdoutString
        #expect(written.hasPrefix(info.sha256), "\(written)")
        let after = try FileHandle(forReadingFrom: target)
        try after.seek(toOffset: UInt64(info.size))
        #expect(try after.readToEnd() == Data(repeating: 0xFF, count: Self.mib), "nothing past the disk is touched")
        try after.close()

        #expect(try install(map: info.map, bytes: info.size + 512).status != 0, "a map for another disk size is refused")
        let short = dir.appendingPathComponent("short.extents")
        let lines = try String(contentsOf: dir.appendingPathComponent(info.map), encoding: .utf8).split(separator: "\n")
        try Data((lines.dropLast().joined(separator: "\n") + "\n").utf8).write(to: short)
        let leftover = try install(map: "short.extents", bytes: info.size)
        #expect(leftover.status != 0, "data the map does not place is an error")
        #expect(leftover.stderrString.contains("more data than its extent map"), "\(leftover.stderrString)")
    }
}
