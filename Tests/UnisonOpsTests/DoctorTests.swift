import Foundation
import Testing
import UnisonCore
import UnisonInstall
import UnisonSpec
@testable import UnisonOps

@Suite("doctor", .tags(.unit))
struct DoctorTests {
    func stage(_ spec: PlatformSpec, _ label: String) throws -> URL {
        let dir = try OpsFixture.tempDir(label)
        var root = try HostRoot(dir)
        _ = try InstallPlan.make(spec: spec, options: InstallOptions(mode: .native)).apply(to: &root)
        return dir
    }

    func memInfo(_ dir: URL, kB: Int) throws -> String {
        let url = dir.appendingPathComponent("meminfo")
        try Data("MemTotal:       \(kB) kB\nMemFree:         1000 kB\n".utf8).write(to: url)
        return url.path
    }

    @Test("a healthy staged install: only the systemd warning, every finding without an error")
    func clean() throws {
        let spec = try OpsFixture.spec(OpsFixture.specText(services: [("web", 1, "/health", nil)]))
        let root = try stage(spec, "clean")
        defer { try? FileManager.default.removeItem(at: root) }
        let control = StackControl(spec: spec, runner: FakeRunner.withDocker, root: root, systemdProbe: "/nonexistent")
        let report = Doctor(control: control, memInfoPath: try memInfo(root, kB: 8_000_000), freeBytes: { _ in 50_000_000_000 }).run()
        #expect(report.errors == 0, "\(report.findings.filter { $0.level == .error })")
        #expect(report.findings.contains { $0.check == "systemd" && $0.level == .warning && $0.fix != nil })
        #expect(report.findings.contains { $0.check == "compose-file" && $0.level == .ok })
        #expect(report.modelPack == "light")
    }

    @Test("each problem is found, with a fix: no Docker, loose env mode, placeholder, port taken, too little RAM and disk")
    func problems() throws {
        let spec = try OpsFixture.spec(OpsFixture.specText(services: [("web", 1, "/health", nil)], minRam: "8GB", minDisk: "20GB"))
        // A port held by this test, declared as a service port.
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        listen(listener, 1)
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &len) } }
        let port = Int(UInt16(bigEndian: addr.sin_port))
        let busySpec = try OpsFixture.spec(OpsFixture.specText(services: [("web", port, "/health", nil)], minRam: "8GB", minDisk: "20GB"))
        _ = spec

        let root = try stage(busySpec, "problems")
        defer { try? FileManager.default.removeItem(at: root) }
        let envPath = root.path + "/etc/unison/platform.env"
        try Data("UNISON_MODEL_PACK=light\nTEST_SECRET=CHANGE_ME\n".utf8).write(to: URL(fileURLWithPath: envPath))
        chmod(envPath, 0o644)
        let control = StackControl(spec: busySpec, runner: FakeRunner.noDocker, root: root, systemdProbe: "/nonexistent")
        let report = Doctor(control: control, memInfoPath: try memInfo(root, kB: 2_000_000), freeBytes: { _ in 1_000_000_000 }).run()
        func finding(_ check: String) -> Finding? { report.findings.first { $0.check == check && $0.level == .error } }
        #expect(finding("docker")?.message.contains("Docker is not installed") == true)
        #expect(finding("env-mode")?.fix == "chmod 0600 /etc/unison/platform.env")
        #expect(finding("env-secrets")?.message.contains("TEST_SECRET still holds the template placeholder") == true)
        #expect(finding("ports")?.message.contains("port \(port) for web") == true)
        #expect(finding("ram")?.message.contains("needs 8GB") == true)
        #expect(finding("disk")?.message.contains("needs 20GB") == true)
        #expect(report.findings.filter { $0.level == .error }.allSatisfy { $0.fix != nil })
        #expect(report.errors >= 6)

        // The model pack asked for is the one sized against.
        let big = Doctor(control: control, modelPack: "big", memInfoPath: try memInfo(root, kB: 2_000_000), freeBytes: { _ in 1 }).run()
        #expect(big.modelPack == "big")
        #expect(big.findings.first { $0.check == "ram" }?.fix?.contains("--models light") == true)
    }

    @Test("unisonctl doctor --json on a staged root: schema, findings and exit status 1 for an engine that does not answer")
    func cli() throws {
        let spec = try OpsFixture.repoSpec()
        let root = try stage(spec, "cli")
        defer { try? FileManager.default.removeItem(at: root) }
        // Stand-in docker on PATH: the client and compose plugin answer, the engine does not.
        let tools = try StandInTools(engineUp: false)
        defer { tools.cleanup() }
        let r = try OpsCLI.run(["doctor", "--root", root.path, "--spec", OpsFixture.repoRoot.appendingPathComponent("unison.yaml").path, "--json"],
                               env: tools.environment)
        #expect(r.status == 1, "an engine that does not answer is an error")
        let json = try #require(try JSONSerialization.jsonObject(with: r.stdout) as? [String: Any])
        #expect(json["schema"] as? String == "unisonctl.doctor/v1")
        let findings = try #require(json["findings"] as? [[String: Any]])
        func level(_ check: String) -> String? { findings.first { $0["check"] as? String == check }?["level"] as? String }
        #expect(level("env-mode") == "ok")
        #expect(level("docker") == "ok" && level("compose") == "ok", "\(findings)")
        #expect(level("docker-engine") == "error", "\(findings)")
        #expect(findings.contains { $0["check"] as? String == "systemd" && $0["level"] as? String == "warning" },
                "a staged root is not run by this host's systemd")
        #expect(tools.calls().contains(["docker", "info", "--format", "{{.ServerVersion}}"]))
    }
}
