import Foundation
import Testing
import UnisonCore
import UnisonInstall
import UnisonSpec
import UnisonTestSupport

@testable import UnisonOps

@Suite("firstboot", .tags(.interop))
struct FirstBootTests {
    func storeURL(_ root: URL) -> URL { root.appendingPathComponent("var/lib/unison/models") }

    @Test("pack 'default': secrets seeded, store verified, Ollama lists the model with the store's manifest digest; runs once")
    func success() throws {
        let spec = try FieldFixture.spec()
        let root = try FieldFixture.stageImage("fb-ok", pack: "default")
        defer { try? FileManager.default.removeItem(at: root) }
        let envPath = root.path + spec.installer.envFile
        #expect(try String(contentsOfFile: envPath, encoding: .utf8).contains("CHANGE_ME"))
        let manifest = try FieldFixture.writeModel(store: storeURL(root), name: FieldFixture.qwen, seed: "a")
        let server = try OllamaStoreServer(store: storeURL(root))
        defer { server.stop() }

        let report = FirstBoot(spec: spec, root: root, ollama: server.endpoint, timeout: 20, interval: 0.2).run()
        #expect(report.ok, "\(report.failure ?? "")")
        #expect(report.marker == "UNISONOS-FIRSTBOOT-OK")
        #expect(report.finalLine(specMarker: spec.qa.boot.marker) == "UNISONOS-FIRSTBOOT-OK")
        #expect(report.modelPack == "default")
        #expect(report.ollamaVersion == "0.5.7")
        let independent = "sha256:" + (try FieldFixture.sha256sum(manifest))
        #expect(report.models == [FirstBootModel(name: "qwen2.5:1.5b", storeDigest: independent, serverDigest: independent, ok: true)])

        // Secrets generated the installer's way: no placeholder, mode 0600, the env check passes.
        let env = try String(contentsOfFile: envPath, encoding: .utf8)
        #expect(!env.split(separator: "\n").contains { !$0.hasPrefix("#") && $0.contains("CHANGE_ME") })
        #expect(EnvFile.problems(in: env, secrets: spec.installer.secrets).isEmpty)
        var st = stat()
        #expect(stat(envPath, &st) == 0 && st.st_mode & 0o777 == 0o600)

        // The state file is the unit's stamp, with the report in it.
        let state = root.path + spec.installer.dataDir + "/.firstboot-done"
        let saved = try JSONDecoder().decode(FirstBootReport.self, from: Data(contentsOf: URL(fileURLWithPath: state)))
        #expect(saved.ok && saved.models == report.models)

        // Once: the second run does nothing (secrets untouched); --force runs again.
        let again = FirstBoot(spec: spec, root: root, ollama: server.endpoint, timeout: 5).run()
        #expect(again.ok && again.alreadyDone && again.marker == nil)
        #expect(try String(contentsOfFile: envPath, encoding: .utf8) == env)
        let forced = FirstBoot(spec: spec, root: root, ollama: server.endpoint, timeout: 5, force: true).run()
        #expect(forced.ok && !forced.alreadyDone && forced.marker != nil)
        #expect(try String(contentsOfFile: envPath, encoding: .utf8) == env, "seeded secrets are never regenerated")
    }

    @Test("waits for an Ollama that starts late, and reads a chunked /api/tags")
    func waitsForServer() throws {
        let spec = try FieldFixture.spec()
        let root = try FieldFixture.stageImage("fb-late", pack: "default")
        defer { try? FileManager.default.removeItem(at: root) }
        try FieldFixture.writeModel(store: storeURL(root), name: FieldFixture.qwen, seed: "late")
        let server = try OllamaStoreServer(store: storeURL(root), startAfter: 2.5, chunked: true)
        defer { server.stop() }
        let started = Date()
        let report = FirstBoot(spec: spec, root: root, ollama: server.endpoint, timeout: 30, interval: 0.3).run()
        #expect(report.ok, "\(report.failure ?? "")")
        #expect(Date().timeIntervalSince(started) >= 2.0, "it answered before the server listened?")
    }

    @Test("Ollama serving a different store: the digest mismatch fails first boot, and no state is written")
    func digestMismatch() throws {
        let spec = try FieldFixture.spec()
        let root = try FieldFixture.stageImage("fb-mismatch", pack: "default")
        defer { try? FileManager.default.removeItem(at: root) }
        try FieldFixture.writeModel(store: storeURL(root), name: FieldFixture.qwen, seed: "ours")
        let other = try OpsFixture.tempDir("other-store")
        defer { try? FileManager.default.removeItem(at: other) }
        let theirs = try FieldFixture.writeModel(store: other, name: FieldFixture.qwen, seed: "theirs")
        let server = try OllamaStoreServer(store: other)
        defer { server.stop() }
        // Generous: the last problem seen is the reason given, and a loaded machine must still reach the server.
        let report = FirstBoot(spec: spec, root: root, ollama: server.endpoint, timeout: 8, interval: 0.3).run()
        #expect(!report.ok && report.exitCode == 1)
        let theirDigest = try FieldFixture.sha256sum(theirs)
        #expect(report.failure?.contains("qwen2.5:1.5b with digest sha256:\(theirDigest)") == true, "\(report.failure ?? "")")
        #expect(report.finalLine(specMarker: spec.qa.boot.marker).hasPrefix("UNISONOS-FIRSTBOOT-FAILED: ollama: "))
        #expect(!FileManager.default.fileExists(atPath: root.path + "/var/lib/unison/.firstboot-done"))
    }

    @Test("Ollama without the model: named in the failure")
    func notListed() throws {
        let spec = try FieldFixture.spec()
        let root = try FieldFixture.stageImage("fb-notlisted", pack: "default")
        defer { try? FileManager.default.removeItem(at: root) }
        try FieldFixture.writeModel(store: storeURL(root), name: FieldFixture.qwen, seed: "x")
        let empty = try OpsFixture.tempDir("empty-store")
        defer { try? FileManager.default.removeItem(at: empty) }
        let server = try OllamaStoreServer(store: empty)
        defer { server.stop() }
        let report = FirstBoot(spec: spec, root: root, ollama: server.endpoint, timeout: 8, interval: 0.3).run()
        #expect(report.failure?.contains("Ollama does not list qwen2.5:1.5b") == true, "\(report.failure ?? "")")
    }

    @Test("store problems fail before Ollama is asked", arguments: ["missing", "corrupt", "truncated"])
    func storeProblems(kind: String) throws {
        let spec = try FieldFixture.spec()
        let root = try FieldFixture.stageImage("fb-store-\(kind)", pack: "default")
        defer { try? FileManager.default.removeItem(at: root) }
        let store = storeURL(root)
        if kind == "missing" {
            // Another model only: the preloaded one is absent.
            try FieldFixture.writeModel(
                store: store, name: (host: "registry.ollama.ai", namespace: "library", model: "other", tag: "latest"), seed: "o")
        } else {
            try FieldFixture.writeModel(store: store, name: FieldFixture.qwen, seed: "c")
            let blobs = try FileManager.default.contentsOfDirectory(atPath: store.appendingPathComponent("blobs").path)
            // The largest blob is the weights.
            let weights = try blobs.max { a, b in
                try Data(contentsOf: store.appendingPathComponent("blobs/\(a)")).count
                    < Data(contentsOf: store.appendingPathComponent("blobs/\(b)")).count
            }!
            let url = store.appendingPathComponent("blobs/\(weights)")
            var data = try Data(contentsOf: url)
            if kind == "corrupt" { data[10] ^= 0xFF } else { data = data.prefix(100) }
            try data.write(to: url)
        }
        // Nothing listens: the failure must come from the store check, before Ollama is asked.
        let report = try FirstBoot(spec: spec, root: root, ollama: OllamaEndpoint(host: "127.0.0.1", port: TestNetwork.freePort()), timeout: 30).run()
        #expect(!report.ok)
        #expect(!report.steps.contains { $0.name == "ollama" }, "\(report.steps.map(\.name))")
        #expect(report.steps.last?.name == "model-store")
        let expected = kind == "missing" ? "qwen2.5:1.5b is missing" : kind == "corrupt" ? "does not match its digest" : "wrong size"
        #expect(report.failure?.contains(expected) == true, "\(report.failure ?? "")")
    }

    @Test("no Ollama at all: gives up after the timeout with the reason")
    func noServer() throws {
        let spec = try FieldFixture.spec()
        let root = try FieldFixture.stageImage("fb-noserver", pack: "default")
        defer { try? FileManager.default.removeItem(at: root) }
        try FieldFixture.writeModel(store: storeURL(root), name: FieldFixture.qwen, seed: "n")
        let started = Date()
        let report = try FirstBoot(
            spec: spec, root: root, ollama: OllamaEndpoint(host: "127.0.0.1", port: TestNetwork.freePort()), timeout: 1.5, interval: 0.3
        ).run()
        #expect(Date().timeIntervalSince(started) >= 1.0, "it waited for the timeout")
        #expect(report.failure?.contains("does not answer: connection refused") == true, "\(report.failure ?? "")")
        #expect(report.failure?.contains("gave up after 1 s") == true, "the timeout ended the wait: \(report.failure ?? "")")
    }

    @Test("pack 'none' preloads nothing: no Ollama needed, marker printed")
    func lightPack() throws {
        let spec = try FieldFixture.spec()
        let root = try FieldFixture.stageImage("fb-light", pack: "none")
        defer { try? FileManager.default.removeItem(at: root) }
        let report = try FirstBoot(spec: spec, root: root, ollama: OllamaEndpoint(host: "127.0.0.1", port: TestNetwork.freePort()), timeout: 1).run()
        #expect(report.ok && report.modelPack == "none" && report.marker == "UNISONOS-FIRSTBOOT-OK")
        #expect(report.steps.contains { $0.name == "models" && $0.status == .skipped })
        // The image left the file secrets to first boot: each created now, with its final mode.
        #expect(!spec.installer.fileSecrets.isEmpty)
        var values: [String: String] = [:]
        for secret in spec.installer.fileSecrets {
            let path = root.path + spec.installer.path(of: secret)
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            #expect((attributes[.posixPermissions] as? NSNumber)?.uint32Value == secret.mode, "\(secret.file)")
            let value = try String(contentsOfFile: path, encoding: .utf8)
            #expect(value.count == secret.bytes * 2 && value.allSatisfy(\.isHexDigit))
            values[secret.file] = value
        }
        let keysDir = try FileManager.default.attributesOfItem(atPath: root.path + spec.installer.keysDir)
        #expect((keysDir[.posixPermissions] as? NSNumber)?.uint32Value == 0o700)
        // A second first boot never overwrites them.
        _ = try FirstBoot(spec: spec, root: root, ollama: OllamaEndpoint(host: "127.0.0.1", port: TestNetwork.freePort()), timeout: 1).run()
        for secret in spec.installer.fileSecrets {
            #expect(try String(contentsOfFile: root.path + spec.installer.path(of: secret), encoding: .utf8) == values[secret.file])
        }
    }

    @Test("the stamp is written only after the stack gate: a failed gate leaves none (next boot runs again); lines in boot-QA order")
    func stampAfterStackGate() throws {
        let spec = try FieldFixture.spec()
        let root = try FieldFixture.stageImage("fb-gate", pack: "none")
        defer { try? FileManager.default.removeItem(at: root) }
        let stamp = root.path + spec.installer.dataDir + "/.firstboot-done"
        let lines = LineLog()
        let fake = try FakeSysfs("fb-gate-sys")
        defer { try? FileManager.default.removeItem(at: fake.root) }
        try fake.writeMountinfo("25 1 254:2 / / rw - ext4 /dev/vda2 rw\n")
        try fake.addDevice(majorMinor: "254:2", disk: "vda", partition: ("vda2", 2))
        let grow = fake.grow(runner: GrowRunner { _ in ProcessResult(status: 2, stdout: Data("FAILED: no space\n".utf8), stderr: Data()) })
        func firstBoot(stackOK: Bool) throws -> FirstBootReport {
            try FirstBoot(
                spec: spec, root: root, ollama: OllamaEndpoint(host: "127.0.0.1", port: TestNetwork.freePort()), timeout: 1,
                rootGrow: grow,
                stackGate: {
                    // The gate runs while no stamp exists yet.
                    let stampSeen = FileManager.default.fileExists(atPath: stamp)
                    return StackGateReport(
                        ok: stackOK && !stampSeen, seconds: 3, service: stackOK ? nil : "web", reason: stackOK ? nil : "refused",
                        services: [])
                },
                announce: { lines.append($0) }
            ).run()
        }
        let failed = try firstBoot(stackOK: false)
        #expect(!failed.ok && failed.failure == "stack: web: refused")
        #expect(!FileManager.default.fileExists(atPath: stamp), "a failed stack gate must leave no stamp")
        #expect(
            lines.all == [
                "firstboot: root filesystem: /dev/vda2 21000000000 bytes", "UNISONOS-FIRSTBOOT-OK",
                "UNISONOS-STACK-FAILED: web: refused",
            ])
        // The grow failure is reported, not fatal.
        #expect(failed.root?.problem?.contains("growpart /dev/vda 2") == true)
        #expect(failed.steps.contains { $0.name == "root" && $0.status == .failed })

        // Next boot: runs again (no stamp), the gate passes, the stamp is written with both reports.
        lines.removeAll()
        let passed = try firstBoot(stackOK: true)
        #expect(passed.ok, "\(passed.failure ?? "")")
        #expect(lines.all.suffix(2) == ["UNISONOS-FIRSTBOOT-OK", "UNISONOS-STACK-OK"])
        let saved = try JSONDecoder().decode(FirstBootReport.self, from: Data(contentsOf: URL(fileURLWithPath: stamp)))
        #expect(saved.stack?.ok == true && saved.root?.device == "/dev/vda2")
    }

    @Test("a grow ahead of first boot (the platform unit, before image loading) runs once; first boot reports it without growing or printing again")
    func growAhead() throws {
        let spec = try FieldFixture.spec()
        let root = try FieldFixture.stageImage("fb-ahead", pack: "none")
        defer { try? FileManager.default.removeItem(at: root) }
        let fake = try FakeSysfs("fb-ahead-sys")
        defer { try? FileManager.default.removeItem(at: fake.root) }
        try fake.writeMountinfo("25 1 254:2 / / rw - ext4 /dev/vda2 rw\n")
        try fake.addDevice(majorMinor: "254:2", disk: "vda", partition: ("vda2", 2))
        let runner = GrowRunner { args in
            ProcessResult(status: 0, stdout: Data(args[0] == "growpart" ? "CHANGED: partition=2\n".utf8 : "".utf8), stderr: Data())
        }
        let lines = LineLog()
        let firstBoot = try FirstBoot(
            spec: spec, root: root, ollama: OllamaEndpoint(host: "127.0.0.1", port: TestNetwork.freePort()), timeout: 1,
            rootGrow: fake.grow(runner: runner), announce: { lines.append($0) })
        let ahead = firstBoot.growRootAhead()
        #expect(ahead?.grewPartition == true && ahead?.problem == nil)
        #expect(lines.all == ["firstboot: root filesystem: /dev/vda2 21000000000 bytes"])
        #expect(firstBoot.growRootAhead() == nil, "once: a restarted platform unit does not grow or print again")
        #expect(runner.commands.count == 2)

        lines.removeAll()
        let report = firstBoot.run()
        #expect(report.ok, "\(report.failure ?? "")")
        #expect(report.root?.grewPartition == true && report.root?.device == "/dev/vda2")
        #expect(runner.commands.count == 2, "first boot used the recorded grow")
        #expect(!lines.all.contains { $0.hasPrefix("firstboot: root filesystem:") }, "\(lines.all)")
        // After first boot completed, never again.
        try FileManager.default.removeItem(atPath: root.path + firstBoot.rootGrowRecord)
        #expect(firstBoot.growRootAhead() == nil)
    }

    @Test("nothing installed, or an unknown pack in the env file: a clear failure")
    func badInstall() throws {
        let spec = try FieldFixture.spec()
        let empty = try OpsFixture.tempDir("fb-empty")
        defer { try? FileManager.default.removeItem(at: empty) }
        let none = FirstBoot(spec: spec, root: empty, timeout: 1).run()
        #expect(!none.ok && none.failure?.contains("not installed") == true)

        let root = try FieldFixture.stageImage("fb-badpack", pack: "none")
        defer { try? FileManager.default.removeItem(at: root) }
        let envPath = root.path + spec.installer.envFile
        let env = try String(contentsOfFile: envPath, encoding: .utf8).replacingOccurrences(
            of: "UNISON_MODEL_PACK=none", with: "UNISON_MODEL_PACK=huge")
        try Data(env.utf8).write(to: URL(fileURLWithPath: envPath))
        let bad = FirstBoot(spec: spec, root: root, timeout: 1).run()
        #expect(bad.failure?.contains("UNISON_MODEL_PACK=huge is not a pack") == true, "\(bad.failure ?? "")")
    }

    @Test(
        "Ollama URL parsing",
        arguments: [
            ("http://127.0.0.1:11434", "http://127.0.0.1:11434"), ("http://localhost", "http://localhost:11434"),
            ("http://10.0.0.2:8080/", "http://10.0.0.2:8080"), ("http://Ollama:11434", "http://ollama:11434"), ("https://127.0.0.1", nil),
            ("http://bad host", nil), ("http://-x.example", nil),
            ("http://127.0.0.1:0", nil), ("127.0.0.1:11434", nil),
        ])
    func endpoints(text: String, expected: String?) {
        let parsed = try? OllamaEndpoint(parsing: text)
        #expect(parsed?.description == expected)
    }
}

/// Lines collected from a @Sendable callback.
final class LineLog: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func append(_ line: String) { lock.withLock { lines.append(line) } }
    func removeAll() { lock.withLock { lines.removeAll() } }
    var all: [String] { lock.withLock { lines } }
}
