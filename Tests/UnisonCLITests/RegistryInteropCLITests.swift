// The interop tests that end with `unisonctl oci` runs (Basic auth from flags, docker config and
// environment; a corrupt blob refused): moved whole from UnisonOCITests/RegistryInteropTests.swift.
import Foundation
import Testing
import UnisonCore
import UnisonTestSupport

@testable import UnisonOCI

@Suite("registry interop (docker-registry + skopeo), unisonctl", .tags(.interop))
struct RegistryInteropCLITests {
    @Test("Basic auth (htpasswd): credentials work, missing or wrong ones fail clearly")
    func basicAuth() async throws {
        let registry = try TestRegistry.start(basicAuth: ("unison", "s3cret-pass"))
        defer { registry.stop() }
        let tmp = try TempDir()
        let image = try TestImage.make(layout: tmp.path("src"), tag: "v1", layerFiles: [["x": Data("x".utf8)]])
        let target = try ImageReference(parsing: "\(registry.host)/team/private:v1")
        let source = ImageLocation.layout(LayoutReference(directory: image.layout, tag: Tag("v1")))

        let anonymous = testClient()
        await #expect {
            _ = try await anonymous.copy(from: source, to: .registry(target))
        } throws: { error in
            guard case let .unauthorized(registryName, _, _, detail) = error as? OCIError else { return false }
            return registryName == registry.host && detail.contains("no credentials")
        }
        let wrong = testClient(credential: RegistryCredential(username: "unison", password: "nope"))
        await #expect {
            _ = try await wrong.copy(from: source, to: .registry(target))
        } throws: { error in
            guard case let .unauthorized(_, _, _, detail) = error as? OCIError else { return false }
            return detail.contains("refused") && !"\(error)".contains("nope")
        }
        let good = testClient(credential: RegistryCredential(username: "unison", password: "s3cret-pass"))
        let report = try await good.copy(from: source, to: .registry(target))
        #expect(report.digest.description == image.manifestDigest)
        let raw = try TestProcess.run(["skopeo", "inspect", "--raw", "--tls-verify=false", "--creds", "unison:s3cret-pass", "docker://\(target)"])
        #expect(Data(raw.utf8) == image.manifestBytes)

        // Credentials from ~/.docker/config.json (auths.<host>.auth) through the CLI.
        let home = tmp.path("home")
        try FileManager.default.createDirectory(at: home.appendingPathComponent(".docker"), withIntermediateDirectories: true)
        let auth = Data("unison:s3cret-pass".utf8).base64EncodedString()
        try Data(#"{"auths":{"\#(registry.host)":{"auth":"\#(auth)"}}}"#.utf8).write(to: home.appendingPathComponent(".docker/config.json"))
        let cli = try OCICLI.run(
            ["oci", "inspect", target.description, "--json"],
            environment: ["HOME": home.path, "DOCKER_CONFIG": home.appendingPathComponent(".docker").path])
        #expect(cli.status == 0, "\(cli.stderr)")
        #expect(cli.stdout.contains(image.manifestDigest))
        // The password never shows up in what the CLI prints, even when it is refused.
        let refused = try OCICLI.run(
            ["oci", "inspect", target.description, "--username", "unison", "--password-stdin"],
            input: Data("wrong-secret-value\n".utf8))
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("refused"))
        #expect(!refused.stderr.contains("wrong-secret-value") && !refused.stdout.contains("wrong-secret-value"))
        // UNISON_REGISTRY_USER / UNISON_REGISTRY_PASSWORD.
        let fromEnv = try OCICLI.run(
            ["oci", "ls", "\(registry.host)/team/private"],
            environment: ["UNISON_REGISTRY_USER": "unison", "UNISON_REGISTRY_PASSWORD": "s3cret-pass"])
        #expect(fromEnv.status == 0, "\(fromEnv.stderr)")
        #expect(fromEnv.stdout == "v1\n")
    }

    @Test("a blob whose bytes do not match its digest is refused and nothing of it is kept")
    func corruptBlobRefused() async throws {
        let registry = try TestRegistry.start()
        defer { registry.stop() }
        let tmp = try TempDir()
        let image = try TestImage.make(layout: tmp.path("src"), tag: "v1", layerFiles: [["big": TestImage.noise(200_000, seed: 11)]])
        let client = testClient()
        let target = try ImageReference(parsing: "\(registry.host)/team/corrupt:v1")
        _ = try await client.copy(from: .layout(LayoutReference(directory: image.layout, tag: Tag("v1"))), to: .registry(target))
        // Flip one byte of the layer inside the registry's own storage.
        let stored = registry.storedBlob(image.layers[0].digest.hex)
        var bytes = try Data(contentsOf: stored)
        bytes[1000] ^= 0xff
        try bytes.write(to: stored)

        let out = tmp.path("out")
        await #expect {
            try await client.pull(reference: target, toLayout: out)
        } throws: { error in
            guard case let .digestMismatch(what, expected, _) = error as? OCIError else { return false }
            return expected == image.layers[0].digest && what.contains(image.layers[0].digest.description)
        }
        let blobs = out.appendingPathComponent("blobs/sha256")
        let left = (try? FileManager.default.contentsOfDirectory(atPath: blobs.path)) ?? []
        #expect(!left.contains(image.layers[0].digest.hex))
        #expect(!left.contains { $0.hasPrefix(".") }, "temporary files left: \(left)")
        // The manifest was not recorded either: the layout names no image.
        #expect((try? OCILayout(opening: out).index().manifests.isEmpty) ?? true)

        // Through the CLI: exit 1 and the digest named.
        let cli = try OCICLI.run(["oci", "pull", target.description, "--output", tmp.path("cli-out").path])
        #expect(cli.status == 1)
        #expect(cli.stderr.contains(image.layers[0].digest.description))
    }
}
