import Foundation
import Testing
import UnisonTestSupport

/// `image verify-store` against a store laid out by hand here (blobs named by `sha256sum`, not
/// by our writer): intact, then one layer flipped, then one config cut short.
@Suite(.tags(.interop)) struct ImageStoreCLITests {
    /// Writes `data` as a blob and returns its hex digest (sha256sum's).
    static func blob(_ data: Data, in store: URL) throws -> String {
        let tmp = store.appendingPathComponent("tmp-blob")
        try data.write(to: tmp)
        let hex = String(try TestProcess.runMerged(["sha256sum", tmp.path]).output.prefix(64))
        try FileManager.default.moveItem(at: tmp, to: store.appendingPathComponent("blobs/sha256/\(hex)"))
        return hex
    }

    @Test func verifyStoreNamesTheImageAndTheBlob() throws {
        let dir = try CLI.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = dir.appendingPathComponent("images")
        try FileManager.default.createDirectory(at: store.appendingPathComponent("blobs/sha256"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: store.appendingPathComponent("docker"), withIntermediateDirectories: true)
        let layerData = Data((0..<50_000).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        let configData = Data(#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#.utf8)
        let layer = try Self.blob(layerData, in: store)
        let config = try Self.blob(configData, in: store)
        let manifestData = Data(
            """
            {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",\
            "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:\(config)","size":\(configData.count)},\
            "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:\(layer)","size":\(layerData.count)}]}
            """.utf8)
        let manifest = try Self.blob(manifestData, in: store)
        let ref = "docker.io/unisontest/http:1"
        try Data(#"{"imageLayoutVersion":"1.0.0"}"#.utf8).write(to: store.appendingPathComponent("oci-layout"))
        try Data(
            """
            {"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:\(manifest)",\
            "size":\(manifestData.count),"annotations":{"org.opencontainers.image.ref.name":"\(ref)"}}]}
            """.utf8
        ).write(to: store.appendingPathComponent("index.json"))
        try Data("0\tweb,api\t\(ref)\n".utf8).write(to: store.appendingPathComponent("images.tsv"))
        try Data(#"[{"Config":"blobs/sha256/\#(config)","Layers":["blobs/sha256/\#(layer)"],"RepoTags":["\#(ref)"]}]"#.utf8)
            .write(to: store.appendingPathComponent("docker/0.json"))
        try Data("\(config)  blobs/sha256/\(config)\n\(layer)  blobs/sha256/\(layer)\n".utf8)
            .write(to: store.appendingPathComponent("docker/0.sha256"))

        var r = try CLI.run(["image", "verify-store", store.path])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("1 images, 3 blobs"))

        // One byte of the layer flipped: exit 1, the service, the image and the blob named.
        let layerURL = store.appendingPathComponent("blobs/sha256/\(layer)")
        var bytes = layerData
        bytes[100] ^= 0x01
        try bytes.write(to: layerURL)
        r = try CLI.run(["image", "verify-store", store.path])
        #expect(r.status == 1)
        #expect(r.stdout.hasPrefix("web: image \(ref): blob sha256:\(layer): does not match its digest"), "\(r.stdout)")
        try layerData.write(to: layerURL)

        // The config cut short: its size is wrong; --json is versioned and says which.
        try configData.prefix(10).write(to: store.appendingPathComponent("blobs/sha256/\(config)"))
        r = try CLI.run(["image", "verify-store", "--json", store.path])
        #expect(r.status == 1)
        let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        #expect(json?["schema"] as? String == "unisonctl.image-store-check/v1")
        #expect(json?["ok"] as? Bool == false)
        let problem = (json?["problems"] as? [[String: Any]])?.first
        #expect(problem?["digest"] as? String == "sha256:\(config)")
        #expect((problem?["reason"] as? String)?.contains("is 10 bytes") == true, "\(r.stdout)")
    }
}
