import ArgumentParser
import FoundationEssentials
import UnisonCore
import UnisonQA
import UnisonSpec

struct QACommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "qa",
        abstract: "Quality checks: smoke, e2e, boot and install.",
        subcommands: [QASmoke.self, QAE2E.self, QABoot.self, QAInstall.self]
    )
}

struct QABoot: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "boot",
        abstract: "Boot a disk image in QEMU and wait for the first-boot marker on the serial console.",
        discussion: """
            QEMU runs headless with TCG (KVM only when a probe VM actually runs on it), OVMF for \
            UEFI, and -snapshot, so the image is never modified. The marker and timeout default to \
            the spec's qa.boot. Exit status: 0 the marker appeared, 1 it did not (timeout or QEMU \
            stopped; the console's last lines are printed), 2 bad input. QEMU is always stopped. \
            With --junit FILE the result is also written as a JUnit XML report (one test case).

            --forward [127.0.0.1:]HOSTPORT:GUESTPORT (repeatable) gives the guest a user-mode \
            network with restrict=on (the guest reaches nothing on the host or beyond) and makes \
            its TCP port GUESTPORT reachable on the host's 127.0.0.1:HOSTPORT only; a host port \
            in use is refused before QEMU starts. The guest must bring its network up (answers \
            network: dhcp).

            --smoke runs the spec's qa.smoke checks against the booted guest once the marker \
            appears, then stops QEMU. The stack publishes its ports on the guest's own \
            127.0.0.1, so the checks go through SSH tunnels: the guest's port 22 is forwarded \
            to a free host port and --ssh-user logs in with --ssh-key (an answers file in the \
            image gives both). Results are printed as by qa smoke (in --json under "smoke"); \
            --smoke-junit FILE writes its JUnit report. Exit status 1 when a check fails.
            """
    )

    @OptionGroup var specOptions: SpecOptions
    @OptionGroup var jsonOption: JSONOption

    @Argument(help: ArgumentHelp("Disk image (.qcow2, .vmdk, .raw).", valueName: "file"))
    var file: String

    @Option(help: ArgumentHelp("Firmware: uefi or bios (default: targets.vm.firmware, else uefi).", valueName: "uefi|bios"))
    var firmware: BootFirmware?

    @Option(help: ArgumentHelp("Seconds to wait for the marker (default: qa.boot.timeout).", valueName: "seconds"))
    var timeout: Int?

    @Option(help: ArgumentHelp("Text to wait for (default: qa.boot.marker).", valueName: "text"))
    var marker: String?

    @Option(help: ArgumentHelp("Guest memory in MiB.", valueName: "MiB"))
    var memory: Int = 1024

    @Option(help: ArgumentHelp("Guest CPUs.", valueName: "n"))
    var cpus: Int = 2

    @Option(help: ArgumentHelp("Accelerator: auto (KVM only if a probe works), tcg or kvm.", valueName: "auto|tcg|kvm"))
    var accel: BootAccelerator = .auto

    @Option(name: .customLong("serial-log"), help: ArgumentHelp("Keep the whole serial console in this file.", valueName: "file"))
    var serialLog: String?

    @Option(
        name: .customLong("firmware-file"), help: ArgumentHelp("Firmware image to pass to -bios instead of the installed one.", valueName: "file"))
    var firmwareFile: String?

    @Option(help: ArgumentHelp("Also write the result as a JUnit XML report to this file.", valueName: "file"))
    var junit: String?

    @Option(
        name: .customLong("forward"),
        help: ArgumentHelp("Make guest TCP port GUESTPORT reachable on 127.0.0.1:HOSTPORT (repeatable).", valueName: "[127.0.0.1:]HOSTPORT:GUESTPORT")
    )
    var forward: [String] = []

    @Flag(help: "After the marker, run the spec's qa.smoke checks against the guest (through SSH), then stop it.")
    var smoke = false

    @Option(name: .customLong("ssh-user"), help: ArgumentHelp("With --smoke: the guest user to log in as.", valueName: "name"))
    var sshUser: String?

    @Option(name: .customLong("ssh-key"), help: ArgumentHelp("With --smoke: the private key that user accepts.", valueName: "file"))
    var sshKey: String?

    @Option(name: .customLong("smoke-junit"), help: ArgumentHelp("With --smoke: write the smoke results as a JUnit XML report.", valueName: "file"))
    var smokeJUnit: String?

    func validate() throws {
        for text in forward {
            do { _ = try PortForward.parse(text) } catch let error as QAError { throw ValidationError(error.description) }
        }
        if smoke {
            guard let sshUser, let sshKey else {
                throw ValidationError("--smoke needs --ssh-user and --ssh-key (the guest's services are reached over SSH)")
            }
            guard GuestSmokeOptions.validUser(sshUser) else { throw ValidationError("--ssh-user '\(sshUser)' is not a login name") }
            guard FileManager.default.isReadableFile(atPath: sshKey) else { throw ValidationError("--ssh-key '\(sshKey)' cannot be read") }
        } else if sshUser != nil || sshKey != nil || smokeJUnit != nil {
            throw ValidationError("--ssh-user, --ssh-key and --smoke-junit go with --smoke")
        }
        if let timeout, timeout <= 0 { throw ValidationError("--timeout must be a positive number of seconds") }
        guard memory >= 64 else { throw ValidationError("--memory must be at least 64 (MiB)") }
        guard (1...64).contains(cpus) else { throw ValidationError("--cpus must be between 1 and 64") }
        if let marker, marker.isEmpty { throw ValidationError("--marker must not be empty") }
    }

    func run() async throws {
        // The spec supplies defaults only: with --marker and --timeout none is needed.
        var spec: PlatformSpec?
        if smoke { spec = try specOptions.load() }
        if spec == nil, marker == nil || timeout == nil || firmware == nil {
            do { spec = try specOptions.load() } catch { if marker == nil || timeout == nil { throw error } }
        }
        let chosenFirmware = firmware ?? spec?.targets.vm.flatMap { BootFirmware(rawValue: $0.firmware) } ?? .uefi
        var options = BootOptions(
            image: URL(fileURLWithPath: file).standardizedFileURL, firmware: chosenFirmware,
            timeout: TimeInterval(timeout ?? spec!.qa.boot.timeout), marker: marker ?? spec!.qa.boot.marker,
            memoryMiB: memory, cpus: cpus, accelerator: accel,
            serialLog: serialLog.map { URL(fileURLWithPath: $0).standardizedFileURL },
            firmwareFile: firmwareFile.map { URL(fileURLWithPath: $0).standardizedFileURL })
        options.forwards = try forward.map(PortForward.parse)
        let junitURL = junit.map { URL(fileURLWithPath: $0).standardizedFileURL }
        if let junitURL { try JUnitReport.checkWritable(junitURL) }
        var afterMarker: (@Sendable () async throws -> QARunReport)?
        if smoke, let spec, let sshUser, let sshKey {
            let smokeJUnitURL = smokeJUnit.map { URL(fileURLWithPath: $0).standardizedFileURL }
            if let smokeJUnitURL { try JUnitReport.checkWritable(smokeJUnitURL) }
            _ = try GuestSmoke.guestPorts(spec: spec)  // a spec without qa.smoke fails before QEMU starts
            let sshPort = try LoopbackPort.pick()
            options.forwards.append(PortForward(hostPort: sshPort, guestPort: 22))
            let smokeOptions = GuestSmokeOptions(
                sshKey: URL(fileURLWithPath: sshKey).standardizedFileURL, sshUser: sshUser, sshPort: sshPort, junit: smokeJUnitURL)
            afterMarker = { try await GuestSmoke.run(spec: spec, options: smokeOptions, status: QAStatus.line) }
        }
        let result = try await BootCheck.run(options, status: QAStatus.line, afterMarker: afterMarker)
        if let junitURL { try JUnitReport(boot: result).write(to: junitURL) }
        if jsonOption.json {
            try Output.json(result)
        } else if result.markerSeen {
            Output.line(
                "boot ok: '\(result.marker)' seen after \(NumberText.fixed(result.seconds, digits: 1)) s (\(result.format), \(result.firmware.rawValue), \(result.accelerator))"
            )
            result.smoke?.summaryLines.forEach(Output.line)
        }
        guard result.markerSeen else {
            let reason =
                result.reason
                + (result.qemuStderr.isEmpty ? "" : "; qemu said: \(result.qemuStderr.split(separator: "\n").suffix(3).joined(separator: " "))")
            throw QAError.markerNotSeen(marker: result.marker, reason: reason, consoleTail: result.consoleTail)
        }
        if let report = result.smoke, report.exitCode != 0 { throw ExitCode(report.exitCode) }
    }
}

/// Options `qa smoke` and `qa e2e` share.
struct QARunArguments: ParsableArguments {
    @Option(name: .customLong("only"), help: ArgumentHelp("Run only this check (repeatable); the spec's order is kept.", valueName: "name"))
    var only: [String] = []

    @Option(help: ArgumentHelp("Also write a JUnit XML report to this file.", valueName: "file"))
    var junit: String?

    @Option(help: ArgumentHelp("Seconds the whole run may take, retries included (default: smoke 120, e2e 300).", valueName: "seconds"))
    var timeout: Double?

    @Option(
        name: .customLong("request-timeout"), help: ArgumentHelp("Seconds one request may take (default: smoke 10, e2e 30).", valueName: "seconds"))
    var requestTimeout: Double?

    @Option(
        name: .customLong("base-url"),
        help: ArgumentHelp("Reach SERVICE at this http:// URL instead of its spec port (repeatable).", valueName: "service=url"))
    var baseURL: [String] = []

    @Option(help: ArgumentHelp("Host for services without --base-url (default: 127.0.0.1).", valueName: "host"))
    var host: String?

    func validate() throws {
        if let timeout, !(timeout > 0) { throw ValidationError("--timeout must be a positive number of seconds") }
        if let requestTimeout, !(requestTimeout > 0) { throw ValidationError("--request-timeout must be a positive number of seconds") }
        if only.contains(where: \.isEmpty) { throw ValidationError("--only needs a check name") }
    }

    func options(for suite: QASuite) -> QARunOptions {
        var options = QARunOptions.defaults(for: suite)
        if let timeout { options.deadline = timeout }
        if let requestTimeout { options.requestTimeout = requestTimeout }
        return options
    }

    /// Runs the suite from the spec, prints the summary or JSON, exits 1 when a check failed.
    func run(_ suite: QASuite, spec: SpecOptions, json: Bool, adjust: (inout QARunOptions) -> Void = { _ in }) throws {
        var options = options(for: suite)
        adjust(&options)
        let report = try HTTPCheckRunner.run(
            spec: try spec.load(), suite: suite, only: only, host: host, baseURLs: baseURL, options: options,
            junit: junit.map { URL(fileURLWithPath: $0).standardizedFileURL }, status: QAStatus.line)
        if json {
            try Output.json(report)
        } else {
            report.summaryLines.forEach(Output.line)
        }
        if report.exitCode != 0 { throw ExitCode(report.exitCode) }
    }
}

struct QASmoke: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "smoke",
        abstract: "Check that the platform's services answer: the spec's qa.smoke HTTP checks.",
        discussion: """
            Each check in qa.smoke sends one HTTP request (method, path, optional body; a JSON body \
            goes with Content-Type: application/json) to its service and expects a status code (and, where the check says so, expectBody text in the body or an expectJSON key in it; timeout caps its requests). \
            Services are reached on 127.0.0.1 (or --host) at their spec port; a check of the \
            service's health path uses its healthPort when the spec declares one. --base-url \
            SERVICE=http://host:port[/prefix] sends a service's checks elsewhere.

            All checks run at once. While a service looks like it is still starting (connection \
            refused, no answer, 429 or a 5xx) its check is retried with backoff (0.25 s doubling \
            up to 2 s) until --timeout; any other wrong answer fails at once.

            Exit status: 0 every check passed, 1 some check failed, 2 bad input (unknown service \
            or check, malformed --base-url). --junit FILE writes a JUnit XML report (failures for \
            wrong answers, errors for no answer) that CI systems display; --json prints the \
            results (schema unisonctl.qa-run/v1).
            """
    )

    @OptionGroup var specOptions: SpecOptions
    @OptionGroup var jsonOption: JSONOption
    @OptionGroup var arguments: QARunArguments

    func run() async throws {
        try arguments.run(.smoke, spec: specOptions, json: jsonOption.json)
    }
}

struct QAE2E: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "e2e",
        abstract: "Run the spec's qa.e2e scenario: ordered HTTP steps against running services.",
        discussion: """
            The steps of qa.e2e run one after the other in the spec's order, each once, with the \
            same request and endpoint rules as qa smoke (method, path, JSON body, expected status; \
            --base-url and --host to reach the services elsewhere). Run qa smoke first to wait for \
            the services. A step that fails makes the later ones skipped, since they build on it; \
            --keep-going runs them anyway. Steps not started before --timeout are skipped.

            Exit status: 0 every step passed, 1 some step failed or was skipped, 2 bad input. \
            --junit FILE writes a JUnit XML report; --json prints the results (schema \
            unisonctl.qa-run/v1).
            """
    )

    @OptionGroup var specOptions: SpecOptions
    @OptionGroup var jsonOption: JSONOption
    @OptionGroup var arguments: QARunArguments

    @Flag(name: .customLong("keep-going"), help: "Run the remaining steps after one fails.")
    var keepGoing = false

    func run() async throws {
        let keepGoing = keepGoing
        try arguments.run(.e2e, spec: specOptions, json: jsonOption.json) { $0.stopAtFirstFailure = !keepGoing }
    }
}

extension BootFirmware: ExpressibleByArgument {}
extension BootAccelerator: ExpressibleByArgument {}

/// Status lines on stderr, silent with UNISONCTL_QUIET.
enum QAStatus {
    static let line: @Sendable (String) -> Void = { text in
        if ProcessInfo.processInfo.environment["UNISONCTL_QUIET"] == nil {
            FileIO.standardError.write("qa: \(Terminal.escapingControls(text))\n")
        }
    }
}
