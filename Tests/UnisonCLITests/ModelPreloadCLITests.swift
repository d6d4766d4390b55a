import Foundation
import Testing
import UnisonTestSupport

/// Phase 4: a model pack preloaded into an image. A real docker-registry on 127.0.0.1 serves
/// a small model pushed with `unisonctl models push`; `image build wsl --models` pulls it into
/// the image's Ollama store; GNU tar extracts the artifact and `models verify` rechecks every
/// blob of the store found there.
@Suite(.serialized, .tags(.interop)) struct ModelPreloadCLITests {
    @Test func wslImageCarriesTheVerifiedModelStore() throws {
        let dir = try CLI.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let registry = try TestRegistry.start()
        defer { registry.stop() }

        // A model: a fake GGUF blob plus template and params, as Ollama's media types.
        let model = dir.appendingPathComponent("model")
        try FileManager.default.createDirectory(at: model, withIntermediateDirectories: true)
        try Data((0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }).write(to: model.appendingPathComponent("tiny.gguf"))
        try Data("{{ .Prompt }}".utf8).write(to: model.appendingPathComponent("template"))
        try Data(#"{"temperature":0.2}"#.utf8).write(to: model.appendingPathComponent("params.json"))
        let push = try CLI.run(["models", "push", model.path, "tiny:1", "--registry", registry.host])
        #expect(push.status == 0, "\(push.stderr)")

        // A spec whose pack preloads it, and a tiny base directory.
        let shipped = try String(contentsOf: CLI.repoRoot.appendingPathComponent("unison.yaml"), encoding: .utf8)
        let spec = shipped.replacingOccurrences(
            of: """
                    preload: ["qwen2.5:1.5b"]
                """,
            with: """
                    preload: ["tiny:1"]
                """)
        #expect(spec != shipped)
        let specURL = dir.appendingPathComponent("unison.yaml")
        try Data(spec.utf8).write(to: specURL)
        let base = dir.appendingPathComponent("base")
        for sub in ["etc", "usr/bin", "var/lib"] {
            try FileManager.default.createDirectory(at: base.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        try Data("root:x:0:0:root:/root:/bin/sh\n".utf8).write(to: base.appendingPathComponent("etc/passwd"))
        try Data("ID=debian\n".utf8).write(to: base.appendingPathComponent("etc/os-release"))

        let out = dir.appendingPathComponent("out")
        let build = try CLI.run(
            [
                "image", "build", "wsl", "--spec", specURL.path, "--base", base.path, "--out", out.path,
                "--version", "0.5.0", "--models", "default", "--model-registry", registry.host,
            ],
            environment: ["UNISONCTL_QUIET": "1", "SOURCE_DATE_EPOCH": "1700000000"])
        #expect(build.status == 0, "\(build.stderr)")

        let root = dir.appendingPathComponent("root")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let tar = try TestProcess.runMerged([
            "tar", "-xzf", out.appendingPathComponent("unisonos-wsl2-0.5.0.tar.gz").path, "-C", root.path,
            "var/lib/unison/models",
        ])
        #expect(tar.status == 0, "\(tar.output)")
        let store = root.appendingPathComponent("var/lib/unison/models")
        // Recorded under the spec's registry, so Ollama lists it as `tiny:1` whichever mirror served it.
        #expect(FileManager.default.fileExists(atPath: store.appendingPathComponent("manifests/registry.ollama.ai/library/tiny/1").path))
        let verify = try CLI.run(["models", "verify", "--store", store.path])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        let blobs = try FileManager.default.contentsOfDirectory(atPath: store.appendingPathComponent("blobs").path)
        #expect(blobs.count == 4, "config, model, template, params: \(blobs)")
        // Corrupting a blob is caught by the same verify.
        let first = store.appendingPathComponent("blobs").appendingPathComponent(try #require(blobs.sorted().first))
        try Data("tampered".utf8).write(to: first)
        #expect(try CLI.run(["models", "verify", "--store", store.path]).status == 1)
    }

    @Test func unknownPackIsBadInputAndWritesNothing() throws {
        let dir = try CLI.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out")
        let base = dir.appendingPathComponent("base/etc")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        let r = try CLI.run(
            [
                "image", "build", "wsl", "--base", base.deletingLastPathComponent().path, "--out", out.path,
                "--models", "enormous",
            ], environment: ["UNISONCTL_QUIET": "1"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("enormous"))
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("unisonos-wsl2-0.5.0.tar.gz").path))
    }
}
