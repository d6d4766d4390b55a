import ArgumentParser
import FoundationEssentials
import UnisonCore
import UnisonInstall
import UnisonOps
import UnisonSpec

struct FirstbootCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "firstboot", abstract: "First-boot checks: seed secrets, verify the preloaded models, check Ollama serves them.",
        discussion: """
            Seeds the env file's secrets (as the installer does), verifies every model the configured pack \
            (UNISON_MODEL_PACK in the env file, else the spec's default) preloads is present and intact in the \
            model store, offline, then waits for the Ollama API (/api/version, /api/tags) to list each of them \
            with the store's manifest digest. A pack that preloads nothing needs no Ollama. On success the state \
            file under installer.dataDir is written (later runs do nothing unless --force) and the spec's \
            qa.boot.marker is printed, also to /dev/console when there is one; otherwise a FAILED line gives the reason. \
            On the live system it first grows the root partition and its ext4 to the end of the disk (growpart, \
            resize2fs; never fatal) and prints `firstboot: root filesystem: <device> <bytes> bytes`; where the \
            machine runs its own stack it then waits for it (UNISONOS-STACK-OK or UNISONOS-STACK-FAILED) before \
            the state file is written.
            Exit status: 0 ok (or already done), 1 a check failed, 2 bad arguments.
            """)
    @Option(name: .long, help: ArgumentHelp("Run against an install staged in this directory.", valueName: "dir"))
    var root: String?
    @Option(name: .long, help: ArgumentHelp("The Ollama API (http://host[:port]).", valueName: "url"))
    var ollama: String = "http://127.0.0.1:11434"
    @Option(name: .long, help: ArgumentHelp("Seconds to wait for Ollama to answer and list the models.", valueName: "seconds"))
    var timeout: Double = 600
    @Option(name: .long, help: ArgumentHelp("Seconds between attempts while waiting.", valueName: "seconds"))
    var interval: Double = 2
    @Option(
        name: .customLong("stack-timeout"),
        help: ArgumentHelp(
            "Seconds to wait for every service of the stack to be healthy (machines that run it: docker and the compose bundle present).",
            valueName: "seconds"))
    var stackTimeout: Double = 600
    @Flag(name: .long, help: "Run again even if first boot already completed.")
    var force = false
    @Flag(
        name: .customLong("grow-root"),
        help:
            "Only grow the root partition and filesystem to the disk, once, before first boot (the platform unit runs it ahead of loading preloaded images)."
    )
    var growRoot = false
    @Option(
        name: .long,
        help: ArgumentHelp("Apply this answers file first (on a live system they are looked for as `answers apply` does).", valueName: "file"))
    var answers: String?
    @OptionGroup var specOptions: SpecOptions
    @OptionGroup var output: JSONOption

    func validate() throws {
        // ValidationError: what the parser turns into a usage error (exit 2).
        guard timeout > 0, timeout.isFinite else { throw ValidationError(FirstBootError.badTimeout(timeout).description) }
        guard interval > 0, interval.isFinite else { throw ValidationError("--interval must be a positive number of seconds") }
        do { _ = try OllamaEndpoint(parsing: ollama) } catch let error as FirstBootError { throw ValidationError(error.description) }
    }

    func run() async throws {
        let rootURL = URL(fileURLWithPath: root ?? "/")
        let spec = try InstalledSpec.require(specOptions, root: rootURL)
        let json = output.json
        let log: @Sendable (String) -> Void = { line in if !json { FileIO.standardError.write("firstboot: \(line)\n") } }
        // Answers first (user, hostname, sshd), once: a live boot looks for them, a staged root only takes --answers.
        let stampExists = FileManager.default.fileExists(
            atPath: rootURL.path == "/"
                ? InstallLayout(spec: spec).firstBootStamp
                : rootURL.path + InstallLayout(spec: spec).firstBootStamp)
        if !growRoot, answers != nil || rootURL.path == "/", force || !stampExists {
            let provision = try Provisioning.run(root: rootURL, file: answers, spec: spec, log: log)
            if rootURL.path == "/", !provision.applied, provision.source == nil { FirstBoot.announce(Provisioner.instructions) }
        }
        // Only a real boot (root /) grows its disk, runs its own stack and has a console worth writing to.
        let live = rootURL.path == "/"
        let announce: @Sendable (String) -> Void = { line in
            if !json { Output.line(line) }
            if live { FirstBoot.announce(line) }
        }
        let progress: @Sendable (String) -> Void = { line in
            if !json { FileIO.standardError.write("firstboot: \(Terminal.escapingControls(line))\n") }
        }
        var firstBoot = FirstBoot(
            spec: spec, root: rootURL, ollama: try OllamaEndpoint(parsing: ollama), timeout: timeout,
            interval: interval, force: force, log: progress)
        firstBoot.announce = announce
        firstBoot.rootGrow = live ? RootGrow() : nil
        if growRoot {
            let grown = firstBoot.growRootAhead()
            if json, let grown { try Output.json(grown) }
            return
        }
        let gate = StackGate(spec: spec, root: rootURL, timeout: stackTimeout, log: log)
        if live && gate.applies {
            firstBoot.stackGate = { gate.run() }
        }
        let report = firstBoot.run()
        if json {
            try Output.json(report)
        } else if report.alreadyDone {
            Output.line("first boot already completed (\(report.stateFile)); --force runs it again")
        }
        // A failure before the checks passed: its FAILED line (after them, the stack's line said it).
        if !report.ok, report.marker == nil {
            if !json { Output.line(report.finalLine(specMarker: spec.qa.boot.marker)) }
            if live { FirstBoot.announce(report.finalLine(specMarker: spec.qa.boot.marker)) }
        }
        if report.exitCode != 0 { throw ExitCode(report.exitCode) }
    }
}
