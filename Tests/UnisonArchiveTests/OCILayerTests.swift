import Foundation
import Testing
import UnisonCore
import UnisonTestSupport

@testable import UnisonArchive

/// OCI image-spec layer semantics: layers applied in order, whiteouts and opaque directories
/// removing what lower layers put there. Layers are made by GNU tar from real directories.
@Suite("OCI layers", .tags(.interop))
struct OCILayerTests {
    /// Writes `files` (path -> content; a trailing "/" makes a directory, "->" a symlink) into a
    /// directory and packs it with GNU tar + gzip, as image builders do.
    static func layer(_ files: [String: String], in dir: URL, name: String) throws -> URL {
        let root = dir.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        for (path, content) in files.sorted(by: { $0.key < $1.key }) {
            let url = root.appendingPathComponent(path)
            if path.hasSuffix("/") {
                try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
                continue
            }
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            if content.hasPrefix("->") {
                try FileManager.default.createSymbolicLink(atPath: url.path, withDestinationPath: String(content.dropFirst(2)))
            } else {
                try Data(content.utf8).write(to: url)
            }
        }
        let out = dir.appendingPathComponent(name + ".tar.gz")
        try Tool.shell("tar --numeric-owner --sort=name -C '\(root.path)' -czf '\(out.path)' .")
        return out
    }

    static func text(_ tree: FileTree, _ path: String) throws -> String? {
        guard let e = tree[path], case let .regular(c) = e.kind else { return nil }
        return String(decoding: try c.data(), as: UTF8.self)
    }

    @Test("whiteouts, opaque directories and replacements give the expected tree")
    func whiteouts() throws {
        let dir = try Scratch("oci")
        defer { dir.cleanup() }
        let l1 = try Self.layer(
            [
                "etc/a": "a1", "etc/b": "b1", "etc/sub/c": "c1",
                "var/lib/x/data": "old", "var/lib/x/more/deep": "old",
                "usr/bin/tool": "binary", "opt/keep": "v1", "srv/gone/": "",
            ], in: dir.url, name: "l1")
        let l2 = try Self.layer(
            [
                "etc/.wh.a": "",  // delete a file from below
                "var/lib/x/.wh..wh..opq": "",  // hide everything below in x ...
                "var/lib/x/new": "fresh",  // ... but not what this layer adds
                "usr/bin/tool": "->/usr/bin/other",  // file replaced by a symlink
                "opt/.wh.keep": "", "opt/keep": "v2",  // a whiteout never hides its own layer
                "srv/.wh.gone": "",  // delete a directory
                ".wh..wh.plnk/": "",  // AUFS metadata: ignored
            ], in: dir.url, name: "l2")
        let l3 = try Self.layer(
            [
                "etc/.wh.sub": "",  // delete a populated directory
                "etc/sub/": "",  // and recreate it empty
                "var/lib/x/.wh.new": "",
            ], in: dir.url, name: "l3")

        var tree = FileTree()
        for layer in [l1, l2, l3] { try tree.applyLayer(layer, options: .init(spoolDirectory: dir.path("spool"))) }

        #expect(tree["etc/a"] == nil)
        #expect(try Self.text(tree, "etc/b") == "b1")
        #expect(tree["etc/sub"]?.isDirectory == true)
        #expect(tree.children(of: "etc/sub").isEmpty)
        #expect(tree["var/lib/x/data"] == nil && tree["var/lib/x/more"] == nil)
        #expect(tree["var/lib/x"]?.isDirectory == true && tree.children(of: "var/lib/x").isEmpty)
        #expect(tree["usr/bin/tool"]?.kind == .symlink(target: "/usr/bin/other"))
        #expect(try Self.text(tree, "opt/keep") == "v2")
        #expect(tree["srv/gone"] == nil && tree["srv"]?.isDirectory == true)
        // No whiteout marker survives into the tree.
        #expect(!tree.walk().contains { $0.path.split(separator: "/").last?.hasPrefix(".wh.") == true })

        // Written back out, GNU tar lists exactly the surviving paths.
        let out = dir.path("merged.tar")
        try TarArchive.write(tree, to: out, options: .init(compression: .none))
        let listed = try Tool.run(["tar", "-tf", out.path]).stdoutString.split(separator: "\n")
            .map { $0.hasSuffix("/") ? String($0.dropLast()) : String($0) }.sorted()
        #expect(
            listed == [
                "etc", "etc/b", "etc/sub", "opt", "opt/keep", "srv", "usr", "usr/bin", "usr/bin/tool",
                "var", "var/lib", "var/lib/x",
            ])
    }

    @Test("a whiteout naming '..' is refused")
    func hostileWhiteout() throws {
        let dir = try Scratch("oci-bad")
        defer { dir.cleanup() }
        let archive = dir.path("bad.tar")
        try HostileArchiveTests.archive([.init(name: "etc/.wh..."), .init(name: "x")]).write(to: archive)
        var tree = FileTree()
        try tree.addFile("etc/passwd", "root")
        #expect { try tree.applyLayer(archive) } throws: { ($0 as? TarError)?.member == "etc/.wh..." }
        #expect(tree["etc/passwd"] != nil)
    }
}
