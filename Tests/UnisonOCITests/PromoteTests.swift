// Promotion's library side: tagging into another repository mounts blobs. `release promote`
// run as unisonctl is in UnisonCLITests/PromoteCLITests.swift; both seed the registry with
// PromoteSeed (UnisonTestSupport).
import Foundation
import Testing
import UnisonCore
import UnisonPublish
import UnisonTestSupport

@testable import UnisonOCI

@Suite("release promote", .tags(.interop))
struct PromoteTests {
    @Test("tagging into another repository mounts the blobs instead of uploading them")
    func tagAcrossRepositories() async throws {
        let registry = try TestRegistry.start()
        defer { registry.stop() }
        let tmp = try TempDir()
        let digests = try await PromoteSeed.seed(["unison-auth"], host: registry.host, tmp: tmp)
        let proxy = try FaultProxy(.init(upstream: registry.host))
        defer { proxy.stop() }
        let client = testClient()
        let result = try await client.tag(
            try ImageReference(parsing: "\(proxy.host)/project-unisonos/unison-auth:edge-main"),
            as: [Tag("v1.0.0")!], in: try ImageReference(parsing: "\(proxy.host)/releases/unison-auth"))
        #expect(result.digest.description == digests["unison-auth"])
        #expect(client.stats.snapshot.blobsMounted == 3)
        #expect(try proxy.stats().blob_upload_bytes == 0)
        let raw = try TestProcess.run(["skopeo", "inspect", "--raw", "--tls-verify=false", "docker://\(registry.host)/releases/unison-auth:v1.0.0"])
        #expect(TestImage.sha256(Data(raw.utf8)) == digests["unison-auth"])
    }
}
