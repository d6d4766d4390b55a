import Foundation
import Testing
import UnisonCore
import UnisonSpec
import UnisonTestSupport

@testable import UnisonInstall

/// Records commands and answers from a script of prefixes (nil: tool not found).
final class ScriptedRunner: ProcessRunner, @unchecked Sendable {
    private let lock = NSLock()
    private var calls: [[String]] = []
    var answer: @Sendable ([String], Int) -> ProcessResult?

    init(_ answer: @escaping @Sendable ([String], Int) -> ProcessResult?) { self.answer = answer }
    var commands: [[String]] { lock.lock(); defer { lock.unlock() }; return calls }

    func run(_ arguments: [String], environment: [String: String]?, input: Data?, workingDirectory: URL?) throws -> ProcessResult {
        lock.lock(); calls.append(arguments); let n = calls.count; lock.unlock()
        guard let r = answer(arguments, n) else { throw ProcessError.notFound(tool: arguments[0], hint: nil) }
        return r
    }

    static let ok = ProcessResult(status: 0, stdout: Data(), stderr: Data())
    static func fail(_ s: Int32) -> ProcessResult { ProcessResult(status: s, stdout: Data(), stderr: Data("no".utf8)) }
}

@Suite("Host actions", .tags(.unit))
struct HostInstallerTests {
    @Test("docker mode requires Docker and the compose plugin, and says which is missing")
    func dockerModeRequires() throws {
        let runner = ScriptedRunner { args, _ in args.starts(with: ["docker", "compose"]) ? ScriptedRunner.fail(125) : ScriptedRunner.ok }
        do {
            _ = try HostInstaller(runner: runner).ensureDocker(mode: .docker)
            Issue.record("accepted a host without the compose plugin")
        } catch let error as InstallError {
            #expect(error.description.hasPrefix("the Docker compose plugin ('docker compose' does not run) is missing"))
        }
        #expect(!runner.commands.contains { $0.first == "apt-get" })
    }

    @Test("native mode installs what is missing with apt-get, then checks again")
    func nativeInstallsPackages() throws {
        // docker appears once docker.io is installed; compose once a plugin package is.
        final class State: @unchecked Sendable { var docker = false; var compose = false }
        let state = State()
        let runner = ScriptedRunner { args, _ in
            switch args {
            case ["docker", "--version"]: return state.docker ? ScriptedRunner.ok : nil
            case ["docker", "compose", "version"]: return state.compose ? ScriptedRunner.ok : ScriptedRunner.fail(125)
            case ["apt-get", "install", "-y", "docker.io"]: state.docker = true; return ScriptedRunner.ok
            case ["apt-get", "install", "-y", "docker-compose-plugin"]: return ScriptedRunner.fail(100)
            case ["apt-get", "install", "-y", "docker-compose-v2"]: state.compose = true; return ScriptedRunner.ok
            default: return ScriptedRunner.ok
            }
        }
        let actions = try HostInstaller(runner: runner).ensureDocker(mode: .native)
        #expect(
            actions == [
                "apt-get update", "apt-get install -y docker.io", "apt-get install -y docker-compose-plugin (failed)",
                "apt-get install -y docker-compose-v2",
            ])
    }

    @Test("after the files: daemon-reload, enable, then start only with a safe env file")
    func activate() throws {
        let dir = try Fixture.tempDir("activate")
        defer { try? FileManager.default.removeItem(at: dir) }
        let probe = dir.appendingPathComponent("run/systemd/system")
        try FileManager.default.createDirectory(at: probe, withIntermediateDirectories: true)
        let root = dir.appendingPathComponent("root")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let plan = try InstallPlan.make(spec: try Fixture.spec(), options: InstallOptions(mode: .native))
        var host = try HostRoot(root)
        _ = try plan.apply(to: &host)

        let runner = ScriptedRunner { _, _ in ScriptedRunner.ok }
        let installer = HostInstaller(runner: runner, systemdProbe: probe.path)
        _ = try installer.activate(plan: plan, root: host, changed: true, start: true)
        #expect(
            runner.commands == [
                ["systemctl", "daemon-reload"], ["systemctl", "enable", "unison-platform.service", "unison-firstboot.service"],
                ["systemctl", "restart", "unison-platform.service"],
            ])

        // Without systemd, the stack is started by docker compose with the env file.
        let plain = ScriptedRunner { _, _ in ScriptedRunner.ok }
        _ = try HostInstaller(runner: plain, systemdProbe: dir.appendingPathComponent("nope").path)
            .activate(plan: plan, root: host, changed: false, start: true)
        #expect(
            plain.commands == [
                [
                    "docker", "compose", "-f", "/opt/unison-platform/compose.yaml", "-p", "unison",
                    "--env-file", "/etc/unison/platform.env", "up", "-d", "--remove-orphans",
                ]
            ])

        // A development secret in the env file: nothing is started.
        let envPath = root.path + "/etc/unison/platform.env"
        let text = try String(contentsOfFile: envPath, encoding: .utf8)
            .replacingOccurrences(of: #"POSTGRES_PASSWORD=[0-9a-f]+"#, with: "POSTGRES_PASSWORD=postgres", options: .regularExpression)
        try Data(text.utf8).write(to: URL(fileURLWithPath: envPath))
        let guarded = ScriptedRunner { _, _ in ScriptedRunner.ok }
        #expect(throws: InstallError.unsafeEnv(path: "/etc/unison/platform.env", problems: ["POSTGRES_PASSWORD is a known development value"])) {
            try HostInstaller(runner: guarded, systemdProbe: probe.path).activate(plan: plan, root: host, changed: false, start: true)
        }
        #expect(!guarded.commands.contains { $0.contains("start") || $0.contains("restart") })
    }

    @Test("a staging root never runs host actions")
    func stagingSkipsHost() throws {
        let root = try Fixture.tempDir("staging")
        defer { try? FileManager.default.removeItem(at: root) }
        let runner = ScriptedRunner { _, _ in ScriptedRunner.ok }
        let outcome = try HostInstaller(runner: runner).install(
            spec: try Fixture.spec(), options: InstallOptions(mode: .native),
            root: root, dryRun: false, start: true)
        #expect(runner.commands.isEmpty)
        #expect(outcome.hostActions.first?.hasPrefix("skipped for a staging root") == true)
        #expect(outcome.report?.changedFiles == true)
    }
}
