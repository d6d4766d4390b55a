// Test images built without the code under test: layers are tarballs made by the `tar` CLI and
// compressed by `gzip -n`; configs, manifests and index.json are written here by hand following
// the image spec. skopeo and docker-registry then read them.
import Foundation
import UnisonCore
import UnisonOCI

package struct TestImage {
    package let layout: URL
    package let tag: String
    package let manifestBytes: Data
    package let manifestDigest: String
    package let config: Descriptor
    package let layers: [Descriptor]

    package var blobs: [Descriptor] { [config] + layers }

    package static func sha256(_ data: Data) -> String {
        "sha256:" + SHA256Hex.hex(data)
    }

    /// Deterministic bytes that do not compress (xorshift), for layers of a chosen size.
    package static func noise(_ count: Int, seed: UInt64) -> Data {
        var state = seed | 1
        var out = Data(capacity: count)
        while out.count < count {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            withUnsafeBytes(of: state) { out.append(contentsOf: $0.prefix(min(8, count - out.count))) }
        }
        return out
    }

    /// Writes a one-platform image into the OCI layout `layout` (created when absent) under
    /// `tag`. Each entry of `layerFiles` becomes one layer: a directory tree of files.
    package static func make(
        layout: URL, tag: String, layerFiles: [[String: Data]], platform: (os: String, arch: String) = ("linux", "amd64"),
        recordInIndex: Bool = true
    ) throws -> TestImage {
        let fm = FileManager.default
        let blobsDir = layout.appendingPathComponent("blobs/sha256")
        try fm.createDirectory(at: blobsDir, withIntermediateDirectories: true)
        try Data(#"{"imageLayoutVersion":"1.0.0"}"#.utf8).write(to: layout.appendingPathComponent("oci-layout"))
        let work = try TempDir.create("image")
        defer { try? fm.removeItem(at: work) }

        var layers: [Descriptor] = []
        var diffIDs: [String] = []
        for (i, files) in layerFiles.enumerated() {
            let root = work.appendingPathComponent("layer\(i)")
            for (path, content) in files {
                let url = root.appendingPathComponent(path)
                try fm.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try content.write(to: url)
            }
            let tarFile = work.appendingPathComponent("layer\(i).tar")
            try TestProcess.run([
                "tar", "--sort=name", "--owner=0", "--group=0", "--numeric-owner", "--mtime=@0",
                "-cf", tarFile.path, "-C", root.path, ".",
            ])
            try TestProcess.run(["gzip", "-n", "-k", tarFile.path])
            let tar = try Data(contentsOf: tarFile)
            let gz = try Data(contentsOf: work.appendingPathComponent("layer\(i).tar.gz"))
            diffIDs.append(sha256(tar))
            layers.append(try write(gz, mediaType: MediaType.ociLayerTarGzip, to: blobsDir))
        }
        let diffList = diffIDs.map { "\"\($0)\"" }.joined(separator: ",")
        let configJSON =
            #"{"architecture":"\#(platform.arch)","config":{"Cmd":["/bin/sh"]},"created":"2024-01-01T00:00:00Z","os":"\#(platform.os)","rootfs":{"diff_ids":[\#(diffList)],"type":"layers"}}"#
        let config = try write(Data(configJSON.utf8), mediaType: MediaType.ociConfig, to: blobsDir)
        let layerJSON = layers.map { #"{"mediaType":"\#($0.mediaType)","digest":"\#($0.digest)","size":\#($0.size)}"# }.joined(separator: ",")
        let manifestJSON =
            #"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"\#(config.digest)","size":\#(config.size)},"layers":[\#(layerJSON)]}"#
        let manifestBytes = Data(manifestJSON.utf8)
        let manifest = try write(manifestBytes, mediaType: MediaType.ociManifest, to: blobsDir)
        if recordInIndex {
            try setIndex(layout: layout, entries: [(manifest, tag, nil)])
        }
        return TestImage(
            layout: layout, tag: tag, manifestBytes: manifestBytes, manifestDigest: manifest.digest.description,
            config: config, layers: layers)
    }

    /// Writes index.json with the given entries (descriptor, tag, platform).
    package static func setIndex(layout: URL, entries: [(Descriptor, String?, (String, String)?)]) throws {
        let items = entries.map { d, tag, platform -> String in
            var s = #"{"mediaType":"\#(d.mediaType)","digest":"\#(d.digest)","size":\#(d.size)"#
            if let tag { s += #","annotations":{"org.opencontainers.image.ref.name":"\#(tag)"}"# }
            if let platform { s += #","platform":{"architecture":"\#(platform.1)","os":"\#(platform.0)"}"# }
            return s + "}"
        }
        let index = #"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[\#(items.joined(separator: ","))]}"#
        try Data(index.utf8).write(to: layout.appendingPathComponent("index.json"))
    }

    /// A two-platform image: an index (tagged `tag`) over linux/amd64 and linux/arm64 manifests.
    package static func makeMultiPlatform(layout: URL, tag: String) throws -> (index: Descriptor, amd64: TestImage, arm64: TestImage) {
        let amd = try make(layout: layout, tag: "amd", layerFiles: [["etc/arch": Data("amd64\n".utf8)]], recordInIndex: false)
        let arm = try make(
            layout: layout, tag: "arm", layerFiles: [["etc/arch": Data("arm64\n".utf8)]], platform: ("linux", "arm64"),
            recordInIndex: false)
        let entries = [(amd, "amd64"), (arm, "arm64")].map { image, arch in
            #"{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"\#(image.manifestDigest)","size":\#(image.manifestBytes.count),"platform":{"architecture":"\#(arch)","os":"linux"}}"#
        }
        let indexJSON = #"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[\#(entries.joined(separator: ","))]}"#
        let index = try write(Data(indexJSON.utf8), mediaType: MediaType.ociIndex, to: layout.appendingPathComponent("blobs/sha256"))
        try setIndex(layout: layout, entries: [(index, tag, nil)])
        return (index, amd, arm)
    }

    private static func write(_ data: Data, mediaType: String, to dir: URL) throws -> Descriptor {
        let digest = sha256(data)
        try data.write(to: dir.appendingPathComponent(String(digest.dropFirst(7))))
        return Descriptor(mediaType: mediaType, digest: try Digest.parse(digest), size: Int64(data.count))
    }
}

/// Runs the built `unisonctl`.
package enum OCICLI {
    package static let repoRoot = Unisonctl.repoRoot

    package static var binary: String { Unisonctl.binary.path }

    package static func run(_ arguments: [String], environment: [String: String] = [:], input: Data? = nil) throws -> (
        status: Int32, stdout: String, stderr: String
    ) {
        var env = environment
        // Keep the developer's own credentials out of the tests.
        env["HOME"] = env["HOME"] ?? FileManager.default.temporaryDirectory.path
        env["DOCKER_CONFIG"] = env["DOCKER_CONFIG"] ?? "/nonexistent"
        return try TestProcess.runStatus([binary] + arguments, environment: env, input: input)
    }
}
