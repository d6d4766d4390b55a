import Foundation
import Testing
import UnisonCore
import UnisonInstall
import UnisonSpec
import UnisonTestSupport

@testable import UnisonOps

@Suite("start, stop, restart, status, logs, recover", .tags(.unit))
struct StackControlTests {
    /// A staged install of the repository spec, with a safe env file.
    func staged(_ label: String) throws -> (URL, PlatformSpec) {
        let dir = try OpsFixture.tempDir(label)
        let spec = try OpsFixture.repoSpec()
        let plan = try InstallPlan.make(spec: spec, options: InstallOptions(mode: .native))
        var root = try HostRoot(dir)
        _ = try plan.apply(to: &root)
        return (dir, spec)
    }

    @Test(
        "without systemd, each action is docker compose with the project, file and env file",
        arguments: [
            (StackControl.Action.start, [["up", "--detach", "--remove-orphans"]]),
            (.stop, [["down"]]),
            (.restart, [["up", "--detach", "--remove-orphans", "--force-recreate"]]),
            (.status, [["ps", "--all"]]),
            (.recover, [["down", "--remove-orphans"], ["up", "--detach", "--remove-orphans", "--force-recreate"]]),
            (.logs(service: "auth", tail: 50, follow: false), [["logs", "--no-color", "--tail", "50", "auth"]]),
        ])
    func composeCommands(action: StackControl.Action, tails: [[String]]) throws {
        let (root, spec) = try staged("compose")
        defer { try? FileManager.default.removeItem(at: root) }
        let runner = FakeRunner.withDocker
        let control = StackControl(spec: spec, runner: runner, root: root, systemdProbe: root.path + "/run/systemd/system")
        let outcome = try control.perform(action)
        #expect(outcome.backend == .compose)
        #expect(outcome.note?.contains("systemd is not running here") == true)
        let base = [
            "docker", "compose", "-f", root.path + "/opt/unison-platform/compose.yaml", "-p", "unison",
            "--env-file", root.path + "/etc/unison/platform.env",
        ]
        #expect(outcome.steps.map(\.command) == tails.map { base + $0 })
        #expect(runner.commands.filter { $0.count > 2 && $0[2] == "-f" } == tails.map { base + $0 })
    }

    @Test("with systemd running and the unit installed, actions go through systemctl and journalctl")
    func systemdCommands() throws {
        let (root, spec) = try staged("systemd")
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(atPath: root.path + "/run/systemd/system", withIntermediateDirectories: true)
        let runner = FakeRunner.withDocker
        let control = StackControl(spec: spec, runner: runner, root: root, systemdProbe: root.path + "/run/systemd/system")
        #expect(control.backend == .systemd)
        #expect(try control.perform(.start).steps.map(\.command) == [["systemctl", "start", "unison-platform.service"]])
        #expect(try control.perform(.stop).steps.map(\.command) == [["systemctl", "stop", "unison-platform.service"]])
        #expect(
            control.commands(for: .logs(service: nil, tail: nil, follow: true), backend: .systemd)
                == [["journalctl", "--unit", "unison-platform.service", "--no-pager", "--lines", "200", "--follow"]])
        #expect(try control.perform(.recover).steps.map(\.command).first == ["systemctl", "reset-failed", "unison-platform.service"])
        // `systemctl status` of a stopped unit exits 3: reported, not an error.
        let stopped = FakeRunner([
            (["systemctl", "status"], FakeRunner.fail(3)), (["docker", "--version"], FakeRunner.ok()),
            (["docker", "compose", "version"], FakeRunner.ok()),
        ])
        let status = try StackControl(spec: spec, runner: stopped, root: root, systemdProbe: root.path + "/run/systemd/system").perform(.status)
        #expect(status.steps.first?.status == 3)
    }

    @Test("a missing Docker or compose plugin is said plainly, and nothing is run")
    func dockerMissing() throws {
        let (root, spec) = try staged("nodocker")
        defer { try? FileManager.default.removeItem(at: root) }
        let none = FakeRunner.noDocker
        #expect(throws: OpsError.dockerMissing) {
            try StackControl(spec: spec, runner: none, root: root, systemdProbe: "/nonexistent").perform(.start)
        }
        #expect(none.commands == [["docker", "--version"]])
        #expect(OpsError.dockerMissing.description.hasPrefix("Docker is not installed: 'docker' was not found on PATH"))
        let noPlugin = FakeRunner([
            (["docker", "--version"], FakeRunner.ok()),
            (["docker", "compose", "version"], FakeRunner.fail(125, "docker: 'compose' is not a docker command.")),
        ])
        do {
            _ = try StackControl(spec: spec, runner: noPlugin, root: root, systemdProbe: "/nonexistent").perform(.status)
            Issue.record("ran without the compose plugin")
        } catch let error as OpsError {
            #expect(error.description.contains("compose plugin is missing"))
            #expect(error.description.contains("'compose' is not a docker command"))
        }
        #expect(noPlugin.commands == [["docker", "--version"], ["docker", "compose", "version"]], "nothing ran past the check")
    }

    @Test("start refuses an env file with placeholders or development secrets; stop does not care")
    func unsafeEnv() throws {
        let (root, spec) = try staged("unsafe")
        defer { try? FileManager.default.removeItem(at: root) }
        let envPath = root.path + "/etc/unison/platform.env"
        var text = try String(contentsOfFile: envPath, encoding: .utf8)
        text =
            text.split(separator: "\n").map { $0.hasPrefix("POSTGRES_PASSWORD=") ? "POSTGRES_PASSWORD=postgres" : String($0) }.joined(separator: "\n")
            + "\n"
        try Data(text.utf8).write(to: URL(fileURLWithPath: envPath))
        let runner = FakeRunner.withDocker
        let control = StackControl(spec: spec, runner: runner, root: root, systemdProbe: "/nonexistent")
        do {
            _ = try control.perform(.start)
            Issue.record("started with a development secret")
        } catch let error as OpsError {
            #expect(error.description.contains("POSTGRES_PASSWORD is a known development value"))
        }
        #expect(!runner.commands.contains { $0.contains("up") })
        #expect(try control.perform(.stop).steps.count == 1)
    }

    @Test("not installed, or an unknown service, is a clear error")
    func notInstalled() throws {
        let dir = try OpsFixture.tempDir("empty")
        defer { try? FileManager.default.removeItem(at: dir) }
        let spec = try OpsFixture.repoSpec()
        #expect(throws: OpsError.notInstalled(path: "/opt/unison-platform/compose.yaml")) {
            try StackControl(spec: spec, runner: FakeRunner.withDocker, root: dir, systemdProbe: "/nonexistent").perform(.status)
        }
        let (root, _) = try staged("unknown")
        defer { try? FileManager.default.removeItem(at: root) }
        #expect(throws: OpsError.self) {
            try StackControl(spec: spec, runner: FakeRunner.withDocker, root: root, systemdProbe: "/nonexistent")
                .perform(.logs(service: "nope", tail: nil, follow: false))
        }
    }

    /// The platform unit's start and stop go through `unison-compose`: with an update staged it
    /// must add the same override, in the same place, as `unisonctl start` does.
    @Test("a staged update applies through the systemd unit's compose script exactly as through start")
    func stagedUpdateThroughTheUnit() throws {
        let (root, spec) = try staged("unit-staged")
        defer { try? FileManager.default.removeItem(at: root) }
        let tools = try StandInTools()
        defer { tools.cleanup() }
        let layout = InstallLayout(spec: spec)
        let unit = try String(contentsOfFile: root.path + layout.unitPath, encoding: .utf8)
        func exec(_ key: String) throws -> [String] {
            let line = try #require(unit.split(separator: "\n").first { $0.hasPrefix(key + "=") })
            return line.dropFirst(key.count + 1).split(separator: " ").map(String.init)
        }
        let script = root.path + layout.composeScript
        let syntax = try SystemProcessRunner().run(["bash", "-n", script])
        #expect(syntax.status == 0, "\(syntax.stderrString)")

        // The compose call the unit's ExecStart/ExecStop makes, by the script itself.
        func unitCompose(_ key: String) throws -> [String] {
            tools.reset()
            let argv = try exec(key)
            #expect(argv.first == layout.composeScript)
            var env = tools.environment
            env["UNISON_ROOT"] = root.path
            let run = try SystemProcessRunner().run(
                ["sh", root.path + argv[0]] + argv.dropFirst(), environment: env, input: nil, workingDirectory: nil)
            #expect(run.status == 0, "\(run.stderrString)")
            return try #require(tools.calls().last { $0.count > 3 && $0[1] == "compose" && $0[2] == "-f" })
        }
        let control = StackControl(spec: spec, runner: FakeRunner.withDocker, root: root, systemdProbe: root.path + "/run/systemd/system")
        let override = root.path + layout.stagedOverride

        let store = root.appendingPathComponent("var/lib/unison/updates/artifacts")
        try FileManager.default.createDirectory(at: store, withIntermediateDirectories: true)
        try StagedUpdateFixture.artifact(services: ["auth": ["image": "ghcr.io/project-unisonos/unison-auth:v0.5.1", "action": "switch-image"]])
            .write(to: store.appendingPathComponent("job-0123456789ab-apply-override.json"))
        try StagedUpdate(spec: spec, root: root).stage(artifact: "job-0123456789ab-apply-override.json")
        let start = try #require(control.commands(for: .start, backend: .compose).first)
        #expect(start.contains(override))
        let prefix = Array(start.prefix(control.compose.count))
        #expect(prefix == control.compose)
        #expect(try unitCompose("ExecStart") == prefix + ["up", "--remove-orphans"])
        #expect(try unitCompose("ExecStop") == prefix + ["down"])

        // Cleared: neither adds it.
        #expect(try StagedUpdate(spec: spec, root: root).clear())
        #expect(!control.compose.contains(override))
        #expect(try unitCompose("ExecStart") == control.compose + ["up", "--remove-orphans"])
    }
}
