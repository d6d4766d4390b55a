// Integration tier with faults: the python fault proxy in front of a real docker-registry drops
// connections, answers 5xx, enforces Content-Range, asks for Bearer tokens that expire, and
// counts the bytes it receives.
import Foundation
import Testing
import UnisonCore
import UnisonTestSupport

@testable import UnisonOCI

@Suite("faults: retries, resumed uploads, token refresh, redirects", .tags(.interop))
struct FaultInjectionTests {
    /// Pushes `image` through the proxy and checks the registry holds exactly our bytes.
    private func expectStored(_ image: TestImage, at reference: String) throws {
        let raw = try TestProcess.run(["skopeo", "inspect", "--raw", "--tls-verify=false", "docker://\(reference)"])
        #expect(Data(raw.utf8) == image.manifestBytes)
    }

    @Test("a connection dropped after the registry took a chunk, then a 503: the upload resumes from the registry's offset")
    func resumeAfterDropAndServerError() async throws {
        let registry = try TestRegistry.start()
        defer { registry.stop() }
        let proxy = try FaultProxy(
            .init(
                upstream: registry.host,
                faults: [
                    // The 2nd PATCH reaches the registry but its answer is lost: the client must learn
                    // the new offset from the registry instead of resending (the proxy would 416 it).
                    .init(method: "PATCH", nth: [2], action: .drop_after_forward),
                    // The 4th PATCH gets a 503 without reaching the registry.
                    .init(method: "PATCH", nth: [4], action: .status, status: 503),
                ]))
        defer { proxy.stop() }
        let tmp = try TempDir()
        let layerBytes = TestImage.noise(1_200_000, seed: 21)
        let image = try TestImage.make(layout: tmp.path("src"), tag: "v1", layerFiles: [["payload": layerBytes]])
        let client = testClient(chunkSize: 256 << 10)
        let target = try ImageReference(parsing: "\(proxy.host)/team/resume:v1")
        let report = try await client.copy(from: .layout(LayoutReference(directory: image.layout, tag: Tag("v1"))), to: .registry(target))
        #expect(report.digest.description == image.manifestDigest)

        let stats = try proxy.stats()
        #expect(stats.faults_fired == 2)
        #expect(stats.range_rejections == 0, "the client resent bytes the registry already had")
        // Every layer byte went out once, plus the one chunk refused with 503.
        let layer = image.layers[0].size
        let chunk = Int64(256 << 10)
        #expect(stats.patch_bytes == layer + chunk, "PATCH bytes \(stats.patch_bytes) for a \(layer)-byte layer")
        #expect(stats.requests.contains { $0.hasPrefix("GET /v2/team/resume/blobs/uploads/") }, "no upload status query")
        try expectStored(image, at: "\(registry.host)/team/resume:v1")
        // The stored layer is the original, byte for byte.
        let stored = try Data(contentsOf: registry.storedBlob(image.layers[0].digest.hex))
        #expect(TestImage.sha256(stored) == image.layers[0].digest.description)

        // Re-push through the proxy: no blob bytes at all reach the registry.
        let again = try await client.copy(from: .layout(LayoutReference(directory: image.layout, tag: Tag("v1"))), to: .registry(target))
        #expect(again.bytesTransferred == 0)
        #expect(try proxy.stats().blob_upload_bytes == stats.blob_upload_bytes)
    }

    @Test("Content-Range is inclusive and starts at the registry's offset", arguments: [64 << 10, 100_000, 1 << 20])
    func chunkBoundaries(chunk: Int) async throws {
        let registry = try TestRegistry.start()
        defer { registry.stop() }
        let proxy = try FaultProxy(.init(upstream: registry.host))
        defer { proxy.stop() }
        let tmp = try TempDir()
        let image = try TestImage.make(layout: tmp.path("src"), tag: "v1", layerFiles: [["p": TestImage.noise(450_000, seed: UInt64(chunk))]])
        let client = testClient(chunkSize: Int64(chunk))
        _ = try await client.copy(
            from: .layout(LayoutReference(directory: image.layout, tag: Tag("v1"))),
            to: .registry(try ImageReference(parsing: "\(proxy.host)/team/chunks:v1")))
        let stats = try proxy.stats()
        #expect(stats.range_rejections == 0)
        let patches = stats.requests.filter { $0.hasPrefix("PATCH ") }.count
        let layer = Int(image.layers[0].size)
        #expect(patches == (layer > chunk ? (layer + chunk - 1) / chunk : 0))
        try expectStored(image, at: "\(registry.host)/team/chunks:v1")
    }

    @Test("a lost answer to the final PUT is checked with HEAD, not re-uploaded blindly")
    func commitAnswerLost() async throws {
        let registry = try TestRegistry.start()
        defer { registry.stop() }
        let proxy = try FaultProxy(
            .init(
                upstream: registry.host,
                faults: [
                    .init(method: "PUT", path_contains: "/blobs/uploads/", nth: [1], action: .drop_after_forward)
                ]))
        defer { proxy.stop() }
        let tmp = try TempDir()
        let image = try TestImage.make(layout: tmp.path("src"), tag: "v1", layerFiles: [["p": TestImage.noise(30_000, seed: 4)]])
        let client = testClient()
        _ = try await client.copy(
            from: .layout(LayoutReference(directory: image.layout, tag: Tag("v1"))),
            to: .registry(try ImageReference(parsing: "\(proxy.host)/team/commit:v1")))
        try expectStored(image, at: "\(registry.host)/team/commit:v1")
        #expect(try proxy.stats().faults_fired == 1)
    }

    @Test("pulls survive a 429 and a 503 on the manifest and a blob cut in the middle (resumed with Range)")
    func pullRetries() async throws {
        let registry = try TestRegistry.start()
        defer { registry.stop() }
        let tmp = try TempDir()
        let image = try TestImage.make(layout: tmp.path("src"), tag: "v1", layerFiles: [["p": TestImage.noise(600_000, seed: 8)]])
        try TestProcess.run(["skopeo", "copy", "--dest-tls-verify=false", "oci:\(image.layout.path):v1", "docker://\(registry.host)/team/pull:v1"])
        let proxy = try FaultProxy(
            .init(
                upstream: registry.host,
                faults: [
                    .init(method: "GET", path_contains: "/manifests/", nth: [1], action: .status, status: 429),
                    .init(method: "GET", path_contains: "/manifests/", nth: [2], action: .status, status: 503),
                    .init(method: "GET", path_contains: "/blobs/\(image.layers[0].digest)", nth: [1], action: .drop_mid_body),
                ]))
        defer { proxy.stop() }
        let client = testClient()
        let out = tmp.path("out")
        let report = try await client.pull(reference: try ImageReference(parsing: "\(proxy.host)/team/pull:v1"), toLayout: out)
        #expect(report.digest.description == image.manifestDigest)
        #expect(try proxy.stats().faults_fired == 3)
        #expect(try proxy.stats().requests.filter { $0.hasPrefix("GET /v2/team/pull/manifests/") }.count == 3)
        for blob in image.blobs {
            #expect(
                FileManager.default.contentsEqual(
                    atPath: image.layout.appendingPathComponent("blobs/sha256/\(blob.digest.hex)").path,
                    andPath: out.appendingPathComponent("blobs/sha256/\(blob.digest.hex)").path))
        }
        #expect(client.stats.snapshot.retries >= 3)
    }

    @Test("retries stop at the policy's attempts, with an error naming the reference and status")
    func retriesExhausted() async throws {
        let registry = try TestRegistry.start()
        defer { registry.stop() }
        let proxy = try FaultProxy(
            .init(
                upstream: registry.host,
                faults: [
                    .init(method: "GET", path_contains: "/manifests/", nth: Array(1...10), action: .status, status: 503)
                ]))
        defer { proxy.stop() }
        let client = testClient(attempts: 3)
        let ref = try ImageReference(parsing: "\(proxy.host)/team/down:v1")
        await #expect {
            _ = try await client.fetchManifest(ref)
        } throws: { error in
            guard case let .registry(status, what, reference, errors, _) = error as? OCIError else { return false }
            return status == 503 && what == "GET manifest" && reference == ref.description && errors.first?.code == "UNAVAILABLE"
        }
        #expect(try proxy.stats().faults_fired == 3)
    }
}
