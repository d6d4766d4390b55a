// `models verify` over a store holding manifests with hostile sizes: moved whole from
// UnisonOCITests/SizeCheckTests.swift (it checks the library's report and the CLI's).
import Foundation
import Testing
import UnisonCore
import UnisonTestSupport

@testable import UnisonOCI

@Suite("descriptor sizes from hostile manifests (unisonctl)", .tags(.unit))
struct SizeCheckCLITests {
    @Test("models verify: a manifest with hostile sizes is reported, the other models are still checked")
    func modelStore() throws {
        let tmp = try TempDir()
        let store = tmp.path("store")
        let blob = Data("{}".utf8)
        let blobDigest = Digest.sha256(of: blob)
        try FileManager.default.createDirectory(at: store.appendingPathComponent("blobs"), withIntermediateDirectories: true)
        try blob.write(to: store.appendingPathComponent("blobs/\(blobDigest.dashed)"))
        let good =
            #"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"\#(blobDigest)","size":2},"layers":[]}"#
        for (name, text) in [
            ("good", good), ("huge", String(decoding: HostileManifest.manifest(layerSizes: ["9223372036854775807"]), as: UTF8.self)),
            ("negative", String(decoding: HostileManifest.manifest(layerSizes: ["-1"]), as: UTF8.self)),
        ] {
            let dir = store.appendingPathComponent("manifests/registry.ollama.ai/library/\(name)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            try Data(text.utf8).write(to: dir.appendingPathComponent("1b"))
        }
        let report = try ModelStore(root: store).verify()
        #expect(!report.ok)
        #expect(report.models.count == 3)
        #expect(report.models.first { $0.name.contains("good") }?.ok == true)
        #expect(report.problems.filter { $0.kind == .corruptManifest }.count == 2)
        let cli = try OCICLI.run(["models", "verify", "--store", store.path])
        #expect(cli.status == 1, "\(cli.stderr)")
        #expect(cli.stdout.contains("huge") || cli.stderr.contains("huge"), "\(cli.stdout)\(cli.stderr)")
    }
}
