import Foundation
import Testing
import UnisonTestSupport

@testable import UnisonDisk

/// A two-partition GPT disk with some content, as the VM pipeline lays one out.
enum SampleDisk {
    static func gpt(size: Int64) -> GPT {
        let sectors = UInt64(size / 512)
        let seed = Array("sample".utf8)
        let espFirst: UInt64 = 2048, espLast: UInt64 = espFirst + 16384 - 1
        let rootFirst = espLast + 1
        let rootLast = ((sectors - 34) / 2048) * 2048 - 1
        return GPT(
            diskSectors: sectors, diskGUID: GUID.derived(from: seed, label: "disk"),
            partitions: [
                GPTPartition(
                    type: PartitionType.efiSystem, guid: GUID.derived(from: seed, label: "esp"), name: "EFI System",
                    firstLBA: espFirst, lastLBA: espLast),
                GPTPartition(
                    type: PartitionType.linuxRootX86_64, guid: GUID.derived(from: seed, label: "root"), name: "UnisonOS root",
                    firstLBA: rootFirst, lastLBA: rootLast),
            ])
    }

    /// GPT regions plus scattered data: partial sectors, cluster-straddling runs, a host file range.
    static func layout(size: Int64, hostFile: URL) throws -> DiskLayout {
        let table = gpt(size: size)
        var layout = DiskLayout(size: size)
        try layout.add(.bytes(table.primaryRegion()), at: 0)
        try layout.add(.bytes(table.backupRegion()), at: table.backupRegionOffset)
        var bytes = TestBytes(seed: 42)
        let esp = table.partitions[0].offset
        try layout.add(.bytes(bytes.data(700)), at: esp)  // a partial first cluster
        try layout.add(.bytes(bytes.data(200_000)), at: esp + 65_536 - 100)  // straddles clusters
        let root = table.partitions[1].offset
        try layout.add(.file(hostFile, offset: 4096, length: 300_000), at: root + 3 * 65_536)
        try layout.add(.bytes(Data(repeating: 0, count: 131_072)), at: root + 20 * 65_536)  // zero data: not allocated
        try layout.add(.bytes(bytes.data(512)), at: size - 2 * 1_048_576)  // near the end
        return layout
    }

    static func hostFile(in scratch: DiskScratch) throws -> URL {
        var bytes = TestBytes(seed: 7)
        let url = scratch.path("host.bin")
        var d = bytes.data(200_000)
        d.append(Data(repeating: 0, count: 100_000))  // a zero tail inside the range
        d.append(bytes.data(4096))
        try d.write(to: url)
        return url
    }
}

enum Sgdisk {
    /// `sgdisk -v` output of a sound table: no problems, and no caution or warning before it
    /// (exit codes say nothing: sgdisk exits 0 either way).
    static func clean(_ output: String) -> Bool {
        output.contains("No problems found") && !output.contains("Caution") && !output.contains("Warning")
            && !output.contains("corrupt")
    }
}

@Suite("GPT", .tags(.interop))
struct GPTTests {
    @Test("sgdisk -v finds no problems and sfdisk reads the partitions back")
    func verifiedByTools() async throws {
        let scratch = try DiskScratch("gpt")
        defer { scratch.cleanup() }
        let size: Int64 = 64 << 20
        let layout = try SampleDisk.layout(size: size, hostFile: try SampleDisk.hostFile(in: scratch))
        let raw = scratch.path("disk.raw")
        try await RawEncoder().encode(layout, to: raw, progress: nil)

        let verify = try Tool.status(["sgdisk", "-v", raw.path])
        #expect(Sgdisk.clean(verify.stdoutString), "\(verify.stdoutString)")

        let json = try #require(try Tool.json(["sfdisk", "--json", raw.path]) as? [String: Any])
        let table = try #require(json["partitiontable"] as? [String: Any])
        let gpt = SampleDisk.gpt(size: size)
        #expect(table["label"] as? String == "gpt")
        #expect((table["id"] as? String)?.uppercased() == gpt.diskGUID.description)
        #expect(table["firstlba"] as? Int == 34)
        #expect(table["lastlba"] as? Int == Int(size / 512) - 34)
        let parts = try #require(table["partitions"] as? [[String: Any]])
        #expect(parts.count == 2)
        for (p, want) in zip(parts, gpt.partitions) {
            #expect((p["type"] as? String)?.uppercased() == want.type.description)
            #expect((p["uuid"] as? String)?.uppercased() == want.guid.description)
            #expect(p["name"] as? String == want.name)
            #expect(p["start"] as? Int == Int(want.firstLBA))
            #expect(p["size"] as? Int == Int(want.lastLBA - want.firstLBA + 1))
        }
        let print = try Tool.run(["sgdisk", "-p", raw.path]).stdoutString
        #expect(print.contains("EF00") && print.contains("8304"), "\(print)")
    }

    @Test("a corrupted header is caught by sgdisk and by our reader")
    func corruption() async throws {
        let scratch = try DiskScratch("gpt-bad")
        defer { scratch.cleanup() }
        let size: Int64 = 16 << 20
        let table = SampleDisk.gpt(size: size)
        var layout = DiskLayout(size: size)
        var primary = table.primaryRegion()
        primary[512 + 60] ^= 0xFF  // flip a byte of the disk GUID without fixing the CRC
        try layout.add(.bytes(primary), at: 0)
        try layout.add(.bytes(table.backupRegion()), at: table.backupRegionOffset)
        let raw = scratch.path("bad.raw")
        try await RawEncoder().encode(layout, to: raw, progress: nil)
        let verify = try Tool.status(["sgdisk", "-v", raw.path])
        // sgdisk recovers from the backup header and still says "No problems found" after a
        // caution: only the whole output tells a clean table from a repaired one.
        #expect(!Sgdisk.clean(verify.stdoutString), "\(verify.stdoutString)")
        #expect(verify.stdoutString.contains("corrupt GPT"))
        let report = try DiskInspector.inspect(raw)
        #expect(report.gptValid == false)
    }

    @Test("partitions out of bounds or overlapping are refused")
    func validation() {
        var gpt = SampleDisk.gpt(size: 16 << 20)
        gpt.partitions[1].lastLBA = gpt.diskSectors - 1
        #expect(throws: DiskError.self) { try gpt.validate() }
        gpt = SampleDisk.gpt(size: 16 << 20)
        gpt.partitions[1].firstLBA = gpt.partitions[0].lastLBA
        #expect(throws: DiskError.self) { try gpt.validate() }
    }

    @Test("overlapping layout extents are refused with their offsets")
    func overlap() throws {
        var layout = DiskLayout(size: 1 << 20)
        try layout.add(.bytes(Data(count: 1000)), at: 4096)
        #expect(throws: DiskError.overlappingExtents(offset: 4096, previousEnd: 4196)) {
            try layout.add(.bytes(Data(count: 200)), at: 3996)
        }
        #expect(throws: DiskError.extentOutOfBounds(offset: 1_048_000, length: 1000, diskSize: 1 << 20)) {
            try layout.add(.bytes(Data(count: 1000)), at: 1_048_000)
        }
    }
}
