import Foundation
import Testing
import UnisonCore
import UnisonTestSupport

@testable import UnisonQA

/// A spec whose orchestrator listens on the fixture server's port (default endpoints) and
/// whose auth is reached through --base-url.
private struct CLISpec {
    let dir: URL
    let spec: URL

    init(port: Int) throws {
        dir = try QAFixtures.tempDir()
        spec = dir.appendingPathComponent("unison.yaml")
        let qa = """
            qa:
              boot:
                marker: "UNISONOS-FIRSTBOOT-OK"
                timeout: 60
              smoke:
                - {name: orchestrator-health, service: orchestrator, path: /health, expect: 200}
                - {name: auth-json, service: auth, path: /json, expect: 200}
              e2e:
                - {name: intent, service: orchestrator, method: POST, path: /v1/intents, body: '{"text":"ping"}', expect: 200}
                - {name: missing, service: auth, path: /status/404, expect: 200}
                - {name: after, service: orchestrator, path: /health, expect: 200}

            """
        let text = try QAFixtures.specText(qa: qa, replacing: [("    hostPort: 8090\n", "    hostPort: \(port)\n")])
        try text.write(to: spec, atomically: true, encoding: .utf8)
    }

    func cleanup() { try? FileManager.default.removeItem(at: dir) }
}

@Suite("unisonctl qa smoke / qa e2e: exit codes, --json, --junit", .serialized, .tags(.boot))
struct QAHTTPCLITests {
    @Test("smoke: 0 when every check passes, with the summary, --json and a JUnit file")
    func smokePasses() throws {
        let server = try FixtureServer()
        defer { server.stop() }
        let f = try CLISpec(port: server.port)
        defer { f.cleanup() }
        let auth = "auth=\(server.baseURL)"

        let plain = try QACLI.run(["qa", "smoke", "--spec", f.spec.path, "--base-url", auth])
        #expect(plain.status == 0, "\(plain.stdoutString)\(plain.stderrString)")
        #expect(plain.stdoutString.contains("PASS  orchestrator-health  GET http://127.0.0.1:\(server.port)/health: HTTP 200"))
        #expect(plain.stdoutString.contains("smoke: 2 of 2 passed"))

        let junit = f.dir.appendingPathComponent("smoke.xml")
        let json = try QACLI.run(["qa", "smoke", "--spec", f.spec.path, "--base-url", auth, "--json", "--junit", junit.path])
        #expect(json.status == 0, "\(json.stderrString)")
        let object = try #require(try JSONSerialization.jsonObject(with: json.stdout) as? [String: Any])
        #expect(object["schema"] as? String == "unisonctl.qa-run/v1")
        #expect(object["suite"] as? String == "smoke")
        #expect(object["passed"] as? Bool == true)
        #expect(object["junit"] as? String == junit.path)
        let checks = try #require(object["checks"] as? [[String: Any]])
        #expect(checks.map { $0["name"] as? String } == ["orchestrator-health", "auth-json"])
        #expect(checks.map { $0["status"] as? Int } == [200, 200])
        #expect(json.stdoutString.hasPrefix("{"), "nothing but JSON on stdout")

        let parsed = try QAFixtures.readJUnit(junit)
        let root = try #require(parsed["root"] as? [String: String])
        #expect(root["tests"] == "2" && root["failures"] == "0" && root["errors"] == "0")
    }

    @Test("smoke: 1 when a service never answers; the JUnit file records the error")
    func smokeFails() throws {
        let server = try FixtureServer()
        defer { server.stop() }
        let f = try CLISpec(port: server.port)
        defer { f.cleanup() }
        let junit = f.dir.appendingPathComponent("smoke.xml")
        let r = try QACLI.run([
            "qa", "smoke", "--spec", f.spec.path, "--base-url", "auth=http://127.0.0.1:\(TestNetwork.freePort())",
            "--timeout", "8", "--junit", junit.path,
        ])
        #expect(r.status == 1, "\(r.stdoutString)\(r.stderrString)")
        #expect(r.stdoutString.contains("ERROR auth-json"))
        #expect(r.stdoutString.contains("connection refused"))
        #expect(r.stdoutString.contains("smoke: 1 of 2 passed, 1 error in"))
        let parsed = try QAFixtures.readJUnit(junit)
        let root = try #require(parsed["root"] as? [String: String])
        #expect(root["tests"] == "2" && root["errors"] == "1")
    }

    @Test("e2e: ordered steps; a failure skips the rest (exit 1), --keep-going runs them, --only narrows")
    func e2e() throws {
        let server = try FixtureServer()
        defer { server.stop() }
        let f = try CLISpec(port: server.port)
        defer { f.cleanup() }
        let common = ["qa", "e2e", "--spec", f.spec.path, "--base-url", "auth=\(server.baseURL)"]

        let stopped = try QACLI.run(common + ["--json"])
        #expect(stopped.status == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: stopped.stdout) as? [String: Any])
        let checks = try #require(object["checks"] as? [[String: Any]])
        #expect(checks.map { $0["outcome"] as? String } == ["passed", "wrongStatus", "skipped"])
        #expect(checks.first?["method"] as? String == "POST")
        let counts = try #require(object["counts"] as? [String: Int])
        #expect(counts == ["total": 3, "passed": 1, "failed": 1, "errors": 0, "skipped": 1])

        let all = try QACLI.run(common + ["--keep-going"])
        #expect(all.status == 1)
        #expect(all.stdoutString.contains("PASS  after"))
        #expect(all.stdoutString.contains("FAIL  missing"))
        #expect(all.stdoutString.contains("expected HTTP 200, got 404"))

        let only = try QACLI.run(common + ["--only", "after", "--only", "intent"])
        #expect(only.status == 0, "\(only.stdoutString)\(only.stderrString)")
        #expect(only.stdoutString.contains("e2e: 2 of 2 passed"))
    }

    @Test(
        "exit 2 for bad input, and no JUnit file is written",
        arguments: [
            (["--base-url", "nosuch=http://127.0.0.1:1"], "unknown service 'nosuch'"),
            (["--base-url", "auth=ftp://127.0.0.1:1"], "is not an http://"),
            (["--base-url", "auth"], "expected SERVICE=URL"),
            (["--only", "nosuch"], "no such check in qa.smoke"),
            (["--timeout", "0"], "--timeout must be a positive"),
            (["--host", "a b"], "is not a host name"),
        ])
    func badInput(extra: [String], message: String) throws {
        let f = try CLISpec(port: TestNetwork.freePort())
        defer { f.cleanup() }
        let junit = f.dir.appendingPathComponent("never.xml")
        let r = try QACLI.run(["qa", "smoke", "--spec", f.spec.path, "--junit", junit.path] + extra)
        #expect(r.status == 2, "\(r.stdoutString)\(r.stderrString)")
        #expect(r.stderrString.contains(message), "\(r.stderrString)")
        #expect(!FileManager.default.fileExists(atPath: junit.path))
    }

    @Test("exit 2 before any check runs when the JUnit report cannot be written")
    func unwritableReport() throws {
        let f = try CLISpec(port: TestNetwork.freePort())
        defer { f.cleanup() }
        for path in [f.spec.path + "/r.xml", f.dir.path] {
            let r = try QACLI.run(["qa", "smoke", "--spec", f.spec.path, "--junit", path, "--timeout", "30"])
            #expect(r.status == 2, "\(r.stdoutString)\(r.stderrString)")
            #expect(r.stderrString.contains("cannot write the report '\(path)'"), "\(r.stderrString)")
            #expect(r.stdoutString.isEmpty, "no check ran")
        }
    }

    @Test("qa boot --junit writes the boot result as a JUnit test case")
    func bootJUnit() throws {
        let f = try BootFixture(message: "hello\nMARKER-7\n")
        defer { f.cleanup() }
        let junit = f.dir.appendingPathComponent("boot.xml")
        let r = try QACLI.run([
            "qa", "boot", f.disk.path, "--marker", "MARKER-7", "--timeout", "60", "--firmware", "bios",
            "--firmware-file", f.bios.path, "--accel", "tcg", "--memory", "64", "--junit", junit.path,
        ])
        #expect(r.status == 0, "\(r.stderrString)")
        let parsed = try QAFixtures.readJUnit(junit)
        let root = try #require(parsed["root"] as? [String: String])
        #expect(root["tests"] == "1" && root["failures"] == "0")
        let c = try #require((parsed["suites"] as? [[String: Any]])?.first?["cases"] as? [[String: Any]]).first
        #expect(c?["name"] as? String == "blank.raw")
        #expect((c?["out"] as? String)?.contains("MARKER-7") == true)
    }
}
