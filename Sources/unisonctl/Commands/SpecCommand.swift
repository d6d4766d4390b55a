import ArgumentParser
import FoundationEssentials
import UnisonCore
import UnisonSpec

struct SpecCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spec",
        abstract: "Validate and show the platform spec (unison.yaml).",
        subcommands: [Validate.self, Show.self, Drift.self]
    )

    struct Validate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "validate",
            abstract: "Check a spec; print every problem as file:line:column and exit 2 if there is any.")

        @Argument(help: ArgumentHelp("Spec file (default: found as for --spec).", valueName: "file"))
        var file: String?
        @OptionGroup var specOptions: SpecOptions
        @OptionGroup var output: JSONOption

        func run() async throws {
            let url = try SpecLocator.locate(explicit: file ?? specOptions.spec)
            do {
                let spec = try SpecLoader.load(file: url, ruleCheck: channelRuleCheck)
                if output.json {
                    try Output.json(
                        ValidationReport(
                            schema: "unisonctl.spec-validation/v1", file: url.path, valid: true,
                            diagnostics: [], services: spec.allServices.count, repos: spec.repos.count))
                } else {
                    print("\(url.path): ok (\(spec.services.count) services, \(spec.infrastructure.count) infrastructure, \(spec.repos.count) repos)")
                }
            } catch let error as SpecError where output.json {
                try Output.json(
                    ValidationReport(
                        schema: "unisonctl.spec-validation/v1", file: url.path, valid: false,
                        diagnostics: error.diagnostics, services: nil, repos: nil))
                throw ExitCode(ExitStatus.badInput.rawValue)
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show",
            abstract: "Print the spec normalized, with defaults applied.")

        @OptionGroup var specOptions: SpecOptions
        @OptionGroup var output: JSONOption

        func run() async throws {
            let spec = try specOptions.load()
            if output.json {
                try Output.json(spec)
            } else {
                print(SpecSummary.text(spec))
            }
        }
    }
}

struct ValidationReport: Encodable {
    var schema: String
    var file: String
    var valid: Bool
    var diagnostics: [SpecDiagnostic]
    var services: Int?
    var repos: Int?
}

/// The human form of `spec show`.
enum SpecSummary {
    static func text(_ spec: PlatformSpec) -> String {
        var lines: [String] = []
        let p = spec.platform
        lines.append("\(p.displayName) \(p.version) — \(p.imagePrefix) (default branch \(p.defaultBranch))")
        lines.append("")
        lines.append("services:")
        for s in spec.allServices {
            let health = s.health ?? s.healthCommand.map { "cmd: \($0)" } ?? "-"
            let deps = s.dependsOn.isEmpty ? "" : "  <- " + s.dependsOn.joined(separator: ", ")
            // host port -> the image's port ("-" when only the stack reaches it)
            let ports = "\(s.hostPort.map(String.init) ?? "-")->\(s.port)"
            let profiles = s.profiles.isEmpty ? "" : "  [" + s.profiles.joined(separator: ",") + "]"
            lines.append("  \(s.name.padded(to: 24)) \(s.image)  \(ports) \(health)\(profiles)\(deps)")
        }
        lines.append("")
        lines.append("channels: " + spec.channels.map { "\($0.name) (\($0.tags.count) tag rules)" }.joined(separator: ", "))
        lines.append(
            "model packs: "
                + spec.models.packs.map {
                    "\($0.name)\($0.profile.map { " (\($0))" } ?? "") [\($0.preload.joined(separator: ", "))] ram>=\($0.minRam) disk>=\($0.minDisk)"
                }.joined(separator: "; "))
        var targets: [String] = []
        if let t = spec.targets.wsl { targets.append("wsl (\(t.formats.joined(separator: ",")), base \(t.base), models \(t.models))") }
        if let t = spec.targets.vm { targets.append("vm (\(t.formats.joined(separator: ",")), \(t.diskSize), base \(t.base), models \(t.models))") }
        if let t = spec.targets.iso { targets.append("iso (\(t.firmware.joined(separator: "+")), base \(t.base), models \(t.models))") }
        lines.append("targets: " + targets.joined(separator: "; "))
        lines.append(
            "installer: \(spec.installer.prefix), env \(spec.installer.envFile), unit \(spec.installer.unit), "
                + "keys \(spec.installer.keysDir), Ollama on the \(spec.installer.ollama.rawValue)")
        lines.append(
            "repos: \(spec.repos.count) ("
                + RepoStatus.allCases.map { status in
                    "\(spec.repos.filter { $0.status == status }.count) \(status.rawValue)"
                }.joined(separator: ", ") + ")")
        lines.append("telemetry: \(spec.telemetry.enabled ? "on" : "off")")
        return lines.joined(separator: "\n")
    }
}
