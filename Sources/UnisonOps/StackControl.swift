import FoundationEssentials
import UnisonCore
import UnisonInstall
import UnisonSpec

/// start, stop, restart, status, logs and recover for the installed stack: through systemd
/// when it is running (sd_booted(3): `/run/systemd/system` exists) and the unit is installed,
/// through `docker compose -f <prefix>/compose.yaml -p <project>` otherwise.
package struct StackControl: Sendable {
    package enum Backend: String, Sendable, Codable { case systemd, compose }

    package enum Action: Sendable, Equatable {
        case start, stop, restart, status, recover
        case logs(service: String?, tail: Int?, follow: Bool)
    }

    package var spec: PlatformSpec
    package var layout: InstallLayout
    package var runner: any ProcessRunner
    /// The installed system's root (`/`); tests point it at a staged root.
    package var root: URL
    package var systemdProbe: String

    package init(
        spec: PlatformSpec, runner: any ProcessRunner = SystemProcessRunner(), root: URL = URL(fileURLWithPath: "/"),
        systemdProbe: String = "/run/systemd/system"
    ) {
        self.spec = spec
        self.layout = InstallLayout(spec: spec)
        self.runner = runner
        self.root = root
        self.systemdProbe = systemdProbe
    }

    /// Where an installed path is on this machine (under `root`).
    package func hostPath(_ path: String) -> String { root.path == "/" ? path : root.path + path }

    package var systemdRunning: Bool {
        var isDir = false
        return FileManager.default.fileExists(atPath: systemdProbe, isDirectory: &isDir) && isDir
    }

    /// systemd when it runs and the unit is installed; compose otherwise.
    package var backend: Backend {
        systemdRunning && FileManager.default.fileExists(atPath: hostPath(layout.unitPath)) ? .systemd : .compose
    }

    /// The compose profiles the installed env file turns on (`COMPOSE_PROFILES`, which compose
    /// reads from `--env-file`; none when the key is absent); nil when the file cannot be read.
    /// Services of other profiles are not running: health, diag and telemetry skip them.
    package var activeProfiles: Set<String>? {
        guard let text = try? String(contentsOfFile: hostPath(layout.envFile), encoding: .utf8) else { return nil }
        let value = EnvFile.value(of: "COMPOSE_PROFILES", in: text) ?? ""
        return Set(value.split(separator: ",").map { $0.trimming(.whitespaces) }.filter { !$0.isEmpty })
    }

    /// `docker compose` with the installed project's file, name and env file, plus a staged
    /// update's override while one is staged (as unison-platform's unisonctl does, and as the
    /// unit's `unison-compose` does: `HostScripts.composeScript`).
    package var compose: [String] {
        let staged = hostPath(layout.stagedOverride)
        let override = FileManager.default.fileExists(atPath: staged) ? ["-f", staged] : []
        return ["docker", "compose", "-f", hostPath(layout.composeFile)] + override
            + ["-p", layout.composeProject, "--env-file", hostPath(layout.envFile)]
    }

    /// The commands an action runs, in order, for a backend.
    package func commands(for action: Action, backend: Backend) -> [[String]] {
        let unit = layout.unit
        switch (action, backend) {
        case (.start, .systemd): return [["systemctl", "start", unit]]
        case (.stop, .systemd): return [["systemctl", "stop", unit]]
        case (.restart, .systemd): return [["systemctl", "restart", unit]]
        case (.status, .systemd): return [["systemctl", "status", "--no-pager", "--lines=0", unit], compose + ["ps", "--all"]]
        case (.recover, .systemd):
            return [["systemctl", "reset-failed", unit], compose + ["down", "--remove-orphans"], ["systemctl", "restart", unit]]
        case (.start, .compose): return [compose + ["up", "--detach", "--remove-orphans"]]
        case (.stop, .compose): return [compose + ["down"]]
        case (.restart, .compose): return [compose + ["up", "--detach", "--remove-orphans", "--force-recreate"]]
        case (.status, .compose): return [compose + ["ps", "--all"]]
        case (.recover, .compose):
            return [compose + ["down", "--remove-orphans"], compose + ["up", "--detach", "--remove-orphans", "--force-recreate"]]
        case let (.logs(service, tail, follow), backend):
            if backend == .systemd, service == nil {
                return [["journalctl", "--unit", unit, "--no-pager", "--lines", String(tail ?? 200)] + (follow ? ["--follow"] : [])]
            }
            return [compose + ["logs", "--no-color", "--tail", String(tail ?? 200)] + (follow ? ["--follow"] : []) + (service.map { [$0] } ?? [])]
        }
    }

    /// Whether an action needs Docker on this backend (systemctl stop does not).
    func needsDocker(_ action: Action, _ backend: Backend) -> Bool {
        switch (action, backend) {
        case (.stop, .systemd), (.start, .systemd), (.restart, .systemd): return false
        case let (.logs(service, _, _), .systemd): return service != nil
        default: return true
        }
    }

    /// Checks before running: installed, Docker present where needed, env safe before a start.
    package func preflight(_ action: Action) throws -> Backend {
        let backend = self.backend
        guard FileManager.default.fileExists(atPath: hostPath(layout.composeFile)) else { throw OpsError.notInstalled(path: layout.composeFile) }
        if case let .logs(service?, _, _) = action, spec.service(named: service) == nil {
            throw OpsError.unknownService(service, known: spec.allServices.map(\.name))
        }
        if needsDocker(action, backend) || [.start, .restart, .recover].contains(action) {
            try requireDocker()
        }
        if [.start, .restart, .recover].contains(action) {
            let text = (try? String(contentsOfFile: hostPath(layout.envFile), encoding: .utf8)) ?? ""
            let problems =
                FileManager.default.fileExists(atPath: hostPath(layout.envFile))
                ? EnvFile.problems(in: text, secrets: spec.installer.secrets) : ["the file does not exist"]
            if !problems.isEmpty { throw OpsError.unsafeEnv(path: layout.envFile, problems: problems) }
        }
        return backend
    }

    /// Docker and its compose plugin, or the plain reason why not.
    package func requireDocker() throws {
        let version: ProcessResult
        do { version = try runner.run(["docker", "--version"]) } catch ProcessError.notFound { throw OpsError.dockerMissing }
        guard version.status == 0 else { throw OpsError.dockerMissing }
        let compose = try runner.run(["docker", "compose", "version"])
        guard compose.status == 0 else {
            throw OpsError.composePluginMissing(detail: compose.stderrString.trimming(.whitespacesAndNewlines))
        }
    }

    package struct Step: Sendable, Codable {
        package var command: [String]
        package var status: Int32
        package var stdout: String
        package var stderr: String
    }

    package struct Outcome: Sendable, Codable {
        package var schema = "unisonctl.stack/v1"
        package var backend: Backend
        package var note: String?
        package var steps: [Step]
    }

    /// Runs an action to completion and returns what each command printed. `status` reports a
    /// stopped stack without failing; the others stop at the first failing command.
    package func perform(_ action: Action) throws -> Outcome {
        let backend = try preflight(action)
        var outcome = Outcome(backend: backend, note: note(for: backend), steps: [])
        for command in commands(for: action, backend: backend) {
            let r = try runner.run(command)
            outcome.steps.append(Step(command: command, status: r.status, stdout: r.stdoutString, stderr: r.stderrString))
            // `systemctl status` exits 3 for an inactive unit: that is an answer, not a failure.
            if r.status != 0, !(action == .status) {
                throw OpsError.commandFailed(command: command.joined(separator: " "), status: r.status, stderr: r.stderrString)
            }
        }
        return outcome
    }

    package func note(for backend: Backend) -> String? {
        switch backend {
        case .systemd: return nil
        case .compose:
            return systemdRunning
                ? "\(layout.unit) is not installed: using docker compose directly"
                : "systemd is not running here (no \(systemdProbe)): using docker compose directly"
        }
    }
}
