// Ollama models over OCI against the real registry: push a tiny fake model with Ollama's media
// types, pull it back into Ollama's store layout, verify it offline; sha256sum and skopeo check
// what was written.
import Foundation
import Testing
import UnisonCore
import UnisonTestSupport

@testable import UnisonOCI

@Suite("Ollama models over OCI", .tags(.interop))
struct ModelStoreTests {
    /// A model directory as `models push` takes it.
    private func makeModelDir(_ tmp: TempDir, seed: UInt64 = 1) throws -> URL {
        let dir = tmp.path("model-src")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try (Data("GGUF".utf8) + TestImage.noise(150_000, seed: seed)).write(to: dir.appendingPathComponent("tiny.gguf"))
        try Data("{{ .System }} {{ .Prompt }}".utf8).write(to: dir.appendingPathComponent("template"))
        try Data(#"{"stop":["<|end|>"],"temperature":0.2}"#.utf8).write(to: dir.appendingPathComponent("params.json"))
        try Data("You are a tiny test model.".utf8).write(to: dir.appendingPathComponent("system"))
        try Data("MIT License".utf8).write(to: dir.appendingPathComponent("LICENSE"))
        return dir
    }

    @Test("models push then pull writes Ollama's store; verify passes, then names a corrupt and a missing blob")
    func pushPullVerify() async throws {
        let registry = try TestRegistry.start()
        defer { registry.stop() }
        let tmp = try TempDir()
        let source = try makeModelDir(tmp)
        let url = "http://\(registry.host)"

        let push = try OCICLI.run(["models", "push", source.path, "tiny:1b", "--registry", url, "--json"])
        #expect(push.status == 0, "\(push.stderr)")
        let pushed = try JSONDecoder().decode(ModelPushReport.self, from: Data(push.stdout.utf8))
        #expect(pushed.layers.map(\.mediaType) == ["model", "template", "system", "params", "license"].map { "application/vnd.ollama.image.\($0)" })

        // skopeo sees a Docker v2 schema 2 manifest with Ollama's layer types.
        let raw = try TestProcess.run(["skopeo", "inspect", "--raw", "--tls-verify=false", "docker://\(registry.host)/library/tiny:1b"])
        let manifest = try JSONSerialization.jsonObject(with: Data(raw.utf8)) as? [String: Any]
        #expect(manifest?["mediaType"] as? String == "application/vnd.docker.distribution.manifest.v2+json")
        #expect((manifest?["config"] as? [String: Any])?["mediaType"] as? String == "application/vnd.docker.container.image.v1+json")
        #expect(TestImage.sha256(Data(raw.utf8)) == pushed.digest.description)

        let store = tmp.path("ollama-models")
        let pull = try OCICLI.run(["models", "pull", "tiny:1b", "--registry", url, "--store", store.path, "--json"])
        #expect(pull.status == 0, "\(pull.stderr)")
        let report = try JSONDecoder().decode(ModelPullReport.self, from: Data(pull.stdout.utf8))
        #expect(report.blobs == 6)
        #expect(report.blobsReused == 0)

        // Ollama's layout exactly: manifests/<host:port>/library/tiny/1b and blobs/sha256-<hex>.
        let manifestFile = store.appendingPathComponent("manifests/\(registry.host)/library/tiny/1b")
        #expect(try Data(contentsOf: manifestFile) == Data(raw.utf8))
        let blobNames = try FileManager.default.contentsOfDirectory(atPath: store.appendingPathComponent("blobs").path).sorted()
        #expect(blobNames.count == 6)
        #expect(blobNames.allSatisfy { $0.hasPrefix("sha256-") && $0.count == 71 })
        let sums = try TestProcess.run(["sha256sum"] + blobNames.map { store.appendingPathComponent("blobs/\($0)").path })
        for line in sums.split(separator: "\n") {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            #expect(parts.count == 2 && parts[1].hasSuffix("sha256-\(parts[0])"), "\(line)")
        }
        let template = try String(contentsOf: store.appendingPathComponent("blobs/\(pushed.layers[1].digest.dashed)"), encoding: .utf8)
        #expect(template == "{{ .System }} {{ .Prompt }}")

        // A second pull reuses every verified blob.
        let again = try await ModelPuller(client: testClient()).pull(name: "tiny:1b", registry: url, store: store)
        #expect(again.blobsReused == 6)
        #expect(again.bytesDownloaded == 0)

        let ok = try OCICLI.run(["models", "verify", "--store", store.path, "--json"])
        #expect(ok.status == 0, "\(ok.stdout)\(ok.stderr)")
        #expect(ok.stdout.contains(#""ok" : true"#))

        // Corrupt the model blob and remove the license blob.
        let modelBlob = store.appendingPathComponent("blobs/\(pushed.layers[0].digest.dashed)")
        var bytes = try Data(contentsOf: modelBlob)
        bytes[10] ^= 0x01
        try bytes.write(to: modelBlob)
        try FileManager.default.removeItem(at: store.appendingPathComponent("blobs/\(pushed.layers[4].digest.dashed)"))
        let bad = try OCICLI.run(["models", "verify", "--store", store.path])
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("corrupt \(pushed.layers[0].digest)"))
        #expect(bad.stderr.contains("missing \(pushed.layers[4].digest)"))
        let badJSON = try OCICLI.run(["models", "verify", "--store", store.path, "--json"])
        #expect(badJSON.status == 1)
        let parsed = try JSONDecoder().decode(ModelStoreReport.self, from: Data(badJSON.stdout.utf8))
        #expect(Set(parsed.problems.map(\.kind)) == [.corruptBlob, .missingBlob])
        #expect(parsed.models.map(\.ok) == [false])

        // Pulling again repairs the store.
        let repaired = try await ModelPuller(client: testClient()).pull(name: "library/tiny:1b", registry: url, store: store)
        #expect(repaired.blobsReused == 4)
        #expect(try ModelStore(root: store).verify().ok)
    }

    @Test("namespaces, default tag, mirroring from a store, and a corrupt registry blob leaves no trace")
    func namespacesMirrorAndCorruption() async throws {
        let registry = try TestRegistry.start()
        defer { registry.stop() }
        let tmp = try TempDir()
        let source = try makeModelDir(tmp, seed: 4)
        let client = testClient()
        let files = try ModelFile.files(in: source)
        let pushed = try await ModelPusher(client: client).push(files: files, name: "team/assistant", registry: registry.host)
        #expect(pushed.reference == "\(registry.host)/team/assistant:latest")

        let store = tmp.path("store")
        _ = try await ModelPuller(client: client).pull(name: "team/assistant", registry: registry.host, store: store)
        #expect(FileManager.default.fileExists(atPath: store.appendingPathComponent("manifests/\(registry.host)/team/assistant/latest").path))
        #expect(try ModelStore(root: store).models().map(\.description) == ["\(registry.host)/team/assistant:latest"])

        // Mirror it from the store into another repository, manifest bytes unchanged.
        let mirrored = try await ModelPusher(client: client).push(fromStore: store, name: "team/assistant", registry: "http://\(registry.host)")
        #expect(mirrored.digest == pushed.digest)

        // Corrupt the model layer inside the registry: the pull fails naming the digest, keeps
        // no part of that blob and writes no manifest.
        let stored = registry.storedBlob(pushed.layers[0].digest.hex)
        var bytes = try Data(contentsOf: stored)
        bytes[bytes.count / 2] ^= 0xff
        try bytes.write(to: stored)
        let fresh = tmp.path("fresh")
        try FileManager.default.createDirectory(at: fresh, withIntermediateDirectories: true)
        let cli = try OCICLI.run(["models", "pull", "team/assistant", "--registry", registry.host, "--store", fresh.path])
        #expect(cli.status == 1)
        #expect(cli.stderr.contains(pushed.layers[0].digest.description))
        let left = (try? FileManager.default.contentsOfDirectory(atPath: fresh.appendingPathComponent("blobs").path)) ?? []
        #expect(!left.contains(pushed.layers[0].digest.dashed))
        #expect(!left.contains { $0.hasPrefix(".") })
        #expect(!FileManager.default.fileExists(atPath: fresh.appendingPathComponent("manifests").path))
    }

    @Test("bad input: unknown store, unnamed file kinds, malformed names exit 2")
    func badInput() throws {
        let tmp = try TempDir()
        let missing = try OCICLI.run(["models", "verify", "--store", tmp.path("nope").path])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains(tmp.path("nope").path))
        let name = try OCICLI.run(["models", "pull", "Bad Name", "--store", tmp.url.path, "--registry", "127.0.0.1:1"])
        #expect(name.status == 2)
        #expect(name.stderr.lowercased().contains("bad name"))
        try Data("x".utf8).write(to: tmp.path("weights.bin"))
        let kind = try OCICLI.run(["models", "push", tmp.path("weights.bin").path, "m:1", "--registry", "127.0.0.1:1"])
        #expect(kind.status == 2)
        #expect(kind.stderr.contains("KIND=PATH"))
    }
}
