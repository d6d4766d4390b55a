import Foundation
import Testing
import UnisonCore
import UnisonInstall
import UnisonOps
import UnisonSpec

/// Staged installs, Ollama model stores and the store-backed Ollama API server used by the
/// first-boot, diag and telemetry tests.
package enum FieldFixture {
    /// The repository's spec (its `default` pack preloads qwen2.5:1.5b).
    package static func spec() throws -> PlatformSpec { try SpecLoader.load(file: Unisonctl.repoRoot.appendingPathComponent("unison.yaml")) }

    package static func specText() throws -> String {
        try String(contentsOf: Unisonctl.repoRoot.appendingPathComponent("unison.yaml"), encoding: .utf8)
    }

    /// A root with the platform installed as an image is (secrets still placeholders).
    package static func stageImage(_ label: String, pack: String) throws -> URL {
        let dir = try TempDir.create("ops-\(label)")
        var root = try HostRoot(dir)
        _ = try InstallPlan.make(spec: try spec(), options: InstallOptions(mode: .image, modelPack: pack, specText: try specText()))
            .apply(to: &root)
        return dir
    }

    /// A root with the platform installed on a host (secrets generated).
    package static func stageNative(_ label: String) throws -> URL {
        let dir = try TempDir.create("ops-\(label)")
        var root = try HostRoot(dir)
        _ = try InstallPlan.make(spec: try spec(), options: InstallOptions(mode: .native, specText: try specText())).apply(to: &root)
        return dir
    }

    /// Writes one model in Ollama's store layout: blobs `sha256-<hex>` and the manifest file.
    /// `seed` varies the content so two stores can hold different models of the same name.
    @discardableResult
    package static func writeModel(store: URL, name: (host: String, namespace: String, model: String, tag: String), seed: String) throws -> URL {
        let fm = FileManager.default
        let blobs = store.appendingPathComponent("blobs")
        try fm.createDirectory(at: blobs, withIntermediateDirectories: true)
        func blob(_ data: Data) throws -> (digest: String, size: Int) {
            let hex = SHA256Hex.hex(data)
            try data.write(to: blobs.appendingPathComponent("sha256-\(hex)"))
            return ("sha256:\(hex)", data.count)
        }
        let weights = try blob(Data("GGUF\u{3}\u{0}\u{0}\u{0}weights of \(seed) ".utf8) + Data(repeating: 0x5A, count: 4096))
        let template = try blob(Data("{{ .Prompt }} (\(seed))".utf8))
        let config = try blob(Data(#"{"model_format":"gguf","model_family":"qwen2","file_type":"Q4_K_M","seed":"\#(seed)"}"#.utf8))
        let manifest = """
            {"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",\
            "config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"\(config.digest)","size":\(config.size)},\
            "layers":[{"mediaType":"application/vnd.ollama.image.model","digest":"\(weights.digest)","size":\(weights.size)},\
            {"mediaType":"application/vnd.ollama.image.template","digest":"\(template.digest)","size":\(template.size)}]}
            """
        let url = store.appendingPathComponent("manifests/\(name.host)/\(name.namespace)/\(name.model)/\(name.tag)")
        try fm.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(manifest.utf8).write(to: url)
        return url
    }

    package static let qwen = (host: "registry.ollama.ai", namespace: "library", model: "qwen2.5", tag: "1.5b")

    /// `sha256sum FILE` (coreutils), as an independent digest.
    package static func sha256sum(_ url: URL) throws -> String {
        let r = try SystemProcessRunner().run(["sha256sum", url.path])
        return String(r.stdoutString.prefix(64))
    }
}

/// Tests/UnisonOpsTests/Fixtures/ollama_store_server.py on 127.0.0.1, answering from a store.
package final class OllamaStoreServer {
    package let process = Process()
    package let dir: URL
    package let port: Int

    package init(store: URL, startAfter: Double = 0, chunked: Bool = false) throws {
        dir = try TempDir.create("ops-ollama")
        let ready = dir.appendingPathComponent("ready.json")
        let script = Unisonctl.repoRoot.appendingPathComponent("Tests/UnisonOpsTests/Fixtures/ollama_store_server.py")
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [script.path, store.path, ready.path, "--start-after", String(startAfter)] + (chunked ? ["--chunked"] : [])
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        try process.waitForFile(ready)
        struct Ready: Decodable { var port: Int }
        port = try JSONDecoder().decode(Ready.self, from: Data(contentsOf: ready)).port
    }

    package var endpoint: OllamaEndpoint { OllamaEndpoint(host: "127.0.0.1", port: port) }
    package var url: String { "http://127.0.0.1:\(port)" }

    package func stop() {
        process.killAndWait()
        try? FileManager.default.removeItem(at: dir)
    }

    deinit { stop() }
}

/// The `unisonctl` built beside the test bundle, or $UNISONCTL_BIN.
package enum OpsCLI {
    package static var binary: URL { Unisonctl.binary }

    package static func run(_ args: [String], env: [String: String] = [:]) throws -> ProcessResult {
        try Unisonctl.run(args, environment: env)
    }
}
