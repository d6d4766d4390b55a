import ArgumentParser
import FoundationEssentials
import UnisonCore
import UnisonRelease
import UnisonSpec

struct CompatCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compat",
        abstract: "The compatibility matrix of platform releases and service versions.",
        subcommands: [Show.self, Add.self, Check.self, Ingest.self]
    )

    /// `--file`: the matrix (default: docs/compatibility-matrix.md).
    struct FileOption: ParsableArguments {
        @Option(name: .customLong("file"), help: ArgumentHelp("The matrix markdown file.", valueName: "file"))
        var path: String = "docs/compatibility-matrix.md"
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Print the matrix.")
        @OptionGroup var file: FileOption
        @OptionGroup var output: JSONOption

        func run() async throws {
            let matrix = try CompatFile.read(file.path)
            if output.json { try Output.json(matrix); return }
            print(matrix.markdown(), terminator: "")
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add",
            abstract: "Add the row of a platform release (from --service pairs and/or a workspace's release plan) and rewrite the file.",
            discussion:
                "Columns are the services' repositories (unison-orchestrator), as unison-docs' matrix has them; a matrix that names a service's own column keeps it."
        )

        @Option(help: ArgumentHelp("Platform version of the row, e.g. v0.5.0.", valueName: "version"))
        var version: String
        @Option(
            name: .customLong("service"),
            help: ArgumentHelp("A cell (repeatable): service or repo name=v1.2.3 or name='>=1.2.0 <1.3.0'.", valueName: "name=constraint"))
        var cells: [String] = []
        @Option(help: ArgumentHelp("Take the cells from this workspace's release plan.", valueName: "dir"))
        var workspace: String?
        @Flag(help: "Replace an existing row for the version.")
        var replace = false
        @OptionGroup var file: FileOption
        @OptionGroup var specOptions: SpecOptions

        func run() async throws {
            let spec = try specOptions.load()
            let v = try ReleaseOptions.version(version)
            let url = URL(fileURLWithPath: file.path)
            var matrix =
                FileManager.default.fileExists(atPath: url.path)
                ? try CompatFile.read(file.path) : CompatibilityMatrix(services: CompatibilityMatrix.columns(spec: spec))
            // Cells by service (the plan's) or repo name, then keyed by the matrix's columns.
            var row = CompatibilityMatrix.Row(platform: v, services: [:])
            if let workspace,
                let planned = try ReleasePlanner.plan(spec: spec, version: v, workspace: URL(fileURLWithPath: workspace)).compatibilityRow
            {
                row.services = try matrix.keyedByColumn(planned.services, spec: spec)
            }
            var given: [String: VersionConstraint] = [:]
            for (name, text) in try ReleaseFiles.keyValues(cells, option: "--service") {
                guard let c = VersionConstraint(text) else { throw ValidationError("--service \(name)='\(text)' is not a version or range") }
                given[name] = c
            }
            row.services.merge(try matrix.keyedByColumn(given, spec: spec)) { $1 }
            try matrix.add(row, replace: replace)
            try AtomicFile.write(Data(matrix.markdown(displayName: spec.platform.displayName).utf8), to: url)
            print("\(url.path): \(row.platform.tagString(forceV: true)) (\(row.services.count) services)")
        }
    }

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Check installed service versions against the matrix: the row they match, or what differs (exit 1).")

        @Option(name: .customLong("installed"), help: ArgumentHelp("An installed service version (repeatable).", valueName: "name=v1.2.3"))
        var installed: [String] = []
        @Option(name: .customLong("installed-json"), help: ArgumentHelp("JSON file {\"service\": \"v1.2.3\"}.", valueName: "file"))
        var installedJSON: String?
        @Option(help: ArgumentHelp("Check against this release's row only.", valueName: "version"))
        var platform: String?
        @OptionGroup var file: FileOption
        @OptionGroup var specOptions: SpecOptions
        @OptionGroup var output: JSONOption

        func run() async throws {
            let matrix = try CompatFile.read(file.path)
            var versions: [String: SemVer] = [:]
            for (name, text) in try ReleaseFiles.nameValues(
                pairs: installed, option: "--installed", file: installedJSON.map { URL(fileURLWithPath: $0) })
            {
                guard let v = SemVer(text) else { throw ValidationError("installed \(name)='\(text)' is not a version") }
                versions[name] = v
            }
            // Service names find their repository's column through the spec, when there is one.
            if let spec = try specOptions.loadReleaseSpecIfPresent() { versions = matrix.installedByColumn(versions, spec: spec) }
            let result = matrix.check(installed: versions, platform: try platform.map(ReleaseOptions.version))
            if output.json {
                try Output.json(result)
            } else if result.ok {
                print("matches \(result.platform ?? "")")
            } else if !result.rowFound {
                print("no row to compare with\(platform.map { " (no row for \($0))" } ?? "")")
            } else {
                print("no row matches; closest is \(result.platform ?? ""):")
                for d in result.differences {
                    print("  \(d.service): installed \(d.installed ?? "none"), \(result.platform ?? "") has \(d.expected)")
                }
            }
            for name in result.unknownServices { FileIO.standardError.write("warning: \(name) is not a column of the matrix\n") }
            if !result.ok { throw ExitCode(ExitStatus.checkFailed.rawValue) }
        }
    }
}

/// Reads a matrix file with errors that name it.
enum CompatFile {
    static func read(_ path: String) throws -> CompatibilityMatrix {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ReleaseError.unreadable(path: path, reason: "no such file or not UTF-8")
        }
        return try CompatibilityMatrix.parse(markdown: text, path: path)
    }
}
