import Foundation
import Testing
import UnisonArchive
import UnisonCore
import UnisonTestSupport

@testable import UnisonDisk

/// The native ext4 writer on its own: hostile trees, host independence, and agreement with
/// the mke2fs writer. e2fsck and debugfs (e2fsprogs) are the independent readers.
@Suite("ext4 native writer", .tags(.interop))
struct NativeExt4Tests {
    static let epoch = Ext4Tests.epoch

    static func fsck(_ image: URL) throws {
        let r = try Tool.status(["e2fsck", "-fn", image.path])
        #expect(r.status == 0, "e2fsck -fn: \(r.stdoutString.suffix(3000))\(r.stderrString.suffix(2000))")
    }

    /// One debugfs run over many commands; output split per command.
    static func debugfs(_ image: URL, _ commands: [String], scratch: DiskScratch) throws -> [String] {
        let script = scratch.path("cmds-\(UUID().uuidString.prefix(6))")
        try Data((commands.joined(separator: "\n") + "\n").utf8).write(to: script)
        let out = try Tool.run(["debugfs", "-f", script.path, image.path]).stdoutString
        // debugfs echoes each command as "debugfs: CMD" before its output.
        var parts = out.components(separatedBy: "debugfs: ")
        parts.removeFirst()
        return parts
    }

    @Test("hostile tree: deep paths, 255-byte names, a 100k-entry directory, sparse and fragmented files, big xattrs")
    func hostile() throws {
        let scratch = try DiskScratch("ext4-hostile")
        defer { scratch.cleanup() }
        var t = FileTree(rootMtime: Self.epoch)
        let deep = (0..<300).map { "d\($0 % 10)" }.joined(separator: "/")
        try t.addFile(deep + "/bottom", "deep\n", mtime: Self.epoch)
        let long = String(repeating: "n", count: 250) + ".conf"
        try t.addFile("etc/" + long, "long\n", mtime: Self.epoch)
        try t.addFile("etc/" + String(repeating: "é", count: 127) + "x", "utf8 name of 255 bytes\n", mtime: Self.epoch)
        // 100k names of ~45 bytes: over 1000 leaf blocks, so the htree needs a level of index nodes.
        for i in 0..<100_000 {
            try t.insert(.init(path: "many/file-with-a-longer-name-\(i)-and-padding", kind: .regular(.bytes(Data())), mode: 0o644, mtime: Self.epoch))
        }
        // A few hundred entries: a one-level htree.
        for i in 0..<600 {
            // Bytes above 0x7f hash differently with signed and unsigned chars: e2fsck checks ours.
            try t.addSymlink(
                "some/\(i % 2 == 0 ? "link" : "lién-ü")\(i)", target: "../many/file-with-a-longer-name-\(i)-and-padding", mtime: Self.epoch)
        }
        // Sparse: 8 MiB with data only at 1 MiB and at the end.
        var sparse = Data(count: 8 << 20)
        sparse[1 << 20] = 1
        sparse[(8 << 20) - 1] = 2
        try t.addFile("var/lib/sparse.img", sparse, mtime: Self.epoch)
        // 700 data blocks separated by holes: 700 extents, three leaf blocks of at most 340.
        var fragmented = Data(count: 1400 * 4096)
        for i in stride(from: 0, to: 1400, by: 2) { fragmented[i * 4096 + 7] = UInt8(truncatingIfNeeded: i | 1) }
        try t.addFile("var/lib/fragmented", fragmented, mtime: Self.epoch)
        try t.insert(
            .init(
                path: "usr/bin/noted", kind: .regular(.bytes(Data("x".utf8))), mode: 0o755, mtime: Self.epoch,
                xattrs: ["user.big": Data(repeating: 0x41, count: 600), "security.capability": Data(repeating: 1, count: 20)]))
        try t.addFile("etc/say \"hi\"", "quotes are fine natively\n", mtime: Self.epoch)
        try t.addSymlink("etc/slow", target: String(repeating: "s", count: 200), mtime: Self.epoch)

        let image = try Ext4Tests.build(t, scratch: scratch, name: "hostile.img", writer: .native, size: 768 << 20)
        try Self.fsck(image.url)

        let out = try Self.debugfs(
            image.url,
            [
                "cat \"/\(deep)/bottom\"", "cat \"/etc/\(long)\"", "stat /var/lib/sparse.img", "stat /var/lib/fragmented",
                "ea_list /usr/bin/noted", "ls -l /many/file-with-a-longer-name-99999-and-padding", "cat /etc/slow", "ls /etc",
                "htree /many", "htree /some",
            ], scratch: scratch)
        #expect(out[0].hasSuffix("\ndeep\n"), "\(out[0].prefix(500))")
        #expect(out[1].hasSuffix("\nlong\n"))
        // Two data blocks allocated for 8 MiB: 16 sectors.
        #expect(out[2].contains("Blockcount: 16"), "\(out[2])")
        #expect(out[2].contains("Size: 8388608"))
        #expect(out[3].contains("Blockcount: \(700 * 8 + 3 * 8)"), "700 data blocks and 3 extent leaves: \(out[3].prefix(800))")
        #expect(out[4].contains("user.big (600)"), "\(out[4])")
        #expect(out[4].contains("security.capability (20)"))
        #expect(out[5].contains("file-with-a-longer-name-99999-and-padding"))
        #expect(out[6].hasSuffix(String(repeating: "s", count: 200)))
        #expect(out[7].contains("say \"hi\""), "\(out[7])")
        #expect(out[8].contains("Indirect levels: 1"), "\(out[8].prefix(600))")
        #expect(out[9].contains("Indirect levels: 0"), "\(out[9].prefix(600))")

        for (path, data) in [("var/lib/sparse.img", sparse), ("var/lib/fragmented", fragmented)] {
            let back = try Tool.run(["debugfs", "-R", "cat /\(path)", image.url.path]).stdout
            #expect(back == data, "\(path) reads back")
        }
    }

    @Test("the bytes do not depend on the host's directory order")
    func hostOrder() throws {
        let scratch = try DiskScratch("ext4-order")
        defer { scratch.cleanup() }
        let names = (0..<300).map { "file-\(($0 * 7919) % 300)" }
        // The same files created in opposite orders (readdir order follows creation on most filesystems).
        for (dir, order) in [("a", names), ("b", Array(names.reversed()))] {
            let root = scratch.path(dir)
            try FileManager.default.createDirectory(at: root.appendingPathComponent("sub"), withIntermediateDirectories: true)
            for name in order {
                try Data(name.utf8).write(to: root.appendingPathComponent("sub/" + name))
                try Data(name.utf8).write(to: root.appendingPathComponent(name))
            }
        }
        var images: [URL] = []
        for dir in ["a", "b"] {
            var tree = try FileTree(directory: scratch.path(dir))
            for entry in tree.walk() {
                try tree.update(entry.path) {
                    $0.mtime = Self.epoch; $0.uid = 0; $0.gid = 0
                }
            }
            images.append(try Ext4Tests.build(tree, scratch: scratch, name: "\(dir).img", writer: .native).url)
        }
        try Self.fsck(images[0])
        #expect(try Tool.status(["cmp", images[0].path, images[1].path]).status == 0)
    }

    @Test("native and mke2fs images hold the same entries, metadata and contents")
    func agreesWithMke2fs() throws {
        let scratch = try DiskScratch("ext4-compare")
        defer { scratch.cleanup() }
        let tree = try Ext4Tests.tree()
        let native = try Ext4Tests.build(tree, scratch: scratch, name: "native.img", writer: .native)
        let reference = try Ext4Tests.build(tree, scratch: scratch, name: "mke2fs.img", writer: .mke2fs)
        let paths = tree.walk().map { "/" + $0.path }
        var commands: [String] = []
        for p in paths {
            commands += ["stat \"\(p)\"", "ea_list \"\(p)\""]
            // Contents of files and symlinks (a directory's raw blocks legitimately differ).
            if case .directory = tree[String(p.dropFirst())]!.kind {} else { commands.append("cat \"\(p)\"") }
        }
        let a = try Self.debugfs(native.url, commands, scratch: scratch)
        let b = try Self.debugfs(reference.url, commands, scratch: scratch)
        #expect(a.count == b.count)
        // Fields that must agree; inode numbers, block numbers and checksums legitimately differ.
        let fields = [
            "Type: [a-z ]+", "Mode: +[0-7]+", "User: +[0-9]+ +Group: +[0-9]+", "Links: [0-9]+", "Size: [0-9]+",
            "mtime: 0x[0-9a-f]+", "Fast link dest: .*", "Device major/minor number: [0-9:]+",
        ]
        for (i, (x, y)) in zip(a, b).enumerated() {
            if x.hasPrefix("stat") {
                for f in fields {
                    let fx = x.range(of: f, options: .regularExpression).map { String(x[$0]) }
                    let fy = y.range(of: f, options: .regularExpression).map { String(y[$0]) }
                    #expect(fx == fy, "\(commands[i]): \(f)")
                }
            } else {
                #expect(x == y, "\(commands[i])")
            }
        }
    }

    @Test("a tree that cannot fit, or an unknown xattr namespace, is refused with the path")
    func refusals() throws {
        let scratch = try DiskScratch("ext4-refuse")
        defer { scratch.cleanup() }
        var big = FileTree()
        try big.addFile("blob", Data(repeating: 7, count: 20 << 20))
        #expect(throws: DiskError.self) { _ = try Ext4Tests.build(big, scratch: scratch, name: "small.img", writer: .native, size: 16 << 20) }
        var ns = FileTree()
        try ns.insert(.init(path: "x", kind: .regular(.bytes(Data())), mode: 0o644, xattrs: ["system.richacl": Data([2, 0, 0, 0])]))
        #expect(
            throws: DiskError.unsupportedEntry(
                path: "/x", filesystem: "ext4",
                detail: "extended attribute 'system.richacl' is not in the user, trusted or security namespace nor a POSIX ACL")
        ) {
            _ = try Ext4Tests.build(ns, scratch: scratch, name: "ns.img", writer: .native)
        }
    }

    @Test("the directory hash agrees with debugfs dx_hash (half_md4, signed, the image's seed)")
    func dirHash() throws {
        let scratch = try DiskScratch("ext4-hash")
        defer { scratch.cleanup() }
        var t = FileTree(rootMtime: Self.epoch)
        try t.addFile("x", "x")
        let image = try Ext4Tests.build(t, scratch: scratch, name: "h.img", writer: .native)
        let names = [
            "a", "lost+found", "libc.so.6", String(repeating: "z", count: 31), String(repeating: "q", count: 32),
            String(repeating: "é", count: 20) + "ß", String(repeating: "n", count: 255),
        ]
        let seed = image.uuid.text(uppercase: false)
        let out = try Self.debugfs(image.url, names.map { "dx_hash -h half_md4 -s \(seed) \($0)" }, scratch: scratch)
        for (name, line) in zip(names, out) {
            let (major, minor) = DirHash.halfMD4(Array(name.utf8), seed: image.uuid.bytes)
            let expected = "is 0x\(String(major, radix: 16)) (minor 0x\(String(minor, radix: 16)))"
            #expect(line.contains(expected), "\(name): \(line) vs \(expected)")
        }
    }

    @Test("CRC-32C matches the standard check value")
    func crc32c() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        let long = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        // Split updates equal one pass (slicing-by-8 and the byte tail agree).
        #expect(CRC32C.update(CRC32C.update(~0, Array(long[0..<333])), Array(long[333...])) == CRC32C.update(~0, long))
    }
}
