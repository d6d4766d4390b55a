import Foundation
import Testing
import UnisonCore
import UnisonTestSupport

@testable import UnisonDisk

@Suite("Disk encoders, read back by qemu-img", .tags(.interop))
struct EncoderInteropTests {
    static let size: Int64 = 1 << 30  // two qcow2 L1 entries, 32 VMDK grain tables

    /// Writes the sample layout in all three formats.
    static func encodeAll(_ scratch: DiskScratch) async throws -> (layout: DiskLayout, files: [DiskFormat: URL]) {
        let layout = try SampleDisk.layout(size: size, hostFile: try SampleDisk.hostFile(in: scratch))
        var files: [DiskFormat: URL] = [:]
        for format in DiskFormat.allCases {
            let url = scratch.path("disk.\(format.fileExtension)")
            let encoder: any DiskEncoder =
                switch format {
                case .raw: RawEncoder()
                case .qcow2: Qcow2Encoder()
                case .vmdk: VMDKEncoder(fileName: url.lastPathComponent)
                }
            try await encoder.encode(layout, to: url, progress: nil)
            files[format] = url
        }
        return (layout, files)
    }

    @Test("qemu-img check, info and compare accept qcow2 and vmdk; contents equal the raw image")
    func qemuImg() async throws {
        let scratch = try DiskScratch("enc")
        defer { scratch.cleanup() }
        let (_, files) = try await Self.encodeAll(scratch)
        for format in [DiskFormat.qcow2, .vmdk] {
            let url = files[format]!
            let check = try Tool.status(["qemu-img", "check", "-f", format.rawValue, url.path])
            #expect(check.status == 0, "\(format): \(check.stdoutString) \(check.stderrString)")
            #expect(check.stdoutString.contains("No errors were found"), "\(format): \(check.stdoutString)")
            let info = try #require(try Tool.json(["qemu-img", "info", "--output=json", url.path]) as? [String: Any])
            #expect(info["format"] as? String == format.rawValue)
            #expect((info["virtual-size"] as? NSNumber)?.int64Value == Self.size)
            let compare = try Tool.status(["qemu-img", "compare", "-f", "raw", "-F", format.rawValue, files[.raw]!.path, url.path])
            #expect(compare.status == 0, "\(format): \(compare.stdoutString) \(compare.stderrString)")
        }
        let vmdkInfo = try #require(try Tool.json(["qemu-img", "info", "--output=json", files[.vmdk]!.path]) as? [String: Any])
        let specific = try #require((vmdkInfo["format-specific"] as? [String: Any])?["data"] as? [String: Any])
        #expect(specific["create-type"] as? String == "streamOptimized")
        #expect(specific["cid"] != nil)
        let extents = try #require(specific["extents"] as? [[String: Any]])
        #expect(extents.first?["compressed"] as? Bool == true)
        #expect((try Tool.json(["qemu-img", "info", "--output=json", files[.raw]!.path]) as? [String: Any])?["format"] as? String == "raw")
    }

    @Test("a differing byte is reported by qemu-img compare (the comparison is not vacuous)")
    func compareDetectsDifference() async throws {
        let scratch = try DiskScratch("enc-diff")
        defer { scratch.cleanup() }
        let (layout, files) = try await Self.encodeAll(scratch)
        var changed = DiskLayout(size: layout.size)
        for e in layout.extents { try changed.add(e.source, at: e.offset) }
        try changed.add(.bytes(Data([1])), at: 10 << 20)
        let other = scratch.path("changed.qcow2")
        try await Qcow2Encoder().encode(changed, to: other, progress: nil)
        let compare = try Tool.status(["qemu-img", "compare", "-f", "raw", "-F", "qcow2", files[.raw]!.path, other.path])
        #expect(compare.status == 1, "\(compare.stdoutString)")
    }

    @Test("only clusters holding data are allocated (qemu-img map), and the raw file is sparse")
    func sparseness() async throws {
        let scratch = try DiskScratch("enc-map")
        defer { scratch.cleanup() }
        let (layout, files) = try await Self.encodeAll(scratch)
        // Expected non-zero 64 KiB clusters from the layout itself.
        var expected = Set<Int64>()
        var chunker = LayoutChunker(layout, chunkSize: 65_536)
        while let (index, _) = try chunker.next() { expected.insert(index) }
        chunker.close()
        #expect(expected.count > 5)
        for format in [DiskFormat.qcow2, .vmdk] {
            let map = try #require(
                try Tool.json(["qemu-img", "map", "--output=json", "-f", format.rawValue, files[format]!.path]) as? [[String: Any]])
            var allocated = Set<Int64>()
            for m in map where m["data"] as? Bool == true {
                let start = (m["start"] as! NSNumber).int64Value, length = (m["length"] as! NSNumber).int64Value
                for c in stride(from: start / 65_536, to: (start + length + 65_535) / 65_536, by: 1) { allocated.insert(c) }
            }
            #expect(allocated == expected, "\(format)")
        }
        let qcowSize = try #require(try FileManager.default.attributesOfItem(atPath: files[.qcow2]!.path)[.size] as? NSNumber).int64Value
        // header + L1 + data + 2 L2 tables + refcount table + 1 refcount block
        #expect(qcowSize == Int64(1 + 1 + expected.count + 2 + 1 + 1) * 65_536)
        var st = stat()
        stat(files[.raw]!.path, &st)
        #expect(Int64(st.st_size) == Self.size)
        #expect(Int64(st.st_blocks) * 512 < 4 << 20, "raw image should be sparse")
    }

    @Test("our readers return the layout's bytes for every format")
    func readBack() async throws {
        let scratch = try DiskScratch("enc-read")
        defer { scratch.cleanup() }
        let (layout, files) = try await Self.encodeAll(scratch)
        for format in DiskFormat.allCases {
            let reader = try DiskImage.open(files[format]!)
            #expect(reader.format == format)
            #expect(reader.virtualSize == Self.size)
            for e in layout.extents {
                let from = max(0, e.offset - 333)
                let count = Int(min(e.length + 666, Self.size - from))
                #expect(try reader.read(at: from, count: count) == (try layout.expectedBytes(at: from, count: count)), "\(format) at \(from)")
            }
        }
    }

    @Test("same layout, same bytes: two encodings are identical")
    func reproducible() async throws {
        let scratch = try DiskScratch("enc-repro")
        defer { scratch.cleanup() }
        let (layout, files) = try await Self.encodeAll(scratch)
        for format in DiskFormat.allCases {
            let again = scratch.path("again.\(format.rawValue)")
            let encoder: any DiskEncoder =
                switch format {
                case .raw: RawEncoder()
                case .qcow2: Qcow2Encoder()
                case .vmdk: VMDKEncoder(fileName: "disk.vmdk", concurrency: 3)
                }
            try await encoder.encode(layout, to: again, progress: nil)
            #expect(try Tool.status(["cmp", "-s", again.path, files[format]!.path]).status == 0, "\(format)")
        }
    }

    @Test("a VMDK with a cut-off footer is rejected with its path")
    func truncatedVMDK() async throws {
        let scratch = try DiskScratch("enc-trunc")
        defer { scratch.cleanup() }
        let (_, files) = try await Self.encodeAll(scratch)
        let url = files[.vmdk]!
        let handle = try FileHandle(forUpdating: url)
        let size = try handle.seekToEnd()
        try handle.truncate(atOffset: size - 1024)
        try handle.close()
        #expect(throws: DiskError.self) { _ = try DiskImage.open(url) }
        #expect(try Tool.status(["qemu-img", "info", url.path]).status != 0)
    }
}
