// The fault proxy's Bearer-token test, which ends with `unisonctl oci inspect`: it moved here
// whole from UnisonOCITests/FaultInjectionTests.swift (the proxy is in UnisonTestSupport).
import Foundation
import Testing
import UnisonCore
import UnisonTestSupport

@testable import UnisonOCI

@Suite("faults: Bearer tokens through the client and unisonctl", .tags(.interop))
struct FaultInjectionCLITests {
    /// Pushes `image` through the proxy and checks the registry holds exactly our bytes.
    private func expectStored(_ image: TestImage, at reference: String) throws {
        let raw = try TestProcess.run(["skopeo", "inspect", "--raw", "--tls-verify=false", "docker://\(reference)"])
        #expect(Data(raw.utf8) == image.manifestBytes)
    }

    @Test("Bearer tokens: fetched with Basic credentials, refreshed when they expire mid-upload, never sent after a redirect")
    func bearerTokens() async throws {
        let registry = try TestRegistry.start()
        defer { registry.stop() }
        let proxy = try FaultProxy(
            .init(
                upstream: registry.host,
                token_auth: .init(user: "ci", password: "ghp_token_value", max_uses: 3),
                redirect_blob_gets: true))
        defer { proxy.stop() }
        let tmp = try TempDir()
        let image = try TestImage.make(
            layout: tmp.path("src"), tag: "v1",
            layerFiles: [
                ["a": TestImage.noise(300_000, seed: 2)], ["b": TestImage.noise(200_000, seed: 6)],
            ])
        let client = testClient(credential: RegistryCredential(username: "ci", password: "ghp_token_value"), chunkSize: 64 << 10)
        let target = try ImageReference(parsing: "\(proxy.host)/org/svc:edge-main")
        let report = try await client.copy(from: .layout(LayoutReference(directory: image.layout, tag: Tag("v1"))), to: .registry(target))
        #expect(report.digest.description == image.manifestDigest)
        let afterPush = try proxy.stats()
        // Tokens last three requests; a chunked push of two layers needs far more, so several
        // tokens were fetched in the middle of the upload.
        #expect(afterPush.tokens_issued >= 4)
        #expect(afterPush.range_rejections == 0)
        try expectStored(image, at: "\(registry.host)/org/svc:edge-main")

        // Pull back: blob GETs are redirected to http://localhost:<port>, another host; no
        // Authorization header may follow them.
        let out = tmp.path("out")
        _ = try await client.pull(reference: target, toLayout: out)
        let afterPull = try proxy.stats()
        #expect(afterPull.redirected >= 3)
        #expect(afterPull.auth_on_redirect == 0)
        for blob in image.blobs {
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("blobs/sha256/\(blob.digest.hex)").path))
        }

        // Without credentials the token service refuses, and the error says so.
        let anonymous = testClient()
        await #expect {
            _ = try await anonymous.fetchManifest(target)
        } throws: { error in
            guard case let .unauthorized(_, _, _, detail) = error as? OCIError else { return false }
            return detail.contains("wants credentials")
        }
        // Through the CLI, the token value never appears in its output.
        let cli = try OCICLI.run(
            ["oci", "inspect", target.description, "--json", "--username", "ci", "--password-stdin"],
            input: Data("ghp_token_value\n".utf8))
        #expect(cli.status == 0, "\(cli.stderr)")
        #expect(!cli.stdout.contains("ghp_token_value") && !cli.stderr.contains("ghp_token_value"))
    }
}
