import Foundation
import Testing
import UnisonCore
import UnisonInstall
import UnisonSpec
import UnisonTestSupport

@testable import UnisonOps

@Suite("health against real HTTP servers on 127.0.0.1", .serialized, .tags(.interop))
struct HealthTests {
    @Test("healthy, failing, slow and refusing services are told apart; exit 1")
    func mixed() throws {
        let servers = try HealthServers(["ok", "fail", "slow", "refuse"])
        defer { servers.stop() }
        let spec = try OpsFixture.spec(
            OpsFixture.specText(services: [
                ("good", servers.ports["ok"]!, "/health", nil), ("broken", servers.ports["fail"]!, "/health", nil),
                ("sluggish", servers.ports["slow"]!, "/health", nil), ("down", servers.ports["refuse"]!, "/health", nil),
            ]))
        let report = HealthChecker(spec: spec, requestTimeout: 8).checkOnce()
        let byName = Dictionary(uniqueKeysWithValues: report.services.map { ($0.name, $0) })
        #expect(byName["good"]?.state == .healthy && byName["good"]?.status == 200)
        #expect(byName["good"]?.url == "http://127.0.0.1:\(servers.ports["ok"]!)/health")
        #expect(byName["broken"]?.state == .unhealthy && byName["broken"]?.status == 500)
        #expect(byName["sluggish"]?.state == .timeout)
        #expect(byName["down"]?.state == .refused)
        #expect(report.exitCode == 1 && !report.healthy)
    }

    @Test("checks run at once: six services that answer only when all six have been asked are all healthy")
    func concurrent() throws {
        let modes = (1...6).map { "barrier\($0)" }
        let servers = try HealthServers(modes)
        defer { servers.stop() }
        let spec = try OpsFixture.spec(OpsFixture.specText(services: modes.map { ($0, servers.ports[$0]!, "/health", nil) }))
        // A checker asking one service after another would wait on the first until its timeout.
        let report = HealthChecker(spec: spec, requestTimeout: 25).checkOnce()
        #expect(report.services.map(\.state) == Array(repeating: .healthy, count: 6), "\(report.services.map(\.detail))")
        #expect(report.exitCode == 0)
    }

    @Test("all healthy exits 0; a healthPort is used when the spec gives one")
    func allHealthy() throws {
        let servers = try HealthServers(["ok", "refuse"])
        defer { servers.stop() }
        // The service's own port refuses; its health port answers.
        let text = OpsFixture.specText(services: [("a", servers.ports["refuse"]!, "/healthz", nil)])
            .replacingOccurrences(of: "    health: /healthz\n", with: "    health: /healthz\n    healthPort: \(servers.ports["ok"]!)\n")
        let report = HealthChecker(spec: try OpsFixture.spec(text), requestTimeout: 10).checkOnce()
        #expect(report.exitCode == 0, "\(report.services)")
        #expect(report.services.first?.url == "http://127.0.0.1:\(servers.ports["ok"]!)/healthz")
    }

    /// The host side of a published port is polled (auth: 8083 → 8088 in unison-platform's
    /// compose); services of profiles the env file does not turn on, workers without a health
    /// check, and unpublished services (asked of Docker) are not polled over HTTP.
    @Test("host ports are polled; off-profile services and workers are skipped; unpublished ones go to Docker")
    func hostPortsAndProfiles() throws {
        let servers = try HealthServers(["ok"])
        defer { servers.stop() }
        let text = OpsFixture.specText(services: [
            ("web", 1, "/health", nil), ("vdi", 2, "/readyz", nil),
            ("worker", 3, nil, nil), ("inner", 4, "/health", nil),
        ])
        .replacingOccurrences(of: "    port: 1\n", with: "    port: 1\n    hostPort: \(servers.ports["ok"]!)\n")
        .replacingOccurrences(of: "    port: 2\n", with: "    port: 2\n    profiles: [vdi]\n")
        .replacingOccurrences(of: "    port: 3\n", with: "    port: 3\n    publish: false\n    healthCheck: false\n")
        .replacingOccurrences(of: "    port: 4\n", with: "    port: 4\n    publish: false\n")
        let spec = try OpsFixture.spec(text)
        let checker = HealthChecker(spec: spec, requestTimeout: 2, activeProfiles: [])
        #expect(checker.checkedServices.map(\.name) == ["web", "inner"])
        let report = checker.checkOnce()
        let byName = Dictionary(uniqueKeysWithValues: report.services.map { ($0.name, $0) })
        #expect(byName["web"]?.state == .healthy)
        #expect(byName["web"]?.url == "http://127.0.0.1:\(servers.ports["ok"]!)/health")
        #expect(byName["inner"]?.url == nil && byName["inner"]?.state == .unknown, "\(String(describing: byName["inner"]))")
        #expect(HealthChecker(spec: spec, activeProfiles: ["vdi"]).checkedServices.map(\.name) == ["web", "vdi", "inner"])
        #expect(HealthChecker(spec: spec).checkedServices.map(\.name) == ["web", "vdi", "inner"])
    }

    /// A service of a compose profile the env file does not turn on is not running: diag,
    /// telemetry and the pilot report must not poll it (it would read as down) and say why.
    @Test("diag, telemetry and the pilot report skip services whose compose profile is off, and say so")
    func profileOffIsSkipped() throws {
        let servers = try HealthServers(["ok", "refuse"])
        defer { servers.stop() }
        let (ok, refused) = (servers.ports["ok"]!, servers.ports["refuse"]!)
        let text =
            OpsFixture.specText(services: [("web", ok, "/health", nil), ("vdi", refused, "/health", nil)])
            .replacingOccurrences(of: "    port: \(refused)\n", with: "    port: \(refused)\n    profiles: [vdi]\n")
            + "telemetry: {fields: [service_health]}\n"
        let spec = try OpsFixture.spec(text)
        let root = try OpsFixture.tempDir("profile-off")
        defer { try? FileManager.default.removeItem(at: root) }
        var host = try HostRoot(root)
        _ = try InstallPlan.make(spec: spec, options: InstallOptions(mode: .native)).apply(to: &host)
        let env = root.appendingPathComponent("etc/unison/platform.env")
        let control = StackControl(spec: spec, runner: FakeRunner.noDocker, root: root, systemdProbe: "/nonexistent")

        func observe(profiles: String) throws -> (
            diag: DiagCollector.Output, health: [String: Any], telemetry: String?, stack: [PilotReport.ServiceState]
        ) {
            try Data("TEST_SECRET=\(String(repeating: "a1", count: 16))\nCOMPOSE_PROFILES=\(profiles)\n".utf8).write(to: env)
            let diag = DiagCollectors(control: control, options: DiagOptions(), redaction: DiagRedaction(spec: spec)).health()
            let json = try #require(diag.files.first { $0.0 == "health.json" }?.1)
            let health = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
            let telemetry = TelemetrySnapshot.collect(control: control, uptimePath: "/nonexistent")["service_health"]
            let checked = HealthChecker(spec: spec, requestTimeout: 2, activeProfiles: control.activeProfiles).checkOnce()
            let stack = PilotReporter(spec: spec, root: root).report(target: nil, doctor: nil, health: checked).stack
            return (diag, health, telemetry, stack)
        }

        // Profile off: only web is polled; vdi is listed as skipped.
        let off = try observe(profiles: "ollama-host")
        #expect(control.activeProfiles == ["ollama-host"])
        #expect((off.health["services"] as? [[String: Any]])?.compactMap { $0["name"] as? String } == ["web"])
        let skipped = off.health["skipped"] as? [[String: Any]]
        #expect(skipped?.first?["name"] as? String == "vdi" && skipped?.first?["reason"] as? String == "skipped: profile off", "\(off.health)")
        #expect(off.diag.detail == "all healthy; vdi skipped: profile off")
        #expect(off.telemetry == "ok")
        #expect(off.stack.map(\.service) == ["web", "vdi"])
        #expect(off.stack.map(\.state) == ["healthy", "skipped: profile off"])

        // Profile on: vdi is polled, and nothing listens there.
        let on = try observe(profiles: "ollama-host,vdi")
        #expect((on.health["services"] as? [[String: Any]])?.count == 2)
        #expect(on.diag.detail == "not all healthy")
        #expect(on.telemetry == "degraded")
        #expect(on.stack.map(\.state) == ["healthy", "refused"])
    }

    @Test("--wait polls until a recovering service is healthy")
    func waitRecovers() throws {
        let servers = try HealthServers(["flaky"])
        defer { servers.stop() }
        let spec = try OpsFixture.spec(OpsFixture.specText(services: [("warming", servers.ports["flaky"]!, "/health", nil)]))
        let checker = HealthChecker(spec: spec, requestTimeout: 10)
        #expect(checker.checkOnce().exitCode == 1)
        let report = checker.wait(timeout: 20, interval: 0.2)
        #expect(report.exitCode == 0)
        #expect(report.attempts >= 3)
        // And gives up at the timeout with the last answer.
        let stuck = try HealthServers(["fail"])
        defer { stuck.stop() }
        let failing = HealthChecker(
            spec: try OpsFixture.spec(OpsFixture.specText(services: [("x", stuck.ports["fail"]!, "/health", nil)])), requestTimeout: 10)
        let final = failing.wait(timeout: 5, interval: 0.3)
        #expect(final.exitCode == 1 && final.attempts >= 2)
        #expect(final.services.first?.status == 500, "the last answer is reported: \(final.services)")
    }

    @Test("services checked inside their container: unknown without Docker (exit 2), Docker's answer with it")
    func containerChecks() throws {
        let servers = try HealthServers(["ok"])
        defer { servers.stop() }
        let spec = try OpsFixture.spec(
            OpsFixture.specText(services: [
                ("web", servers.ports["ok"]!, "/health", nil),
                ("db", 1, nil, "pg_isready"),
            ]))
        let without = HealthChecker(spec: spec, requestTimeout: 10).checkOnce()
        #expect(without.exitCode == 2)
        #expect(without.services.first { $0.name == "db" }?.detail.contains("Docker is not available") == true)

        struct Docker: ContainerHealthSource {
            let answer: [String: String]
            func health(project: String) throws -> [String: String] { answer }
        }
        #expect(HealthChecker(spec: spec, requestTimeout: 10, containerHealth: Docker(answer: ["db": "healthy"])).checkOnce().exitCode == 0)
        #expect(HealthChecker(spec: spec, requestTimeout: 10, containerHealth: Docker(answer: ["db": "starting"])).checkOnce().exitCode == 1)

        // Docker's NDJSON `ps` output, parsed through a fake runner.
        let ps = #"{"Service":"db","State":"running","Health":"healthy"}"# + "\n" + #"{"Service":"web","State":"exited","Health":""}"#
        let runner = FakeRunner([(["docker", "compose"], FakeRunner.ok(ps))])
        let view = try ComposeHealthSource(runner: runner, composeFile: "/c.yaml").health(project: "unison")
        #expect(view == ["db": "healthy", "web": "exited"])
        #expect(runner.commands == [["docker", "compose", "-f", "/c.yaml", "-p", "unison", "ps", "--all", "--format", "json"]])
    }
}
