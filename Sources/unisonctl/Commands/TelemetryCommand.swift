import ArgumentParser
import FoundationEssentials
import UnisonCore
import UnisonOps
import UnisonSpec

/// `--root DIR` for the telemetry verbs.
struct TelemetryRootOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Use the install staged in this directory.", valueName: "dir"))
    var root: String?

    var url: URL { URL(fileURLWithPath: root ?? "/") }

    func store(_ specOptions: SpecOptions) throws -> TelemetryStore {
        TelemetryStore(spec: try InstalledSpec.require(specOptions, root: url), root: url)
    }
}

struct TelemetryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "telemetry", abstract: "Optional local telemetry: off unless enabled, never sent anywhere.",
        discussion: """
            Telemetry is local and privacy-preserving. Nothing is ever sent over the network: events stay \
            as JSON lines in telemetry.dir (one file per UTC day) until you export a summary and share it by \
            hand; the only requests made are `record`'s health checks of the local services on 127.0.0.1. \
            Only the spec's allow-listed fields are kept (platform_version, channel, model_pack, target, \
            uptime_bucket, service_health), with coarse values and no time finer than a day; \
            no identifier of the machine or of a person. Files older than telemetry.retentionDays are removed. \
            It is off unless enabled: the spec's telemetry.enabled is the default, `enable`/`disable` override it.
            """,
        subcommands: [
            TelemetryStatusCommand.self, TelemetryEnableCommand.self, TelemetryDisableCommand.self,
            TelemetryRecordCommand.self, TelemetryShowCommand.self, TelemetryExportCommand.self,
            TelemetryPurgeCommand.self,
        ])
}

struct TelemetryStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Whether telemetry is on, and what is stored.")
    @OptionGroup var rootOption: TelemetryRootOption
    @OptionGroup var specOptions: SpecOptions
    @OptionGroup var output: JSONOption

    func run() async throws {
        let status = try rootOption.store(specOptions).status()
        if output.json { try Output.json(status); return }
        TelemetryText.status(status)
    }
}

enum TelemetryText {
    static func status(_ s: TelemetryStatus) {
        Output.line("telemetry: \(s.enabled ? "enabled" : "disabled") (\(s.source == "local" ? "set locally" : "spec default"))")
        Output.line("stored in: \(s.dir) (\(s.files) day files, \(s.events) events, kept \(s.retentionDays) days)")
        Output.line("fields: \(s.fields.joined(separator: ", "))")
        Output.line("network: \(s.network)")
    }
}

struct TelemetryEnableCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "enable", abstract: "Turn local telemetry on.")
    @OptionGroup var rootOption: TelemetryRootOption
    @OptionGroup var specOptions: SpecOptions
    @OptionGroup var output: JSONOption

    func run() async throws {
        let status = try rootOption.store(specOptions).setEnabled(true)
        if output.json { try Output.json(status) } else { TelemetryText.status(status) }
    }
}

struct TelemetryDisableCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "disable", abstract: "Turn local telemetry off (stored events are kept; purge removes them).")
    @OptionGroup var rootOption: TelemetryRootOption
    @OptionGroup var specOptions: SpecOptions
    @OptionGroup var output: JSONOption

    func run() async throws {
        let status = try rootOption.store(specOptions).setEnabled(false)
        if output.json { try Output.json(status) } else { TelemetryText.status(status) }
    }
}

struct TelemetryRecordCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record", abstract: "Record one event (only when enabled).",
        discussion: """
            Without --field, records this machine's current values (release record, env file, /proc/uptime, \
            and the services' health endpoints on 127.0.0.1). A field outside the allow-list, or a value outside \
            its coarse set, is refused (exit 2). When telemetry is disabled nothing is written (exit 0).
            """)
    @Option(
        name: .customLong("field"), help: ArgumentHelp("FIELD=VALUE, repeatable (uptime_bucket takes seconds or a bucket).", valueName: "field=value")
    )
    var fields: [String] = []
    @OptionGroup var rootOption: TelemetryRootOption
    @OptionGroup var specOptions: SpecOptions
    @OptionGroup var output: JSONOption

    func run() async throws {
        let store = try rootOption.store(specOptions)
        var raw: [String: String] = [:]
        for assignment in fields {
            guard let eq = assignment.firstIndex(of: "="), eq != assignment.startIndex else { throw TelemetryError.badAssignment(assignment) }
            raw[String(assignment[..<eq])] = String(assignment[assignment.index(after: eq)...])
        }
        if fields.isEmpty, store.isEnabled {
            raw = TelemetrySnapshot.collect(control: StackControl(spec: store.spec, root: rootOption.url))
        }
        let result = try store.record(raw)
        if output.json { try Output.json(result); return }
        if result.recorded {
            Output.line(
                "recorded in \(result.file ?? "-"): "
                    + (result.event ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
        } else {
            Output.line("not recorded: \(result.reason ?? "")")
        }
    }
}

struct TelemetryShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Print the stored events.")
    @OptionGroup var rootOption: TelemetryRootOption
    @OptionGroup var specOptions: SpecOptions
    @OptionGroup var output: JSONOption

    func run() async throws {
        let list = try rootOption.store(specOptions).events()
        if output.json { try Output.json(list); return }
        for e in list.events {
            Output.line(
                (e["day"] ?? "-") + " "
                    + e.filter { $0.key != "day" }.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
        }
        Output.line("\(list.events.count) events" + (list.dropped > 0 ? ", \(list.dropped) lines with dropped content" : ""))
    }
}

struct TelemetryExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Write an aggregated summary to share by hand.",
        discussion:
            "Counts per field value and the first and last day; no event, no time finer than a day. Printed, or written to --output atomically.")
    @Option(name: [.short, .long], help: ArgumentHelp("Write the summary to this file.", valueName: "file"))
    var output: String?
    @OptionGroup var rootOption: TelemetryRootOption
    @OptionGroup var specOptions: SpecOptions

    func run() async throws {
        let store = try rootOption.store(specOptions)
        if let output {
            let summary = try store.export(to: URL(fileURLWithPath: output))
            Output.line("wrote \(output): \(summary.events) events over \(summary.days) days")
        } else {
            try Output.json(try store.summary())
        }
    }
}

struct TelemetryPurgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "purge", abstract: "Delete every stored event (the on/off setting is kept).")
    @OptionGroup var rootOption: TelemetryRootOption
    @OptionGroup var specOptions: SpecOptions
    @OptionGroup var output: JSONOption

    func run() async throws {
        let result = try rootOption.store(specOptions).purge()
        if output.json { try Output.json(result) } else { Output.line("removed \(result.removed.count) event files") }
    }
}
