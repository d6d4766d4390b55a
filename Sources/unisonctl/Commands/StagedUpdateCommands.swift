import ArgumentParser
import FoundationEssentials
import UnisonCore
import UnisonOps
import UnisonSpec

/// The staged-update commands of unison-platform's own unisonctl, over the files unison-updates
/// writes (see StagedUpdate). `--root` points them at another root (tests, an image).
struct StagedRootOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Root of the installed system (default /).", valueName: "dir"))
    var root: String = "/"
    @OptionGroup var specOptions: SpecOptions

    func staged() throws -> StagedUpdate {
        let rootURL = URL(fileURLWithPath: root)
        return StagedUpdate(spec: try InstalledSpec.require(specOptions, root: rootURL), root: rootURL)
    }
}

struct StageUpdateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stage-update",
        abstract: "Stage a unison-updates apply artifact as the compose override of the next start.",
        discussion: """
            ARTIFACT is unison-updates' <job>-apply-override.json (schema unison.updates.compose.override.v1); a \
            path inside the updates container is looked up among <dataDir>/updates/artifacts. Writes \
            <prefix>/staged/compose.next-boot.override.yaml and compose.next-boot.metadata.json. With \
            --manifest, each staged image must be the one the release manifest pins.
            """)
    @Argument(help: ArgumentHelp("The apply artifact.", valueName: "artifact"))
    var artifact: String
    @Option(help: ArgumentHelp("Release manifest (unison.platform.release.manifest.v1) the images must match.", valueName: "file"))
    var manifest: String?
    @OptionGroup var options: StagedRootOptions
    @OptionGroup var output: JSONOption

    func run() async throws {
        let staged = try options.staged()
        let metadata = try staged.stage(artifact: artifact, manifest: manifest.map { URL(fileURLWithPath: $0) })
        if output.json { try Output.json(metadata); return }
        print("staged job \(metadata.jobID) for the next start: \(metadata.overridePath)")
    }
}

struct ShowStagedUpdateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show-staged-update", abstract: "Print the staged update's metadata.")
    @OptionGroup var options: StagedRootOptions

    func run() async throws {
        let staged = try options.staged()
        guard try staged.staged() != nil else {
            FileIO.standardError.write("no staged update at \(staged.metadataPath)\n")
            return
        }
        print(String(decoding: try Data(contentsOf: staged.host(staged.metadataPath)), as: UTF8.self), terminator: "")
    }
}

struct ClearStagedUpdateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "clear-staged-update", abstract: "Drop the staged update.")
    @OptionGroup var options: StagedRootOptions

    func run() async throws {
        let removed = try options.staged().clear()
        print(removed ? "cleared the staged update" : "no staged update")
    }
}

struct FinalizeStagedUpdateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "finalize-staged-update",
        abstract: "Record the staged job as applied with unison-updates and archive the staged files.",
        discussion:
            "POSTs updates.record_applied to unison-updates (default: 127.0.0.1 at the spec's updates port), then moves the files to <prefix>/staged/archive/."
    )
    @Option(name: .customLong("updates-host"), help: "unison-updates host.")
    var updatesHost: String = "127.0.0.1"
    @Option(
        name: .customLong("updates-port"),
        help: ArgumentHelp("unison-updates port (default: the spec's updates service port, else 8094).", valueName: "port"))
    var updatesPort: Int?
    @Flag(name: .customLong("retain-staged"), help: "Keep the staged files in place after archiving them.")
    var retainStaged = false
    @OptionGroup var options: StagedRootOptions

    func run() async throws {
        let staged = try options.staged()
        let port = updatesPort ?? staged.spec.service(named: "updates")?.port ?? 8094
        for path in try staged.finalize(updatesHost: updatesHost, updatesPort: port, retain: retainStaged) {
            print("archived \(path)")
        }
    }
}
