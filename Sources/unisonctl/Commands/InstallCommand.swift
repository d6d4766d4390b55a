import ArgumentParser
import FoundationEssentials
import UnisonCore
import UnisonInstall
import UnisonSpec

/// Flags shared by `install native|docker|wsl`.
struct InstallArguments: ParsableArguments {
    @Option(
        name: .long, help: ArgumentHelp("Install into this directory as if it were / (no packages, no systemctl, nothing started).", valueName: "dir")
    )
    var root: String?

    @Flag(name: .long, help: "Print the plan and the host actions; change nothing.")
    var dryRun = false

    @Option(
        name: .long, help: ArgumentHelp("Platform version to pin images to (default: the release manifest's, else the spec's).", valueName: "version")
    )
    var version: String?

    @Option(name: .long, help: ArgumentHelp("Release channel (nightly, beta, stable).", valueName: "channel"))
    var channel: String?

    @Option(name: .customLong("models"), help: ArgumentHelp("Model pack from the spec.", valueName: "pack"))
    var models: String?

    @Option(name: .long, help: ArgumentHelp("Release manifest (unisonos-manifest-<v>.json): pin images by digest.", valueName: "file"))
    var releaseManifest: String?

    @Option(name: .long, help: ArgumentHelp("unisonctl binary to install in /usr/local/bin (default: this one).", valueName: "path"))
    var unisonctlBinary: String?

    @Flag(name: .long, help: "Do not install a unisonctl binary.")
    var noBinary = false

    @Flag(name: .long, help: "Do not start the stack after installing.")
    var noStart = false

    @Flag(name: .long, help: "Leave secrets for the first-boot unit to generate (roots that become images).")
    var deferSecrets = false

    @OptionGroup var specOptions: SpecOptions
    @OptionGroup var output: JSONOption

    func validate() throws {
        if noBinary, unisonctlBinary != nil { throw ValidationError("--no-binary and --unisonctl-binary exclude each other") }
    }

    /// Checked in `run`, not `validate`: ArgumentParser answers any parse-time error on a command
    /// line containing `--version` by printing its own version instead of the error.
    func parsedVersion() throws -> SemVer? {
        guard let version else { return nil }
        guard let v = SemVer(version) else { throw ValidationError("--version '\(version)' is not a SemVer version (e.g. 1.2.3 or v1.2.3)") }
        return v
    }

    /// The running executable (Linux: /proc/self/exe), for the default `--unisonctl-binary`.
    static var runningExecutable: URL {
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return URL(fileURLWithPath: path) }
        let arg0 = CommandLine.arguments[0]
        return SystemProcessRunner.which(arg0) ?? URL(fileURLWithPath: arg0)
    }

    func run(mode: InstallMode) throws {
        let (url, spec) = try specOptions.loadWithURL()
        let specText = try? String(contentsOf: url, encoding: .utf8)
        let binary = noBinary ? nil : unisonctlBinary.map { URL(fileURLWithPath: $0) } ?? Self.runningExecutable
        let options = InstallOptions(
            mode: mode, version: try parsedVersion(), channel: channel, modelPack: models,
            releaseManifest: releaseManifest.map { URL(fileURLWithPath: $0) }, unisonctlBinary: binary,
            specText: specText, secrets: deferSecrets ? .atFirstBoot : .atInstall)
        let outcome = try HostInstaller().install(
            spec: spec, options: options, root: URL(fileURLWithPath: root ?? "/"),
            dryRun: dryRun, start: !noStart)
        if output.json { try Output.json(outcome); return }
        if dryRun {
            let plan = try InstallPlan.make(spec: spec, options: options)
            Output.line(plan.description.trimming(.newlines))
        } else if let report = outcome.report {
            for change in report.changes where change.action != .unchanged {
                Output.line(
                    "\(change.action.rawValue.padded(to: 10)) \(change.path)"
                        + (change.detail.map { "  (\($0))" } ?? ""))
            }
            let changed = report.changes.filter { $0.action != .unchanged && $0.action != .kept }.count
            Output.line(
                changed == 0
                    ? "install in \(report.root): already up to date, nothing changed"
                    : "install in \(report.root): \(changed) paths changed")
            if report.ownershipRecordedOnly { Output.line("note: not running as root: owners recorded in the manifest, not applied") }
        }
        for action in outcome.hostActions { Output.line("host: \(action)") }
    }
}

struct InstallCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "install",
        abstract: "Install the platform natively, on a Docker host or in WSL.",
        discussion: """
            Writes the compose bundle to the spec's installer prefix, seeds the env file (0600, never
            overwritten afterwards), installs the systemd units and unisonctl, then starts the stack.
            Running it again changes nothing; an upgrade keeps settings. With --root DIR the install
            is staged into DIR without touching the host.
            """,
        subcommands: [Native.self, Docker.self, WSL.self]
    )

    struct Native: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "native", abstract: "Install on a Linux host; Docker and the compose plugin come from apt when missing.")
        @OptionGroup var arguments: InstallArguments
        func run() async throws { try arguments.run(mode: .native) }
    }

    struct Docker: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "docker", abstract: "Install on a host that already runs Docker with the compose plugin.")
        @OptionGroup var arguments: InstallArguments
        func run() async throws { try arguments.run(mode: .docker) }
    }

    struct WSL: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "wsl", abstract: "Install in a WSL distribution (/etc/wsl.conf: systemd on, a boot command when it is off).")
        @OptionGroup var arguments: InstallArguments
        func run() async throws { try arguments.run(mode: .wsl) }
    }
}

struct UninstallCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "uninstall",
        abstract: "Remove what install put in place (data kept unless --purge)."
    )

    @Option(name: .long, help: ArgumentHelp("The root the install was made into.", valueName: "dir"))
    var root: String?

    @Flag(name: .long, help: "Also remove the env file and the data directory.")
    var purge = false

    @Flag(name: .long, help: "Print what would be removed; change nothing.")
    var dryRun = false

    @OptionGroup var specOptions: SpecOptions
    @OptionGroup var output: JSONOption

    func run() async throws {
        let rootURL = URL(fileURLWithPath: root ?? "/")
        let spec = InstalledSpec.load(specOptions, root: rootURL)
        let report = try HostInstaller().uninstall(spec: spec, root: rootURL, purge: purge, dryRun: dryRun)
        if output.json { try Output.json(report); return }
        for change in report.changes {
            let verb = change.action == .removed && dryRun ? "would remove" : change.action.rawValue
            Output.line("\(verb.padded(to: 12)) \(change.path)" + (change.detail.map { "  (\($0))" } ?? ""))
        }
        for action in report.hostActions { Output.line("host: \(action)") }
    }
}

/// The spec for commands run on an installed machine: --spec/$UNISON_SPEC/unison.yaml upward,
/// else the copy the install left in its prefix.
enum InstalledSpec {
    static func load(_ options: SpecOptions, root: URL = URL(fileURLWithPath: "/")) -> PlatformSpec? {
        if options.spec != nil || ProcessInfo.processInfo.environment["UNISON_SPEC"] != nil { return try? options.load() }
        if let spec = try? options.load() { return spec }
        let copy = root.appendingPathComponent(String(InstallLayout.defaults.specCopy.dropFirst()))
        return try? SpecLoader.load(file: copy)
    }

    /// Like `load`, but an explicit spec that fails to load is an error, and no spec at all is one too.
    static func require(_ options: SpecOptions, root: URL = URL(fileURLWithPath: "/")) throws -> PlatformSpec {
        if options.spec != nil || ProcessInfo.processInfo.environment["UNISON_SPEC"] != nil { return try options.load() }
        if let spec = try? options.load() { return spec }
        let copy = root.appendingPathComponent(String(InstallLayout.defaults.specCopy.dropFirst()))
        if FileManager.default.fileExists(atPath: copy.path) { return try SpecLoader.load(file: copy) }
        return try options.load()
    }
}
