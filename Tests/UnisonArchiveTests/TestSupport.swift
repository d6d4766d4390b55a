import Foundation
import Testing
import UnisonCore
import UnisonTestSupport

@testable import UnisonArchive

enum Tool {
    /// Runs a tool and fails the calling test (by throwing) when it exits non-zero.
    @discardableResult
    static func run(_ arguments: [String], cwd: URL? = nil, input: Data? = nil) throws -> ProcessResult {
        try SystemProcessRunner().check(arguments, input: input, workingDirectory: cwd)
    }

    /// Runs a shell pipeline (for `tar | gzip` style checks).
    @discardableResult
    static func shell(_ script: String, cwd: URL? = nil) throws -> ProcessResult {
        try SystemProcessRunner().check(["/bin/sh", "-c", script], workingDirectory: cwd)
    }
}

/// Deterministic pseudo-random bytes (xorshift), so tests need no fixtures.
func pseudoRandomBytes(_ count: Int, seed: UInt64) -> Data {
    var state = seed | 1
    var out = [UInt8](repeating: 0, count: count)
    for i in 0..<count {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        out[i] = UInt8(truncatingIfNeeded: state)
    }
    return Data(out)
}

/// Compressible text-like bytes: words from a small vocabulary, deterministic.
func textBytes(_ count: Int, seed: UInt64) -> Data {
    let words = [
        "unison", "edge", "local", "model", "service", "compose", "systemd", "ollama", "tar", "gzip",
        "image", "root", "filesystem", "layer", "digest", "manifest", "\n", "=", "/usr/lib/", "0644",
    ]
    var state = seed | 1
    var out = Data()
    out.reserveCapacity(count + 32)
    while out.count < count {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        out.append(contentsOf: words[Int(state % UInt64(words.count))].utf8)
        out.append(UInt8(ascii: " "))
    }
    return out.prefix(count)
}

enum SampleTrees {
    static let epoch: Int64 = 1_700_000_000

    /// A tree exercising every feature the writer has: modes with special bits, numeric owners
    /// (one beyond ustar's 7 octal digits), symlinks, a hard link whose target sorts after it,
    /// names longer than 100 and 256 bytes, a long symlink target, xattrs with binary values,
    /// a fifo, devices, an empty file, a non-ASCII name and a file larger than a gzip block.
    static func rich(devices: Bool = true) throws -> FileTree {
        var t = FileTree(rootMtime: epoch)
        try t.addDirectory("etc", mtime: epoch)
        try t.addFile("etc/passwd", "root:x:0:0:root:/root:/bin/bash\n", mtime: epoch - 100)
        try t.addFile("etc/shadow", "root:*:19000:0:99999:7:::\n", mode: 0o640, gid: 42, mtime: epoch)
        try t.addDirectory("tmp", mode: 0o1777, mtime: epoch)
        try t.addDirectory("home/alice", mode: 0o750, uid: 1000, gid: 1000, mtime: epoch)
        try t.addFile("home/alice/notes.txt", "hello\n", mode: 0o600, uid: 1000, gid: 1000, mtime: epoch)
        try t.addFile("usr/bin/su", Data([0x7f, 0x45, 0x4c, 0x46]), mode: 0o4755, mtime: epoch)
        try t.addFile("usr/bin/wall", Data("wall".utf8), mode: 0o2755, gid: 5, mtime: epoch)
        try t.addFile("srv/big-owner", "x", uid: 3_000_000, gid: 4_000_000, mtime: epoch)
        try t.addSymlink("bin", target: "usr/bin", mtime: epoch)
        try t.addSymlink("etc/localtime", target: "/usr/share/zoneinfo/Etc/UTC", mtime: epoch)
        // The target ("z-target") sorts after its link ("a-link"): the writer must reorder.
        try t.addFile("data/z-target", "shared content\n", mode: 0o644, mtime: epoch)
        try t.insert(.init(path: "data/a-link", kind: .hardlink(target: "data/z-target"), mode: 0o644, mtime: epoch))
        let deep = (0..<6).map { "directory-component-number-\($0)" }.joined(separator: "/")  // > 100 bytes
        try t.addFile(deep + "/file-with-a-rather-long-name.txt", "deep\n", mtime: epoch)
        // > 256 bytes: does not fit ustar's prefix + name, needs a PAX path record.
        let veryLong = "v/" + (0..<12).map { "segment-\($0)-" + String(repeating: "x", count: 20) }.joined(separator: "/") + "/end.txt"
        try t.addFile(veryLong, "very long\n", mtime: epoch)
        try t.addSymlink("links/far", target: "../" + deep + "/file-with-a-rather-long-name.txt", mtime: epoch)
        var capable = FileTree.Entry(path: "usr/bin/ping", kind: .regular(.bytes(Data("ping".utf8))), mode: 0o755, mtime: epoch)
        capable.xattrs = [
            "user.unison.capability": Data([0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00, 0x00, 0x0a, 0xff]),
            "user.comment": Data("text value".utf8),
        ]
        try t.insert(capable)
        try t.insert(.init(path: "run/initctl", kind: .fifo, mode: 0o600, mtime: epoch))
        if devices {
            try t.insert(.init(path: "dev/null", kind: .characterDevice(major: 1, minor: 3), mode: 0o666, mtime: epoch))
            try t.insert(.init(path: "dev/loop0", kind: .blockDevice(major: 7, minor: 0), mode: 0o660, gid: 6, mtime: epoch))
        }
        try t.addFile("var/empty-file", Data(), mtime: epoch)
        try t.addFile("usr/share/café/menu.txt", "crème\n", mtime: epoch)
        try t.addFile("usr/lib/blob.bin", pseudoRandomBytes(300_000, seed: 7), mtime: epoch)
        try t.addFile("usr/share/doc/text.txt", textBytes(200_000, seed: 3), mtime: epoch)
        return t
    }
}

/// What an independent reader reports for one member, for comparisons.
struct Listed: Equatable, CustomStringConvertible {
    var path: String
    var type: Character
    var mode: UInt32
    var uid: UInt32
    var gid: UInt32
    var link: String?

    var description: String { "\(type) \(String(mode, radix: 8)) \(uid)/\(gid) \(path)\(link.map { " -> \($0)" } ?? "")" }
}

extension FileTree {
    /// The tree as the list an independent reader would give: path, type, mode, owners, link.
    func listed(includeRoot: Bool = false, asArchived: Bool = false) -> [Listed] {
        (asArchived ? orderedForArchive() : walk()).compactMap { e in
            if e.path.isEmpty && !includeRoot { return nil }
            let type: Character
            var link: String?
            switch e.kind {
            case .regular: type = "-"
            case .directory: type = "d"
            case let .symlink(t): type = "l"; link = t
            case let .hardlink(t): type = "h"; link = t
            case .characterDevice: type = "c"
            case .blockDevice: type = "b"
            case .fifo: type = "p"
            }
            return Listed(path: e.path, type: type, mode: e.mode, uid: e.uid, gid: e.gid, link: link)
        }.sorted { $0.path < $1.path }
    }
}
