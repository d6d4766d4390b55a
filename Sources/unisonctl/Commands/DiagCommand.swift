import ArgumentParser
import FoundationEssentials
import UnisonCore
import UnisonOps
import UnisonSpec

struct DiagCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diag", abstract: "Write a support bundle (unison-diag-<host>-<UTC time>.tar.gz).",
        discussion: """
            Collects versions (unisonctl, OS, kernel), the spec in use, the env file with every secret redacted, \
            unit status and journal tail, compose ps and log tails, health results, the model store's verify report, \
            doctor findings, disk and memory. Each collector is bounded in time and size; a missing docker or \
            systemctl is recorded, not fatal. Secret values never enter the bundle. Inside it, manifest.json \
            (schema unisonctl.diag/v1) lists every file with its SHA-256 and SHA256SUMS works with `sha256sum -c`. \
            The bundle is written under a temporary name and renamed into place, mode 0600; nothing is uploaded.
            """)
    @Option(name: .long, help: ArgumentHelp("Collect from an install staged in this directory.", valueName: "dir"))
    var root: String?
    @Option(
        name: [.short, .long],
        help: ArgumentHelp("Bundle file, or an existing directory for the default name (default: the current directory).", valueName: "file"))
    var output: String?
    @Option(name: .long, help: ArgumentHelp("Seconds each collector may take.", valueName: "seconds"))
    var collectorTimeout: Double = 20
    @OptionGroup var specOptions: SpecOptions
    @OptionGroup var json: JSONOption

    func validate() throws {
        guard collectorTimeout > 0, collectorTimeout.isFinite else {
            throw ValidationError("--collector-timeout must be a positive number of seconds")
        }
    }

    func run() async throws {
        let rootURL = URL(fileURLWithPath: root ?? "/")
        let spec = try InstalledSpec.require(specOptions, root: rootURL)
        let specFile = try? specOptions.loadWithURL().url
        let options = DiagOptions(output: output.map { URL(fileURLWithPath: $0) }, specFile: specFile, collectorTimeout: collectorTimeout)
        let result = try DiagBundle(control: StackControl(spec: spec, root: rootURL), options: options).write()
        if json.json {
            try Output.json(result)
        } else {
            for c in result.collectors where c.status != .ok || c.truncated {
                FileIO.standardError.write(
                    "note: \(c.name): \(c.status.rawValue)\(c.truncated ? " (truncated)" : "")\(c.detail.map { ": \($0)" } ?? "")\n")
            }
            Output.line("\(result.bundle) (\(ProgressReporter.formatBytes(result.bytes)), \(result.files) files, sha256 \(result.sha256))")
        }
    }
}
