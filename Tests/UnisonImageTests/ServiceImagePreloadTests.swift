import Foundation
import Testing
import UnisonCore
import UnisonInstall
import UnisonSpec
import UnisonTestSupport

@testable import UnisonImage

/// The test stack's images (scripts/test-stack-images.sh: busybox-static httpd images built
/// here) in a real `docker-registry` on 127.0.0.1, preloaded into one OCI layout.
final class StackRegistry: Sendable {
    let registry: TestRegistry
    var host: String { registry.host }

    init(scratch: ImageScratch) throws {
        registry = try TestRegistry.start()
        try ImageTool.run([Repo.root.appendingPathComponent("scripts/test-stack-images.sh").path, scratch.path("images").path, host])
    }

    func stop() { registry.stop() }

    /// Flips a byte in the registry's stored copy of the blob (the registry serves it unchecked).
    func corrupt(_ digestHex: String) throws {
        let data = registry.storedBlob(digestHex)
        var bytes = try Data(contentsOf: data)
        bytes[bytes.count / 2] ^= 0xff
        try bytes.write(to: data)
    }

    /// The spec of the test stack (the shared fixture stack/stack.yaml, which
    /// scripts/check-stack-boot.sh can read too), with the shipped base entry verbatim, so
    /// that the cached base tarball is the one it names.
    static func spec() throws -> String {
        let shipped = try String(contentsOf: Repo.spec, encoding: .utf8)
        let start = shipped.range(of: "  - name: debian-trixie\n")!
        let end = shipped.range(of: "  - name: debian-bookworm\n")!
        return try TestFixtures.stackSpec(base: String(shipped[start.lowerBound..<end.lowerBound]))
    }
}

@Suite("Service images preloaded into one OCI layout", .serialized, .tags(.interop))
struct ServiceImagePreloadTests {
    func pulled(_ scratch: ImageScratch, registry: StackRegistry) async throws -> (ServiceImagePreload.Store, PlatformSpec) {
        let spec = try SpecLoader.load(text: try StackRegistry.spec(), file: "stack.yaml")
        let platform = ImagePlatform(
            spec: spec, specText: nil, mode: .image, modelPack: try #require(spec.modelPack(named: "light")),
            modelRegistry: spec.models.registry, releaseManifest: nil, unisonctl: Repo.unisonctl, ollama: .container)
        let plan = try PlatformOverlay.plan(platform, version: "9.9.9", epoch: 0)
        let store = try await ServiceImagePreload.pull(
            plan: plan, spec: spec, ollama: .container,
            request: .init(registry: registry.host), workDir: scratch.url)
        return (store, spec)
    }

    @Test("three services, two images, shared blobs; skopeo reads every image; the loader feeds docker load and refuses a corrupt store")
    func preloadAndLoad() async throws {
        let scratch = try ImageScratch("preload")
        defer { scratch.cleanup() }
        let registry = try StackRegistry(scratch: scratch)
        defer { registry.stop() }
        let (store, _) = try await pulled(scratch, registry: registry)
        #expect(store.report.images.map(\.reference) == ["docker.io/unisontest/http:1", "docker.io/unisontest/ollama-standin:1"])
        #expect(store.report.images.first?.services == ["web", "api"])
        #expect(store.report.bytes < store.report.unsharedBytes, "the busybox layer is stored once")
        // An independent reader: skopeo names each image by its full reference.
        for ref in ["docker.io/unisontest/http:1", "docker.io/unisontest/ollama-standin:1"] {
            let r = try ImageTool.status(["skopeo", "inspect", "oci:\(store.directory.path):\(ref)"])
            #expect(r.status == 0, "\(r.stderrString)")
            #expect(r.stdoutString.contains("\"Architecture\": \"amd64\""))
        }

        // The loader against a stand-in `docker` that lists the archive it is fed.
        let bin = scratch.path("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        try Data("#!/bin/sh\ntar -tf - | sort >>\"\(scratch.path("loaded").path)\"\necho Loaded image\n".utf8).write(
            to: bin.appendingPathComponent("docker"))
        try ImageTool.run(["chmod", "+x", bin.appendingPathComponent("docker").path])
        let loader = scratch.path("load-images")
        try Data(ServiceImagePreload.loaderScript(store: store.directory.path, dataDir: scratch.url.path, unisonctl: Repo.unisonctl.path).utf8).write(
            to: loader)
        #expect(try ImageTool.status(["shellcheck", "-s", "sh", "-e", "SC2046", loader.path]).status == 0)
        let env = "PATH=\(bin.path):/usr/bin:/bin"
        var r = try ImageTool.status(["env", env, "sh", loader.path])
        #expect(r.status == 0, "\(r.stderrString)")
        let listed = try String(contentsOf: scratch.path("loaded"), encoding: .utf8)
        #expect(listed.components(separatedBy: "manifest.json").count == 3, "one docker-archive per image: \(listed)")
        let manifest = try Data(contentsOf: store.directory.appendingPathComponent("docker/1.json"))
        #expect(String(decoding: manifest, as: UTF8.self).contains("\"RepoTags\":[\"docker.io/unisontest/ollama-standin:1\"]"))
        // Loaded once: a second run does nothing.
        try FileManager.default.removeItem(at: scratch.path("loaded"))
        r = try ImageTool.status(["env", env, "sh", loader.path])
        #expect(r.status == 0 && !FileManager.default.fileExists(atPath: scratch.path("loaded").path))

        // A corrupt blob of the second image: exit 78, nothing loaded, the note names service and image.
        try FileManager.default.removeItem(at: scratch.url.appendingPathComponent(".images-loaded"))
        let layer = try #require(
            try FileManager.default.contentsOfDirectory(atPath: store.directory.appendingPathComponent("blobs/sha256").path)
                .first { name in
                    let sums = (try? String(contentsOf: store.directory.appendingPathComponent("docker/1.sha256"), encoding: .utf8)) ?? ""
                    let first = (try? String(contentsOf: store.directory.appendingPathComponent("docker/0.sha256"), encoding: .utf8)) ?? ""
                    return sums.contains(name) && !first.contains(name)
                })
        let blob = store.directory.appendingPathComponent("blobs/sha256/\(layer)")
        var bytes = try Data(contentsOf: blob)
        bytes[0] ^= 0xff
        try bytes.write(to: blob)
        r = try ImageTool.status(["env", env, "sh", loader.path])
        #expect(r.status == 78)
        #expect(!FileManager.default.fileExists(atPath: scratch.path("loaded").path), "no image may be loaded from a corrupt store")
        let note = try String(contentsOf: store.directory.appendingPathComponent("load-failed"), encoding: .utf8)
        #expect(note.hasPrefix("ollama: image docker.io/unisontest/ollama-standin:1: blob sha256:\(layer)"), "\(note)")
    }

    @Test("verifyStore on the store the preload wrote: intact, then a flipped layer, a cut-short config, a missing blob, each named")
    func verifyStore() async throws {
        let scratch = try ImageScratch("preload-verify")
        defer { scratch.cleanup() }
        let registry = try StackRegistry(scratch: scratch)
        defer { registry.stop() }
        let (store, _) = try await pulled(scratch, registry: registry)
        let dir = store.directory
        let blobsDir = dir.appendingPathComponent("blobs/sha256")
        let files = try FileManager.default.contentsOfDirectory(atPath: blobsDir.path).filter { !$0.hasPrefix(".") }
        let intact = ServiceImagePreload.verifyStore(at: dir)
        #expect(intact.ok && intact.problems.isEmpty, "\(intact.problems)")
        #expect(intact.images == 2)
        #expect(intact.blobs == files.count, "every blob of the layout is checked once")
        #expect(intact.bytes == store.report.bytes)

        func sums(_ n: Int) throws -> String {
            try String(contentsOf: dir.appendingPathComponent("docker/\(n).sha256"), encoding: .utf8)
        }
        // A layer only the Ollama stand-in has, one byte flipped: only that image is named.
        let own = try #require(try files.first { try sums(1).contains($0) && !sums(0).contains($0) })
        let ownURL = blobsDir.appendingPathComponent(own)
        let original = try Data(contentsOf: ownURL)
        var bytes = original
        bytes[bytes.count / 2] ^= 0x01
        try bytes.write(to: ownURL)
        var check = ServiceImagePreload.verifyStore(at: dir)
        #expect(!check.ok)
        #expect(
            check.problems.map(\.description) == [
                "ollama: image docker.io/unisontest/ollama-standin:1: blob sha256:\(own): does not match its digest (the file hashes to sha256:"
                    + (try ImageTool.run(["sha256sum", ownURL.path]).stdoutString.prefix(64)) + ")"
            ])
        try original.write(to: ownURL)

        // A blob both images share, cut short: both named, with the sizes.
        let shared = try #require(try files.first { try sums(1).contains($0) && sums(0).contains($0) })
        let sharedURL = blobsDir.appendingPathComponent(shared)
        let sharedData = try Data(contentsOf: sharedURL)
        try sharedData.prefix(100).write(to: sharedURL)
        check = ServiceImagePreload.verifyStore(at: dir)
        #expect(check.problems.map(\.image) == ["docker.io/unisontest/http:1", "docker.io/unisontest/ollama-standin:1"])
        #expect(check.problems.allSatisfy { $0.digest == "sha256:\(shared)" && $0.reason == "is 100 bytes, its descriptor says \(sharedData.count)" })
        #expect(check.problems.first?.services == ["web", "api"])

        // Missing.
        try FileManager.default.removeItem(at: sharedURL)
        check = ServiceImagePreload.verifyStore(at: dir)
        #expect(check.problems.first?.description == "web: image docker.io/unisontest/http:1: blob sha256:\(shared): is missing")
        try sharedData.write(to: sharedURL)
        #expect(ServiceImagePreload.verifyStore(at: dir).ok)
    }

    @Test("a blob the registry serves with other content fails the build naming the image, and nothing is written")
    func corruptBlobFailsBuild() async throws {
        let scratch = try ImageScratch("preload-bad")
        defer { scratch.cleanup() }
        let registry = try StackRegistry(scratch: scratch)
        defer { registry.stop() }
        let manifest = try ImageTool.run([
            "skopeo", "inspect", "--raw", "--tls-verify=false", "docker://\(registry.host)/unisontest/ollama-standin:1",
        ]).stdout
        let layers = try #require((try JSONSerialization.jsonObject(with: manifest) as? [String: Any])?["layers"] as? [[String: Any]])
        let digest = try #require(layers.last?["digest"] as? String)
        try registry.corrupt(String(digest.dropFirst("sha256:".count)))
        let specFile = scratch.path("stack.yaml")
        try Data(try StackRegistry.spec().utf8).write(to: specFile)
        let out = scratch.path("out")
        let r = try Repo.cli([
            "image", "build", "vm", "--spec", specFile.path, "--out", out.path, "--version", "9.9.9",
            "--unisonctl-binary", Repo.unisonctl.path, "--image-registry", registry.host,
        ])
        #expect(r.status != 0)
        #expect(r.stderr.contains("docker.io/unisontest/ollama-standin:1") && r.stderr.contains(digest), "\(r.stderr)")
        let left = (try? FileManager.default.contentsOfDirectory(atPath: out.path)) ?? []
        #expect(left.isEmpty, "left behind: \(left)")
    }
}
