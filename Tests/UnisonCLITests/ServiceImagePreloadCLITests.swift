import Foundation
import Testing
import UnisonCore
import UnisonInstall
import UnisonSpec
import UnisonTestSupport

@testable import UnisonImage

/// The test stack's images preloaded: the loader (which runs `unisonctl image verify-store`) and
/// `image build vm` with a corrupt blob, through the built unisonctl.
@Suite("Service images preloaded into one OCI layout", .serialized, .tags(.interop))
struct ServiceImagePreloadCLITests {
    @Test("three services, two images, shared blobs; skopeo reads every image; the loader feeds docker load and refuses a corrupt store")
    func preloadAndLoad() async throws {
        let scratch = try ImageScratch("preload")
        defer { scratch.cleanup() }
        let registry = try StackRegistry(scratch: scratch)
        defer { registry.stop() }
        let (store, _) = try await registry.pulled(scratch)
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
