import FoundationEssentials
import UnisonCore
import UnisonSpec

/// A host install or uninstall from start to end: the plan, the packages it needs, the files,
/// then systemd and the stack. With a staging root (`--root DIR`) only the files are written:
/// packages and services belong to the machine that will boot that root.
package struct HostInstaller: Sendable {
    package var runner: any ProcessRunner
    /// Where systemd, when it is PID 1, keeps its runtime state (sd_booted(3)).
    package var systemdProbe: String

    package init(runner: any ProcessRunner = SystemProcessRunner(), systemdProbe: String = "/run/systemd/system") {
        self.runner = runner
        self.systemdProbe = systemdProbe
    }

    package var systemdRunning: Bool {
        var isDir = false
        return FileManager.default.fileExists(atPath: systemdProbe, isDirectory: &isDir) && isDir
    }

    package struct Outcome: Sendable, Codable {
        package var schema = "unisonctl.install/v1"
        package var dryRun: Bool
        package var plan: InstallPlan.Rendering
        package var report: InstallReport?
        /// Host actions done, or planned on a dry run, or skipped with the reason.
        package var hostActions: [String]
    }

    /// Installs into `root` (`/` for this machine). `start` starts (or restarts) the stack when
    /// the env file is safe.
    package func install(spec: PlatformSpec, options: InstallOptions, root: URL, dryRun: Bool, start: Bool) throws -> Outcome {
        let plan = try InstallPlan.make(spec: spec, options: options)
        var hostRoot = try HostRoot(root)
        let onHost = hostRoot.isSystemRoot && options.mode != .image
        var actions: [String] = []
        if !onHost {
            actions.append("skipped for a staging root (\(hostRoot.label)): package checks, systemctl, starting the stack")
        }
        if dryRun {
            if onHost {
                actions.append(
                    options.mode == .docker
                        ? "require docker and the compose plugin"
                        : "install docker.io and the compose plugin with apt-get if missing")
                actions.append(
                    systemdRunning
                        ? "systemctl daemon-reload; systemctl enable \(plan.layout.unit) \(plan.layout.firstBootUnit)"
                        : "systemd is not running: the stack is run with docker compose directly")
                if start { actions.append("start \(plan.layout.unit) once the env file is safe") }
            }
            return Outcome(dryRun: true, plan: plan.rendering, report: nil, hostActions: actions)
        }
        if onHost { actions += try ensureDocker(mode: options.mode) }
        var report = try plan.apply(to: &hostRoot)
        if onHost {
            actions += try activate(plan: plan, root: hostRoot, changed: report.changedFiles, start: start)
        }
        report.hostActions = actions
        return Outcome(dryRun: false, plan: plan.rendering, report: report, hostActions: actions)
    }

    /// Removes an install recorded in `root`; on this machine the unit is stopped and disabled first.
    package func uninstall(spec: PlatformSpec?, root: URL, purge: Bool, dryRun: Bool) throws -> InstallReport {
        var hostRoot = try HostRoot(root)
        let layout = spec.map(InstallLayout.init) ?? InstallLayout.defaults
        var actions: [String] = []
        if hostRoot.isSystemRoot, !dryRun, systemdRunning {
            for args in [["systemctl", "disable", "--now", layout.unit], ["systemctl", "disable", layout.firstBootUnit]] {
                let r = try? runner.run(args)
                actions.append(
                    args.joined(separator: " ")
                        + (r?.status == 0 ? "" : " (failed: \(r?.stderrString.trimming(.whitespacesAndNewlines) ?? "not run"))"))
            }
        }
        var report = try Uninstaller.uninstall(root: &hostRoot, manifestPath: layout.manifest, purge: purge, dryRun: dryRun)
        if hostRoot.isSystemRoot, !dryRun, systemdRunning {
            _ = try? runner.run(["systemctl", "daemon-reload"])
            actions.append("systemctl daemon-reload")
        }
        report.hostActions = actions
        return report
    }

    /// Whether `docker` and `docker compose` answer.
    package func dockerStatus() -> (docker: Bool, compose: Bool) {
        let docker = (try? runner.run(["docker", "--version"]))?.status == 0
        let compose = docker && (try? runner.run(["docker", "compose", "version"]))?.status == 0
        return (docker, compose)
    }

    /// native/wsl: installs what is missing with apt; docker: requires both.
    func ensureDocker(mode: InstallMode) throws -> [String] {
        var status = dockerStatus()
        if status.docker && status.compose { return ["docker and the compose plugin are present"] }
        let missing = !status.docker ? "Docker Engine ('docker' not found on PATH)" : "the Docker compose plugin ('docker compose' does not run)"
        guard mode != .docker else {
            throw InstallError.missingDependency(
                what: missing,
                fix:
                    "`install docker` needs an existing Docker host; install Docker Engine and the compose plugin (https://docs.docker.com/engine/install/), or use `unisonctl install native`"
            )
        }
        guard SystemProcessRunner.which("apt-get") != nil || !(runner is SystemProcessRunner) else {
            throw InstallError.missingDependency(
                what: missing,
                fix: "this host has no apt-get; install Docker Engine and the compose plugin with its package manager, then run the install again")
        }
        var actions: [String] = []
        func apt(_ args: [String]) -> Bool {
            let r = try? runner.run(["apt-get"] + args, environment: ["DEBIAN_FRONTEND": "noninteractive"])
            actions.append("apt-get " + args.joined(separator: " ") + (r?.status == 0 ? "" : " (failed)"))
            return r?.status == 0
        }
        _ = apt(["update"])
        if !status.docker { _ = apt(["install", "-y", "docker.io"]) }
        status = dockerStatus()
        if status.docker && !status.compose {
            // Docker's own repository calls it docker-compose-plugin; Debian/Ubuntu archives docker-compose-v2 or docker-compose.
            for package in ["docker-compose-plugin", "docker-compose-v2", "docker-compose"] {
                if apt(["install", "-y", package]), dockerStatus().compose { break }
            }
            status = dockerStatus()
        }
        guard status.docker && status.compose else {
            let still =
                !status.docker
                ? "Docker Engine (apt-get install docker.io failed)" : "the Docker compose plugin (no apt package provided 'docker compose')"
            throw InstallError.missingDependency(
                what: still,
                fix:
                    "install it by hand (https://docs.docker.com/engine/install/) and run the install again; steps tried: \(actions.joined(separator: "; "))"
            )
        }
        return actions
    }

    /// Reloads systemd and starts the stack (or says why it did not).
    func activate(plan: InstallPlan, root: HostRoot, changed: Bool, start: Bool) throws -> [String] {
        var actions: [String] = []
        let layout = plan.layout
        func run(_ args: [String]) throws {
            let r = try runner.run(args)
            guard r.status == 0 else {
                throw InstallError.hostActionFailed(
                    command: args.joined(separator: " "), reason: r.stderrString.trimming(.whitespacesAndNewlines))
            }
            actions.append(args.joined(separator: " "))
        }
        if systemdRunning {
            try run(["systemctl", "daemon-reload"])
            try run(["systemctl", "enable", layout.unit, layout.firstBootUnit])
        } else {
            actions.append("systemd is not running: units installed but not enabled by systemctl; the stack runs with docker compose")
        }
        guard start else {
            actions.append("not started (--no-start)")
            return actions
        }
        let env = String(decoding: try root.contents(of: layout.envFile), as: UTF8.self)
        let problems = EnvFile.problems(in: env, secrets: plan.secretsList)
        guard problems.isEmpty else { throw InstallError.unsafeEnv(path: layout.envFile, problems: problems) }
        if systemdRunning {
            try run(["systemctl", changed ? "restart" : "start", layout.unit])
        } else {
            try run([
                "docker", "compose", "-f", layout.composeFile, "-p", layout.composeProject, "--env-file", layout.envFile, "up", "-d",
                "--remove-orphans",
            ])
        }
        return actions
    }
}

extension InstallPlan {
    /// The secrets the plan's env file holds.
    var secretsList: [Secret] {
        for op in operations { if case let .generateSecrets(_, _, secrets, _, _) = op { return secrets } }
        return []
    }
}

extension InstallLayout {
    /// The spec's defaults, for uninstalling when no spec can be found.
    package static var defaults: InstallLayout {
        InstallLayout(
            prefix: "/opt/unison-platform", envFile: "/etc/unison/platform.env", dataDir: "/var/lib/unison",
            unit: "unison-platform.service", firstBootUnit: "unison-firstboot.service", composeProject: "unison")
    }

    package init(prefix: String, envFile: String, dataDir: String, unit: String, firstBootUnit: String, composeProject: String) {
        self.prefix = prefix
        self.envFile = envFile
        self.dataDir = dataDir
        self.unit = unit
        self.firstBootUnit = firstBootUnit
        self.composeProject = composeProject
    }
}
