import ArgumentParser
import FoundationEssentials
import Glibc
import UnisonCore
import UnisonInstall
import UnisonOps
import UnisonSpec

/// `--root DIR`: the commands that operate an installed stack act on the install under DIR.
struct StackRootOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The installed system's root (default /); a staged install in this directory.", valueName: "dir"))
    var root: String?

    func control(_ specOptions: SpecOptions) throws -> StackControl { try Self.control(root: root, specOptions) }

    /// The stack under `root`: its spec (from --spec, else the copy the install left there)
    /// and, for a root other than /, systemd looked for under the root: this host's systemd
    /// does not run a staged install, docker compose does.
    static func control(root: String?, _ specOptions: SpecOptions) throws -> StackControl {
        let url = URL(fileURLWithPath: root ?? "/").standardizedFileURL
        let spec = try InstalledSpec.require(specOptions, root: url)
        guard url.path != "/" else { return StackControl(spec: spec) }
        return StackControl(spec: spec, root: url, systemdProbe: url.appendingPathComponent("run/systemd/system").path)
    }
}

/// Runs a stack action and prints what each command printed.
private func runStack(_ action: StackControl.Action, _ specOptions: SpecOptions, _ root: StackRootOption, json: Bool) throws {
    let control = try root.control(specOptions)
    let outcome = try control.perform(action)
    if json { try Output.json(outcome); return }
    if let note = outcome.note { FileIO.standardError.write("note: \(note)\n") }
    for step in outcome.steps {
        if !step.stdout.isEmpty { print(step.stdout, terminator: step.stdout.hasSuffix("\n") ? "" : "\n") }
        if !step.stderr.isEmpty { FileIO.standardError.write(step.stderr) }
    }
}

struct StartCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "start", abstract: "Start the platform stack.",
        discussion: "Through systemd when it runs, else docker compose. Refuses while the env file holds placeholder or development secrets.")
    @OptionGroup var rootOption: StackRootOption
    @OptionGroup var specOptions: SpecOptions
    @OptionGroup var output: JSONOption
    func run() async throws { try runStack(.start, specOptions, rootOption, json: output.json) }
}

struct StopCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stop", abstract: "Stop the platform stack.")
    @OptionGroup var rootOption: StackRootOption
    @OptionGroup var specOptions: SpecOptions
    @OptionGroup var output: JSONOption
    func run() async throws { try runStack(.stop, specOptions, rootOption, json: output.json) }
}

struct RestartCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "restart", abstract: "Restart the platform stack.")
    @OptionGroup var rootOption: StackRootOption
    @OptionGroup var specOptions: SpecOptions
    @OptionGroup var output: JSONOption
    func run() async throws { try runStack(.restart, specOptions, rootOption, json: output.json) }
}

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show the state of every service.")
    @OptionGroup var rootOption: StackRootOption
    @OptionGroup var specOptions: SpecOptions
    @OptionGroup var output: JSONOption
    func run() async throws { try runStack(.status, specOptions, rootOption, json: output.json) }
}

struct RecoverCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recover", abstract: "Bring a failed stack back to a known state.",
        discussion: "Clears a failed unit, removes the project's containers (volumes and data are kept) and starts it again.")
    @OptionGroup var rootOption: StackRootOption
    @OptionGroup var specOptions: SpecOptions
    @OptionGroup var output: JSONOption
    func run() async throws { try runStack(.recover, specOptions, rootOption, json: output.json) }
}

struct LogsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "logs", abstract: "Show service logs.")
    @Argument(help: "One service (default: the whole stack).")
    var service: String?
    @Option(name: .long, help: "Lines to show from the end.")
    var tail: Int = 200
    @Flag(name: [.short, .long], help: "Keep following new lines.")
    var follow = false
    @OptionGroup var rootOption: StackRootOption
    @OptionGroup var specOptions: SpecOptions

    func run() async throws {
        let action = StackControl.Action.logs(service: service, tail: tail, follow: follow)
        guard follow else { return try runStack(action, specOptions, rootOption, json: false) }
        let control = try rootOption.control(specOptions)
        let backend = try control.preflight(action)
        // Followed logs never end: they stream straight to the terminal instead of being captured.
        for command in control.commands(for: action, backend: backend) {
            guard let exe = SystemProcessRunner.which(command[0]) else { throw ProcessError.notFound(tool: command[0], hint: nil) }
            // The child shares our standard streams, as Foundation's Process did by default.
            let process = try ChildProcess(
                executable: exe.path, arguments: Array(command.dropFirst()),
                stdin: STDIN_FILENO, stdout: STDOUT_FILENO, stderr: STDERR_FILENO)
            let status = process.wait()
            if status != 0 { throw ExitCode(status) }
        }
    }
}

struct HealthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "health", abstract: "Poll every service's health endpoint.",
        discussion: "Exit status: 0 every service healthy, 1 some unhealthy, 2 cannot check.")
    @Flag(name: .long, help: "Keep polling until every service is healthy or --timeout passes.")
    var wait = false
    @Option(name: .long, help: "Seconds to wait with --wait.")
    var timeout: Double = 300
    @Option(name: .long, help: "Seconds each request may take.")
    var requestTimeout: Double = 5
    @Option(name: .long, help: "Seconds between polls with --wait.")
    var interval: Double = 2
    @OptionGroup var specOptions: SpecOptions
    @OptionGroup var output: JSONOption

    func validate() throws {
        guard timeout > 0, requestTimeout > 0, interval > 0 else {
            throw ValidationError("--timeout, --request-timeout and --interval must be positive")
        }
    }

    func run() async throws {
        let spec = try InstalledSpec.require(specOptions)
        let control = StackControl(spec: spec)
        let docker: (any ContainerHealthSource)? =
            (try? control.requireDocker()) == nil
            ? nil
            : ComposeHealthSource(composeFile: control.hostPath(control.layout.composeFile))
        // Only the services the env file's COMPOSE_PROFILES turn on are running.
        let checker = HealthChecker(
            spec: spec, requestTimeout: requestTimeout, containerHealth: docker,
            activeProfiles: control.activeProfiles)
        let report = wait ? checker.wait(timeout: timeout, interval: interval) : checker.checkOnce()
        if output.json {
            try Output.json(report)
        } else {
            for s in report.services {
                Output.line(
                    "\(s.state.rawValue.padded(to: 9)) \(s.name.padded(to: 20)) \(s.url ?? "-")  \(s.detail)"
                )
            }
            for s in report.skipped {
                Output.line(
                    "\("skipped".padded(to: 9)) \(s.name.padded(to: 20)) -  \(s.reason)"
                )
            }
            Output.line(
                report.healthy
                    ? "all \(report.services.count) services healthy"
                    : report.exitCode == 1 ? "some services are unhealthy" : "health could not be checked for every service")
        }
        if report.exitCode != 0 { throw ExitCode(report.exitCode) }
    }
}

struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor", abstract: "Check the host and the install, each finding with a fix.",
        discussion: "Exit status: 0 no errors (warnings allowed), 1 some error found.")
    @Option(name: .long, help: ArgumentHelp("Check an install staged in this directory.", valueName: "dir"))
    var root: String?
    @Option(name: .customLong("models"), help: ArgumentHelp("Model pack to size RAM and disk for.", valueName: "pack"))
    var models: String?
    @OptionGroup var specOptions: SpecOptions
    @OptionGroup var output: JSONOption

    func run() async throws {
        let control = try StackRootOption.control(root: root, specOptions)
        let report = Doctor(control: control, modelPack: models).run()
        if output.json {
            try Output.json(report)
        } else {
            for f in report.findings {
                let mark = f.level == .ok ? "ok     " : f.level == .warning ? "warning" : "error  "
                Output.line("\(mark) \(f.check): \(f.message)")
                if let fix = f.fix, f.level != .ok { Output.line("        fix: \(fix)") }
            }
            Output.line("\(report.errors) errors, \(report.warnings) warnings (model pack \(report.modelPack))")
        }
        if report.errors > 0 { throw ExitCode(ExitStatus.checkFailed.rawValue) }
    }
}

/// `follow [service]`: the logs, followed (unison-platform's unisonctl has it).
struct FollowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "follow", abstract: "Follow service logs (logs --follow).")
    @Argument(help: "One service (default: the whole stack).")
    var service: String?
    @OptionGroup var rootOption: StackRootOption
    @OptionGroup var specOptions: SpecOptions

    func run() async throws {
        var logs = try LogsCommand.parse(
            ["--follow"] + (rootOption.root.map { ["--root", $0] } ?? [])
                + (specOptions.spec.map { ["--spec", $0] } ?? []) + (service.map { ["--", $0] } ?? []))
        try await logs.run()
    }
}
