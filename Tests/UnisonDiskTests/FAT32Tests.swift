import Foundation
import Testing
import UnisonArchive
import UnisonCore
import UnisonTestSupport

@testable import UnisonDisk

@Suite("FAT32", .tags(.interop))
struct FAT32Tests {
    static let epoch: Int64 = 1_704_067_200  // 2024-01-01T00:00:00Z

    /// An ESP-like tree: boot loader, loader entries, long and short names, a directory that
    /// spans several clusters, an empty file, content from a host file range.
    static func tree(host: URL) throws -> FileTree {
        var bytes = TestBytes(seed: 99)
        var t = FileTree(rootMtime: epoch)
        try t.addDirectory("EFI", mtime: epoch)
        try t.addDirectory("EFI/BOOT", mtime: epoch)
        try t.addFile("EFI/BOOT/BOOTX64.EFI", bytes.data(140_891), mtime: epoch)
        try t.addFile("loader/loader.conf", "default unisonos.conf\ntimeout 0\n", mtime: epoch)
        try t.addFile("loader/entries/unisonos.conf", "title UnisonOS\nlinux /vmlinuz\n", mtime: epoch)
        try t.insert(.init(path: "vmlinuz-6.1.0-50-amd64", kind: .regular(.range(host, offset: 1000, length: 250_000)), mode: 0o644, mtime: epoch))
        try t.addFile("empty", Data(), mtime: epoch)
        try t.addFile("exact.bin", bytes.data(4096), mtime: epoch)
        try t.addFile("README", "short upper-case name, no long entry\n", mode: 0o444, mtime: epoch)
        for i in 0..<120 {
            try t.addFile("many/a rather long file name number \(i).txt", "file \(i)\n", mtime: epoch)
        }
        try t.addFile("many/Ünïcödé name.txt", "unicode\n", mtime: epoch)
        return t
    }

    static func write(_ tree: FileTree, size: Int64, to url: URL) async throws -> FAT32Volume {
        let volume = try FAT32Volume.build(tree, size: size, options: .init(label: "ESP", volumeID: 0x1234_ABCD, hiddenSectors: 2048))
        var layout = DiskLayout(size: size)
        try layout.add(volume.extents, at: 0)
        try await RawEncoder().encode(layout, to: url, progress: nil)
        return volume
    }

    @Test(
        "fsck.vfat -n accepts the volume; mtools lists and copies every file back byte for byte",
        arguments: [Int64(48 << 20), Int64(300 << 20)])
    func readBack(size: Int64) async throws {
        let scratch = try DiskScratch("fat")
        defer { scratch.cleanup() }
        let host = try SampleDisk.hostFile(in: scratch)
        let tree = try Self.tree(host: host)
        let image = scratch.path("esp.img")
        let volume = try await Self.write(tree, size: size, to: image)
        #expect(volume.geometry.clusterCount >= 65_525)

        let fsck = try Tool.status(["fsck.vfat", "-n", "-v", image.path])
        #expect(fsck.status == 0, "\(fsck.stdoutString)\(fsck.stderrString)")
        #expect(!fsck.stdoutString.contains("differ") && !fsck.stdoutString.lowercased().contains("warning"), "\(fsck.stdoutString)")
        #expect(fsck.stdoutString.contains("32 bit entries"), "\(fsck.stdoutString)")

        let env = ["MTOOLS_SKIP_CHECK": "0", "TZ": "UTC"]
        let listing = try Tool.run(["mdir", "-i", image.path, "-/", "-a", "::/"], environment: env).stdoutString
        #expect(listing.contains("BOOTX64  EFI"), "\(listing)")
        #expect(listing.contains("loader.conf"))
        #expect(listing.contains("a rather long file name number 119.txt"))
        #expect(listing.contains("Ünïcödé name.txt"))
        #expect(listing.contains("2024-01-01"), "DOS dates come from the entries' mtime (the epoch)")
        #expect(!listing.contains("2025-") && !listing.contains("2026-"))

        let out = scratch.path("out")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        for entry in tree.walk() {
            guard case let .regular(content) = entry.kind else { continue }
            let dest = out.appendingPathComponent(entry.path.replacingOccurrences(of: "/", with: "_"))
            try Tool.run(["mcopy", "-n", "-i", image.path, "::/" + entry.path, dest.path], environment: env)
            #expect(try Data(contentsOf: dest) == (try content.data()), "\(entry.path)")
        }
        let info = try Tool.run(["minfo", "-i", image.path, "::"], environment: env).stdoutString
        #expect(info.contains("serial number: 1234ABCD"), "\(info)")
        #expect(info.contains("disk label=\"ESP  "), "\(info)")
        #expect(info.contains("free clusters=\(volume.geometry.clusterCount - volume.usedClusters)"), "\(info)")
        #expect(info.contains("last allocated cluster=\(volume.usedClusters + 1)"), "\(info)")
    }

    @Test("the same tree gives the same bytes")
    func reproducible() async throws {
        let scratch = try DiskScratch("fat-repro")
        defer { scratch.cleanup() }
        let host = try SampleDisk.hostFile(in: scratch)
        let tree = try Self.tree(host: host)
        let a = scratch.path("a.img"), b = scratch.path("b.img")
        _ = try await Self.write(tree, size: 48 << 20, to: a)
        _ = try await Self.write(tree, size: 48 << 20, to: b)
        #expect(try Tool.status(["cmp", "-s", a.path, b.path]).status == 0)
    }

    @Test("entries FAT cannot hold are refused with their path")
    func refused() throws {
        var links = FileTree()
        try links.addSymlink("EFI/link", target: "x")
        #expect(throws: DiskError.unsupportedEntry(path: "EFI/link", filesystem: "FAT32", detail: "FAT has no symbolic links")) {
            _ = try FAT32Volume.build(links, size: 48 << 20, options: .init(label: "ESP", volumeID: 1, hiddenSectors: 0))
        }
        var cased = FileTree()
        try cased.addFile("Boot.cfg", "a")
        try cased.addFile("BOOT.CFG", "b")
        #expect(throws: DiskError.self) {
            _ = try FAT32Volume.build(cased, size: 48 << 20, options: .init(label: "ESP", volumeID: 1, hiddenSectors: 0))
        }
        var bad = FileTree()
        try bad.addFile("what?.txt", "a")
        #expect(throws: DiskError.self) {
            _ = try FAT32Volume.build(bad, size: 48 << 20, options: .init(label: "ESP", volumeID: 1, hiddenSectors: 0))
        }
        #expect(throws: DiskError.self) {
            _ = try FAT32Volume.build(FileTree(), size: 16 << 20, options: .init(label: "ESP", volumeID: 1, hiddenSectors: 0))
        }
    }

    @Test(
        "short names: exact 8.3 names stay, others get a unique numeric tail",
        arguments: [
            ("BOOTX64.EFI", "BOOTX64 EFI"), ("README", "README     "), ("loader.conf", "LOADER~1CON"),
            // The extension is what follows the last dot; blanks and other dots are dropped.
            ("vmlinuz-6.1.0-50-amd64", "VMLINU~10-5"), (".hidden", "HIDDEN~1   "), ("a b+c.tar.gz", "AB_CTA~1GZ "),
        ])
    func shortNames(name: String, expected: String) {
        let short = FATNames.exactShortName(name) ?? FATNames.generatedShortName(name, taken: [])
        #expect(String(decoding: short, as: UTF8.self) == expected)
        let taken: Set<[UInt8]> = [short]
        if FATNames.exactShortName(name) == nil {
            #expect(String(decoding: FATNames.generatedShortName(name, taken: taken), as: UTF8.self).contains("~2"))
        }
    }

    @Test(
        "DOS dates and times",
        arguments: [
            // (epoch, year, month, day, hour, minute, second)
            [1_704_067_200, 2024, 1, 1, 0, 0, 0],
            [1_718_454_123, 2024, 6, 15, 12, 22, 3],
            [0, 1980, 1, 1, 0, 0, 0],  // before 1980: clamped
        ] as [[Int64]])
    func dosTime(row: [Int64]) {
        let date = UInt16((row[1] - 1980) << 9 | row[2] << 5 | row[3])
        let time = UInt16(row[4] << 11 | row[5] << 5 | row[6] / 2)
        let epoch = row[0]
        let t = DOSTime(epochSeconds: epoch)
        #expect(t.date == date)
        #expect(t.time == time)
    }
}
