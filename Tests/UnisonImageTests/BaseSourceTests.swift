import Foundation
import Testing
import UnisonCore
import UnisonTestSupport

@testable import UnisonImage

/// Bases: parsing `--base`, OCI image layouts (checked and copied by skopeo), the cache.
@Suite("bases", .tags(.interop))
struct BaseSourceTests {
    /// Writes an OCI image layout whose layers GNU tar made from `layers` (path -> content,
    /// "" for a whiteout marker file), tagged `tag`. Returns the layout directory.
    static func layout(in dir: URL, tag: String, layers: [[String: String]]) throws -> URL {
        let layout = dir.appendingPathComponent("layout")
        let blobs = layout.appendingPathComponent("blobs/sha256")
        try FileManager.default.createDirectory(at: blobs, withIntermediateDirectories: true)
        func put(_ data: Data) throws -> (digest: String, size: Int) {
            let hex = SHA256Hex.hex(data)
            try data.write(to: blobs.appendingPathComponent(hex))
            return ("sha256:" + hex, data.count)
        }
        var layerDescriptors: [[String: Any]] = []
        var diffIDs: [String] = []
        for (i, files) in layers.enumerated() {
            let root = dir.appendingPathComponent("layer\(i)")
            for (path, content) in files {
                let url = root.appendingPathComponent(path)
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(content.utf8).write(to: url)
            }
            let tar = dir.appendingPathComponent("layer\(i).tar")
            try ImageTool.run(["tar", "--numeric-owner", "--sort=name", "--mtime=@1600000000", "-C", root.path, "-cf", tar.path, "."])
            diffIDs.append("sha256:" + (try SHA256Hex.file(tar).hex))
            try ImageTool.run(["gzip", "-n", "-f", tar.path])
            let blob = try put(try Data(contentsOf: URL(fileURLWithPath: tar.path + ".gz")))
            layerDescriptors.append(["mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": blob.digest, "size": blob.size])
        }
        let config: [String: Any] = [
            "architecture": "amd64", "os": "linux", "config": [:] as [String: Any],
            "rootfs": ["type": "layers", "diff_ids": diffIDs],
        ]
        let configBlob = try put(try JSONSerialization.data(withJSONObject: config, options: [.sortedKeys]))
        let manifest: [String: Any] = [
            "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": ["mediaType": "application/vnd.oci.image.config.v1+json", "digest": configBlob.digest, "size": configBlob.size],
            "layers": layerDescriptors,
        ]
        let manifestBlob = try put(try JSONSerialization.data(withJSONObject: manifest, options: [.sortedKeys]))
        let index: [String: Any] = [
            "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [
                [
                    "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifestBlob.digest,
                    "size": manifestBlob.size, "annotations": ["org.opencontainers.image.ref.name": tag],
                ]
            ],
        ]
        try JSONSerialization.data(withJSONObject: index, options: [.sortedKeys]).write(to: layout.appendingPathComponent("index.json"))
        try Data(#"{"imageLayoutVersion":"1.0.0"}"#.utf8).write(to: layout.appendingPathComponent("oci-layout"))
        return layout
    }

    static let layers: [[String: String]] = [
        ["etc/passwd": "root:x:0:0:root:/root:/bin/sh\n", "etc/motd": "old\n", "var/cache/app/a": "1", "var/cache/app/b": "2"],
        ["etc/.wh.motd": "", "var/cache/app/.wh..wh..opq": "", "var/cache/app/c": "3", "etc/os-release": "ID=test\n"],
    ]

    @Test("an OCI layout (validated and re-written by skopeo) gives the layered tree")
    func ociLayout() throws {
        let scratch = try ImageScratch("oci-base")
        defer { scratch.cleanup() }
        let ours = try Self.layout(in: scratch.url, tag: "v1", layers: Self.layers)
        // skopeo reads our layout and writes its own copy; we read skopeo's copy.
        let inspect = try ImageTool.run(["skopeo", "inspect", "oci:\(ours.path):v1"]).stdoutString
        #expect(inspect.contains("\"Layers\""))
        let copy = scratch.path("skopeo-copy")
        try ImageTool.run(["skopeo", "copy", "--quiet", "oci:\(ours.path):v1", "oci:\(copy.path):v1"])
        for layout in [ours, copy] {
            let source = try BaseSource.parse("oci:\(layout.path):v1", spec: nil)
            #expect(source.description == "oci:\(layout.path):v1")
            let tree = try BaseSource.load(source, workDir: scratch.path("work"))
            #expect(tree["etc/passwd"] != nil && tree["etc/os-release"] != nil)
            #expect(tree["etc/motd"] == nil, "whiteout ignored")
            #expect(tree.children(of: "var/cache/app").map(\.path) == ["var/cache/app/c"], "opaque directory ignored")
        }
        // Without a tag, the only image is used; without a work directory, layers stay in memory.
        let inMemory = try BaseSource.load(.ociLayout(copy, tag: nil))
        let osRelease = try #require(inMemory["etc/os-release"])
        guard case let .regular(content) = osRelease.kind, case .bytes = content else { Issue.record("not in memory"); return }
        #expect(try content.data() == Data("ID=test\n".utf8))
    }

    @Test("a corrupted blob is refused by digest; a wrong tag lists the tags")
    func ociErrors() throws {
        let scratch = try ImageScratch("oci-bad")
        defer { scratch.cleanup() }
        let layout = try Self.layout(in: scratch.url, tag: "v1", layers: Self.layers)
        #expect { try BaseSource.load(.ociLayout(layout, tag: "v2"), workDir: scratch.path("w")) } throws: { error in
            "\(error)".contains("no image tagged 'v2' (tags: v1)")
        }
        // Flip a byte of the first layer blob.
        let blobs = layout.appendingPathComponent("blobs/sha256")
        let layerBlob = try FileManager.default.contentsOfDirectory(atPath: blobs.path).first { name in
            let data = (try? Data(contentsOf: blobs.appendingPathComponent(name))) ?? Data()
            return data.starts(with: [0x1f, 0x8b])
        }!
        var data = try Data(contentsOf: blobs.appendingPathComponent(layerBlob))
        data[data.count / 2] ^= 0x01
        try data.write(to: blobs.appendingPathComponent(layerBlob))
        #expect { try BaseSource.load(.ociLayout(layout, tag: "v1"), workDir: scratch.path("w")) } throws: { error in
            guard case let .digestMismatch(path, expected, _)? = error as? BaseError else { return false }
            return path.hasSuffix(layerBlob) && expected == "sha256:" + layerBlob
        }
    }

    @Test("--base values: paths win over spec names; oci: takes a tag")
    func parse() throws {
        let scratch = try ImageScratch("parse")
        defer { scratch.cleanup() }
        try Data("x".utf8).write(to: scratch.path("rootfs.tar.zst"))
        try FileManager.default.createDirectory(at: scratch.path("dir"), withIntermediateDirectories: true)
        let root = scratch.url.path
        func parsed(_ text: String) throws -> String { "\(try BaseSource.parse(text, spec: nil, relativeTo: scratch.url))" }
        #expect(try BaseSource.parse(root + "/rootfs.tar.zst", spec: nil) == .tarball(URL(fileURLWithPath: root + "/rootfs.tar.zst")))
        guard case .tarball = try BaseSource.parse("rootfs.tar.zst", spec: nil, relativeTo: scratch.url) else {
            Issue.record("a relative tarball path"); return
        }
        guard case .directory = try BaseSource.parse("dir", spec: nil, relativeTo: scratch.url) else {
            Issue.record("a relative directory"); return
        }
        #expect(try parsed("dir") == root + "/dir")
        #expect(try parsed("oci:dir:24.04") == "oci:\(root)/dir:24.04")
        #expect(try parsed("oci:dir") == "oci:\(root)/dir")
        #expect(throws: BaseError.self) { try BaseSource.parse("no-such-base", spec: nil) }
    }

    @Test("the cache follows UNISONCTL_CACHE_DIR, XDG_CACHE_HOME, then HOME")
    func cacheDirectory() {
        #expect(BaseCache.directory(environment: ["UNISONCTL_CACHE_DIR": "/c", "XDG_CACHE_HOME": "/x", "HOME": "/h"]).path == "/c")
        #expect(BaseCache.directory(environment: ["XDG_CACHE_HOME": "/x", "HOME": "/h"]).path == "/x/unisonctl")
        #expect(BaseCache.directory(environment: ["HOME": "/h"]).path == "/h/.cache/unisonctl")
    }
}
