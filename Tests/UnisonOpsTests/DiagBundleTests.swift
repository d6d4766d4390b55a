import Foundation
import Testing
import UnisonCore
import UnisonInstall
import UnisonSpec
import UnisonTestSupport

@testable import UnisonOps

/// A runner whose commands echo given text, or hang for a while (a stuck journalctl).
final class ScriptedRunner: ProcessRunner, @unchecked Sendable {
    let answers: [(prefix: [String], result: ProcessResult?, delay: Double)]
    init(_ answers: [(prefix: [String], result: ProcessResult?, delay: Double)]) { self.answers = answers }

    func run(_ arguments: [String], environment: [String: String]?, input: Data?, workingDirectory: URL?) throws -> ProcessResult {
        for a in answers where arguments.starts(with: a.prefix) {
            if a.delay > 0 { Thread.sleep(forTimeInterval: a.delay) }
            guard let r = a.result else { throw ProcessError.notFound(tool: arguments[0], hint: nil) }
            return r
        }
        throw ProcessError.notFound(tool: arguments[0], hint: nil)
    }
}

@Suite("diag", .tags(.interop))
struct DiagBundleTests {
    /// Every secret value the staged install generated.
    func secrets(_ root: URL, _ spec: PlatformSpec) throws -> [String] {
        let env = try String(contentsOfFile: root.path + spec.installer.envFile, encoding: .utf8)
        let values = spec.installer.secrets.compactMap { EnvFile.value(of: $0.name, in: env) }
        #expect(values.count == spec.installer.secrets.count && values.allSatisfy { $0.count >= 32 && !$0.contains("CHANGE_ME") })
        return values
    }

    func sh(_ command: String, cwd: URL) throws -> ProcessResult {
        try SystemProcessRunner().run(["/bin/sh", "-c", command], environment: nil, input: nil, workingDirectory: cwd)
    }

    @Test("a bundle from a staged install: GNU tar extracts it, sha256sum -c accepts it, no secret anywhere, tools missing recorded")
    func bundle() throws {
        let spec = try FieldFixture.spec()
        let root = try FieldFixture.stageNative("diag")
        defer { try? FileManager.default.removeItem(at: root) }
        let secretValues = try secrets(root, spec)
        try FieldFixture.writeModel(store: root.appendingPathComponent("var/lib/unison/models"), name: FieldFixture.qwen, seed: "d")
        // Secrets also hide in tool output: a journal line echoing one, and an extra *_TOKEN key.
        let envPath = root.path + spec.installer.envFile
        try Data((try String(contentsOfFile: envPath, encoding: .utf8) + "GITHUB_TOKEN=ghp_exampletokenvalue123\nPLAIN=visible-value\n").utf8)
            .write(to: URL(fileURLWithPath: envPath))
        let leak = "connecting with password \(secretValues[1]) and token ghp_exampletokenvalue123\n"
        let runner = ScriptedRunner([
            (["systemctl"], ProcessResult(status: 3, stdout: Data("unison-platform.service inactive\n".utf8), stderr: Data()), 0),
            (["journalctl"], ProcessResult(status: 0, stdout: Data(leak.utf8), stderr: Data()), 0),
            (["docker"], nil, 0),
        ])
        let out = try OpsFixture.tempDir("diag-out")
        defer { try? FileManager.default.removeItem(at: out) }
        let control = StackControl(spec: spec, runner: runner, root: root, systemdProbe: "/nonexistent")
        let clock = FixedClock(Date(timeIntervalSince1970: 1_764_201_600))  // 2025-11-27T00:00:00Z
        let result = try DiagBundle(control: control, options: DiagOptions(output: out, hostName: "edge box/../1"), clock: clock).write()

        let name = "unison-diag-edge-box-..-1-20251127T000000Z"
        #expect(result.bundle == out.path + "/\(name).tar.gz")
        var st = stat()
        #expect(stat(result.bundle, &st) == 0 && st.st_mode & 0o777 == 0o600)
        #expect(try FileManager.default.contentsOfDirectory(atPath: out.path) == ["\(name).tar.gz"], "no temporary file left")

        // GNU tar: every member under the one top directory, nothing absolute or climbing.
        let listing = try sh("tar -tzf '\(result.bundle)'", cwd: out)
        #expect(listing.status == 0)
        let members = listing.stdoutString.split(separator: "\n").map(String.init)
        #expect(members.allSatisfy { $0.hasPrefix(name + "/") && !$0.hasPrefix("/") && !$0.split(separator: "/").contains("..") })
        #expect(try sh("tar -xzf '\(result.bundle)'", cwd: out).status == 0)
        let dir = out.appendingPathComponent(name)
        let check = try sh("sha256sum -c SHA256SUMS", cwd: dir)
        #expect(check.status == 0, "\(check.stdoutString)\(check.stderrString)")
        let checkedFiles = check.stdoutString.split(separator: "\n").filter { $0.hasSuffix(": OK") }.count
        #expect(checkedFiles == result.files - 1)

        // The manifest lists every other file with its SHA-256.
        let manifest = try JSONDecoder().decode(DiagManifest.self, from: Data(contentsOf: dir.appendingPathComponent("manifest.json")))
        #expect(manifest.schema == "unisonctl.diag/v1")
        #expect(manifest.created == "2025-11-27T00:00:00Z")
        for file in manifest.files {
            #expect(try FieldFixture.sha256sum(dir.appendingPathComponent(file.path)) == file.sha256, "\(file.path)")
        }
        let expectedFiles = [
            "versions.txt", "spec/unison.yaml", "spec/spec.json", "install/platform.env.redacted", "install/release.json",
            "systemd/status.txt", "systemd/journal.txt", "compose/ps.txt", "health.json", "models/verify.json",
            "system/disk.txt", "doctor.json",
        ]
        for path in expectedFiles { #expect(manifest.files.contains { $0.path == path }, "\(path) missing") }

        // Missing docker is recorded, not fatal; each collector has an outcome.
        let compose = manifest.collectors.first { $0.name == "compose" }
        #expect(compose?.status == .missing)
        #expect(try String(contentsOf: dir.appendingPathComponent("compose/ps.txt"), encoding: .utf8).contains("'docker' is not installed here"))
        #expect(manifest.collectors.map(\.name) == ["versions", "spec", "install", "systemd", "compose", "health", "models", "resources", "doctor"])
        let verify = try String(contentsOf: dir.appendingPathComponent("models/verify.json"), encoding: .utf8)
        #expect(verify.contains("registry.ollama.ai/library/qwen2.5:1.5b"))

        // The env file: every secret masked, other values kept.
        let redacted = try String(contentsOf: dir.appendingPathComponent("install/platform.env.redacted"), encoding: .utf8)
        for s in spec.installer.secrets { #expect(redacted.contains("\(s.name)=<redacted>")) }
        #expect(redacted.contains("GITHUB_TOKEN=<redacted>") && redacted.contains("PLAIN=visible-value"))
        #expect(try String(contentsOf: dir.appendingPathComponent("systemd/journal.txt"), encoding: .utf8).contains("password <redacted>"))

        // No secret in any byte of the decompressed tar (grep, an independent reader).
        for value in secretValues + ["ghp_exampletokenvalue123"] {
            let grep = try sh("gzip -dc '\(result.bundle)' | grep -c -a -F '\(value)'", cwd: out)
            #expect(grep.stdoutString.trimmingCharacters(in: .whitespacesAndNewlines) == "0", "secret found in the bundle")
        }
        // And the grep would have found it: the secret is in the env file itself.
        let control2 = try sh("grep -c -F '\(secretValues[0])' '\(envPath)'", cwd: out)
        #expect(control2.stdoutString.trimmingCharacters(in: .whitespacesAndNewlines) == "1")
    }

    @Test("a hanging collector is cut off at its deadline and recorded; the bundle is still written")
    func hangingCollector() throws {
        let spec = try FieldFixture.spec()
        let root = try FieldFixture.stageNative("diag-hang")
        defer { try? FileManager.default.removeItem(at: root) }
        let runner = ScriptedRunner([
            (["journalctl"], ProcessResult(status: 0, stdout: Data(), stderr: Data()), 90), (["systemctl"], nil, 0), (["docker"], nil, 0),
        ])
        let out = try OpsFixture.tempDir("diag-hang-out")
        defer { try? FileManager.default.removeItem(at: out) }
        let control = StackControl(spec: spec, runner: runner, root: root, systemdProbe: "/nonexistent")
        let started = Date()
        let result = try DiagBundle(
            control: control, options: DiagOptions(output: out.appendingPathComponent("b.tar.gz"), collectorTimeout: 1, hostName: "h")
        ).write()
        #expect(Date().timeIntervalSince(started) < 60, "cut off at the 1 s deadline, not after the collector's 90 s")
        #expect(result.bundle == out.path + "/b.tar.gz")
        let systemd = result.collectors.first { $0.name == "systemd" }
        #expect(systemd?.status == .timeout && systemd?.files == ["errors/systemd.txt"])
        #expect(try sh("tar -xzf b.tar.gz && cd unison-diag-h-* && sha256sum -c --quiet SHA256SUMS", cwd: out).status == 0)
    }

    @Test("output too large for the cap is cut to its tail and marked truncated")
    func truncation() throws {
        let spec = try FieldFixture.spec()
        let root = try FieldFixture.stageNative("diag-trunc")
        defer { try? FileManager.default.removeItem(at: root) }
        let big = String(repeating: "old line\n", count: 5000) + "THE LAST LINE\n"
        let runner = ScriptedRunner([
            (["journalctl"], ProcessResult(status: 0, stdout: Data(big.utf8), stderr: Data()), 0), (["systemctl"], nil, 0), (["docker"], nil, 0),
        ])
        let out = try OpsFixture.tempDir("diag-trunc-out")
        defer { try? FileManager.default.removeItem(at: out) }
        let control = StackControl(spec: spec, runner: runner, root: root, systemdProbe: "/nonexistent")
        let result = try DiagBundle(
            control: control, options: DiagOptions(output: out.appendingPathComponent("t.tar.gz"), maxBytesPerFile: 4096, hostName: "h")
        ).write()
        #expect(result.collectors.first { $0.name == "systemd" }?.truncated == true)
        let journal = try sh("tar -xzOf t.tar.gz --wildcards '*/systemd/journal.txt'", cwd: out).stdoutString
        #expect(journal.hasSuffix("THE LAST LINE\n") && journal.utf8.count < 4096 + 200)
        #expect(journal.hasPrefix("[unisonctl diag: first "))
    }

    @Test("an output in a directory that does not exist: refused, nothing written")
    func badOutput() throws {
        let spec = try FieldFixture.spec()
        let control = StackControl(
            spec: spec, runner: ScriptedRunner([]), root: URL(fileURLWithPath: "/nonexistent-root"), systemdProbe: "/nonexistent")
        #expect(throws: DiagError.self) {
            try DiagBundle(control: control, options: DiagOptions(output: URL(fileURLWithPath: "/nonexistent-dir/x.tar.gz"))).write()
        }
    }

    @Test(
        "host names become safe file name parts",
        arguments: [
            ("edge-01", "edge-01"), ("../../etc/passwd", "etc-passwd"), ("", "host"), ("..", "host"), ("héllo wörld", "h-llo-w-rld"),
            (String(repeating: "a", count: 100), String(repeating: "a", count: 63)),
        ])
    func hostNames(raw: String, expected: String) {
        #expect(DiagBundle.safeHostName(raw) == expected)
    }

    @Test("redaction: secret keys by name and by pattern, placeholders kept, values scrubbed from text")
    func redaction() throws {
        let spec = try FieldFixture.spec()
        var r = DiagRedaction(spec: spec)
        let env = "# c\nPOSTGRES_PASSWORD=\"quoted-secret-1\"\nNATS_TOKEN=CHANGE_ME\nAPI_KEY=k3y-value-xyz\nMODE=prod\nEMPTY_SECRET=\n"
        r.learn(envText: env)
        #expect(r.redactEnv(env) == "# c\nPOSTGRES_PASSWORD=<redacted>\nNATS_TOKEN=CHANGE_ME\nAPI_KEY=<redacted>\nMODE=prod\nEMPTY_SECRET=\n")
        #expect(r.scrub("a quoted-secret-1 b k3y-value-xyz") == "a <redacted> b <redacted>")
    }
}
