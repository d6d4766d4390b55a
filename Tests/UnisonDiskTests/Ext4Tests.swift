import Foundation
import Testing
import UnisonArchive
import UnisonCore
import UnisonTestSupport

@testable import UnisonDisk

/// Both ext4 writers behind `Ext4Builder`: the native one and the mke2fs -d one it replaced.
enum Ext4WriterKind: String, CaseIterable, CustomTestStringConvertible {
    case native, mke2fs
    var builder: any Ext4Builder { self == .native ? NativeExt4Builder() : Mke2fsExt4Builder() }
    var testDescription: String { rawValue }
}

@Suite("ext4 writers: native and mke2fs -d + debugfs", .tags(.interop))
struct Ext4Tests {
    static let epoch: Int64 = 1_704_067_200

    /// Everything a root filesystem records that a rootless staging directory cannot hold.
    static func tree() throws -> FileTree {
        var bytes = TestBytes(seed: 5)
        var t = FileTree(rootMtime: epoch)
        try t.addDirectory("etc", mtime: epoch)
        try t.addFile("etc/hostname", "unisonos\n", mtime: epoch)
        try t.addFile("etc/shadow", "root:*:19000:0:99999:7:::\n", mode: 0o640, gid: 42, mtime: epoch)
        try t.addFile("etc/locked", "nobody may read this\n", mode: 0o000, mtime: epoch)
        try t.addDirectory("home/unison", mode: 0o750, uid: 1000, gid: 1000, mtime: epoch)
        try t.addFile("home/unison/notes with spaces.txt", "hello\n", mode: 0o600, uid: 1000, gid: 1000, mtime: epoch - 86_400)
        try t.addDirectory("var/cache/apt/archives/partial", mode: 0o700, uid: 42, mtime: epoch)
        try t.addFile("usr/bin/passwd", bytes.data(70_000), mode: 0o4755, mtime: epoch)
        try t.addFile("usr/bin/chage", bytes.data(30_000), mode: 0o2755, gid: 42, mtime: epoch)
        try t.insert(
            .init(
                path: "usr/bin/ping", kind: .regular(.bytes(bytes.data(9000))), mode: 0o755, mtime: epoch,
                xattrs: ["security.capability": Data([0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])]))
        try t.insert(
            .init(
                path: "usr/share/doc/readme", kind: .regular(.bytes(Data("doc\n".utf8))), mode: 0o644, mtime: epoch,
                xattrs: ["user.comment": Data("a note".utf8)]))
        try t.addFile("usr/lib/big.bin", bytes.data(3 << 20), mtime: epoch)
        try t.insert(.init(path: "usr/lib/big-link.bin", kind: .hardlink(target: "usr/lib/big.bin"), mode: 0o644, mtime: epoch))
        try t.addSymlink("bin", target: "usr/bin", mtime: epoch)
        try t.addSymlink("etc/long-link", target: "/" + String(repeating: "x/", count: 60) + "target", mtime: epoch)
        try t.insert(.init(path: "dev/null", kind: .characterDevice(major: 1, minor: 3), mode: 0o666, mtime: epoch))
        try t.insert(.init(path: "dev/sda", kind: .blockDevice(major: 8, minor: 0), mode: 0o660, gid: 6, mtime: epoch))
        try t.insert(.init(path: "run/initctl", kind: .fifo, mode: 0o600, mtime: epoch))
        try t.addDirectory("tmp", mode: 0o1777, mtime: epoch)
        // POSIX ACLs as tar carries them (VFS layout, version 2): owner rwx, group r-x, group 4 r-x, mask, other.
        let noID: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF]
        let acl = Data(
            [2, 0, 0, 0] + [1, 0, 7, 0] + noID + [4, 0, 5, 0] + noID + [8, 0, 5, 0, 4, 0, 0, 0]
                + [0x10, 0, 5, 0] + noID + [0x20, 0, 5, 0] + noID)
        try t.insert(
            .init(
                path: "var/log/journal", kind: .directory, mode: 0o2755, gid: 101, mtime: epoch,
                xattrs: ["system.posix_acl_access": acl, "system.posix_acl_default": acl]))
        return t
    }

    static func build(
        _ tree: FileTree, scratch: DiskScratch, name: String, writer: Ext4WriterKind = .mke2fs,
        size: Int64 = 64 << 20
    ) throws -> Ext4Image {
        let uuid = GUID.derived(from: Array("ext4-test".utf8), label: "root")
        return try writer.builder.build(
            tree, image: scratch.path(name), size: size,
            options: .init(uuid: uuid, label: "unisonos-root", epoch: epoch, workDir: scratch.url))
    }

    static func stat(_ image: URL, _ path: String) throws -> String {
        try Tool.run(["debugfs", "-R", "stat \"\(path)\"", image.path]).stdoutString
    }

    @Test("e2fsck -fn is clean; debugfs shows owners, modes, devices, fifos, links, xattrs and times", arguments: Ext4WriterKind.allCases)
    func readBack(_ writer: Ext4WriterKind) throws {
        let scratch = try DiskScratch("ext4")
        defer { scratch.cleanup() }
        let tree = try Self.tree()
        let image = try Self.build(tree, scratch: scratch, name: "root.img", writer: writer)

        let fsck = try Tool.status(["e2fsck", "-fn", image.url.path])
        #expect(fsck.status == 0, "\(fsck.stdoutString)\(fsck.stderrString)")

        // (path, type word, octal mode, uid, gid) as debugfs prints them.
        let expected: [(String, String, String, Int, Int)] = [
            ("/etc/shadow", "regular", "0640", 0, 42), ("/etc/locked", "regular", "0000", 0, 0),
            ("/home/unison", "directory", "0750", 1000, 1000), ("/home/unison/notes with spaces.txt", "regular", "0600", 1000, 1000),
            ("/var/cache/apt/archives/partial", "directory", "0700", 42, 0), ("/usr/bin/passwd", "regular", "04755", 0, 0),
            ("/usr/bin/chage", "regular", "02755", 0, 42), ("/dev/null", "character special", "0666", 0, 0),
            ("/dev/sda", "block special", "0660", 0, 6), ("/run/initctl", "FIFO", "0600", 0, 0),
            ("/tmp", "directory", "01777", 0, 0), ("/bin", "symlink", "0777", 0, 0), ("/", "directory", "0755", 0, 0),
        ]
        for (path, type, mode, uid, gid) in expected {
            let s = try Self.stat(image.url, path)
            #expect(s.contains("Type: \(type)"), "\(path): \(s)")
            #expect(s.contains("Mode:  \(mode)"), "\(path): \(s)")
            #expect(s.range(of: "User: +\(uid) +Group: +\(gid) ", options: .regularExpression) != nil, "\(path): \(s)")
            // No time from the build host: every inode carries its entry's mtime.
            for field in ["ctime", "atime", "mtime", "crtime"] {
                #expect(s.range(of: "\(field): 0x[0-9a-f]+:00000000 -- ", options: .regularExpression) != nil, "\(path) \(field): \(s)")
            }
            #expect(!s.contains("2025") && !s.contains("2026"), "\(path): \(s)")
        }
        #expect(try Self.stat(image.url, "/home/unison/notes with spaces.txt").contains("mtime: 0x6590af00:00000000"))
        #expect(try Self.stat(image.url, "/dev/null").contains("Device major/minor number: 01:03"))
        #expect(try Self.stat(image.url, "/dev/sda").contains("Device major/minor number: 08:00"))

        let big = try Self.stat(image.url, "/usr/lib/big.bin"), link = try Self.stat(image.url, "/usr/lib/big-link.bin")
        let inode = big.split(separator: " ").dropFirst().first
        #expect(big.contains("Links: 2"))
        #expect(link.split(separator: " ").dropFirst().first == inode, "hard links share the inode")
        #expect(try Self.stat(image.url, "/bin").contains("Fast link dest: \"usr/bin\""))
        let longTarget = try Tool.run(["debugfs", "-R", "cat /etc/long-link", image.url.path]).stdoutString
        #expect(longTarget == "/" + String(repeating: "x/", count: 60) + "target")

        let xattrs = try Tool.run(["debugfs", "-R", "ea_list /usr/bin/ping", image.url.path]).stdoutString
        #expect(xattrs.contains("security.capability (20) = 01 00 00 02 00 20 00 00"), "\(xattrs)")
        #expect(
            try Tool.run(["debugfs", "-R", "ea_list /usr/share/doc/readme", image.url.path]).stdoutString.contains("user.comment (6) = \"a note\""))
        // ext4's own ACL layout (version 1; short entries except the named group's): debugfs
        // shows the stored bytes, which e2fsprogs' ea_set writes for the mke2fs writer.
        let acl = try Tool.run(["debugfs", "-R", "ea_list /var/log/journal", image.url.path]).stdoutString
        let stored = "(28) = 01 00 00 00 01 00 07 00 04 00 05 00 08 00 05 00 04 00 00 00 10 00 05 00 20 00 05 00"
        #expect(acl.contains("system.posix_acl_access \(stored)"), "\(acl)")
        #expect(acl.contains("system.posix_acl_default \(stored)"), "\(acl)")

        for path in ["usr/lib/big.bin", "etc/locked", "home/unison/notes with spaces.txt"] {
            guard case let .regular(content) = tree[path]!.kind else { continue }
            let out = try Tool.run(["debugfs", "-R", "cat \"/\(path)\"", image.url.path]).stdout
            #expect(out == (try content.data()), "\(path)")
        }

        let sb = try #require(Ext4Superblock.probe(try HostFile(image.url).read(at: 0, count: 4096)))
        #expect(sb.uuid == image.uuid)
        #expect(sb.label == "unisonos-root")
        #expect(sb.blockSize * sb.blockCount == 64 << 20)
        let dumpe2fs = try Tool.run(["dumpe2fs", "-h", image.url.path]).stdoutString
        #expect(dumpe2fs.contains("Filesystem UUID:          \(image.uuid.text(uppercase: false))"))
        #expect(dumpe2fs.contains("Directory Hash Seed:      \(image.uuid.text(uppercase: false))"))
        #expect(dumpe2fs.contains("Filesystem created:       Mon Jan  1 00:00:00 2024"), "\(dumpe2fs)")
        #expect(!image.dataRanges.isEmpty && image.dataRanges.reduce(0) { $0 + $1.count } < 64 << 20)
    }

    @Test("two builds of the same tree are byte-identical (staging times do not leak)", arguments: Ext4WriterKind.allCases)
    func reproducible(_ writer: Ext4WriterKind) throws {
        let scratch = try DiskScratch("ext4-repro")
        defer { scratch.cleanup() }
        let tree = try Self.tree()
        let a = try Self.build(tree, scratch: scratch, name: "a.img", writer: writer)
        Thread.sleep(forTimeInterval: 1.1)
        let b = try Self.build(tree, scratch: scratch, name: "b.img", writer: writer)
        #expect(try Tool.status(["cmp", a.url.path, b.url.path]).status == 0)
    }

    @Test("names debugfs cannot take are refused with their path by the mke2fs writer")
    func refusedNames() throws {
        let scratch = try DiskScratch("ext4-bad")
        defer { scratch.cleanup() }
        var t = FileTree()
        try t.addFile("etc/say \"hi\"", "x")
        #expect(
            throws: DiskError.unsupportedEntry(
                path: "/etc/say \"hi\"", filesystem: "ext4 (debugfs)",
                detail: "the name holds a quote or a control character")
        ) {
            _ = try Self.build(t, scratch: scratch, name: "bad.img")
        }
    }
}
