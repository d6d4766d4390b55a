// `unisonctl doctor --json` on a staged root: moved whole from UnisonOpsTests/DoctorTests.swift.
import Foundation
import Testing
import UnisonCore
import UnisonInstall
import UnisonSpec
import UnisonTestSupport

@Suite("doctor (unisonctl)", .tags(.unit))
struct DoctorCLITests {
    func stage(_ spec: PlatformSpec, _ label: String) throws -> URL {
        let dir = try OpsFixture.tempDir(label)
        var root = try HostRoot(dir)
        _ = try InstallPlan.make(spec: spec, options: InstallOptions(mode: .native)).apply(to: &root)
        return dir
    }

    @Test("unisonctl doctor --json on a staged root: schema, findings and exit status 1 for an engine that does not answer")
    func cli() throws {
        let spec = try OpsFixture.repoSpec()
        let root = try stage(spec, "cli")
        defer { try? FileManager.default.removeItem(at: root) }
        // Stand-in docker on PATH: the client and compose plugin answer, the engine does not.
        let tools = try StandInTools(engineUp: false)
        defer { tools.cleanup() }
        let r = try OpsCLI.run(
            ["doctor", "--root", root.path, "--spec", OpsFixture.repoRoot.appendingPathComponent("unison.yaml").path, "--json"],
            env: tools.environment)
        #expect(r.status == 1, "an engine that does not answer is an error")
        let json = try #require(try JSONSerialization.jsonObject(with: r.stdout) as? [String: Any])
        #expect(json["schema"] as? String == "unisonctl.doctor/v1")
        let findings = try #require(json["findings"] as? [[String: Any]])
        func level(_ check: String) -> String? { findings.first { $0["check"] as? String == check }?["level"] as? String }
        #expect(level("env-mode") == "ok")
        #expect(level("docker") == "ok" && level("compose") == "ok", "\(findings)")
        #expect(level("docker-engine") == "error", "\(findings)")
        #expect(
            findings.contains { $0["check"] as? String == "systemd" && $0["level"] as? String == "warning" },
            "a staged root is not run by this host's systemd")
        #expect(tools.calls().contains(["docker", "info", "--format", "{{.ServerVersion}}"]))
    }
}
