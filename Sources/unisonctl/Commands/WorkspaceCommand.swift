import ArgumentParser
import FoundationEssentials
import UnisonCore
import UnisonSpec
import UnisonWorkspace

struct WorkspaceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workspace",
        abstract: "Validate a multi-repo UnisonOS workspace.",
        subcommands: [Check.self]
    )

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Check a workspace against the spec: layout, git cleanliness, READMEs, compatibility matrix, release tags, image references.",
            discussion: """
                DIR is the meta repository (whose submodules are the platform's repos) or a directory of sibling clones.
                Every finding has a rule id (docs/workspace-rules.md), a severity, a repo, a file:line where there is one, and a hint.
                Exit status: 1 when a finding of error level exists, 0 otherwise.
                """)

        @OptionGroup var specOptions: SpecOptions
        @OptionGroup var output: JSONOption
        @Flag(help: "Print the gap report as Markdown (summary by rule, findings by repo).")
        var markdown = false
        @Option(help: ArgumentHelp("Branch every repo should be on (default: the spec's platform.defaultBranch).", valueName: "name"))
        var branch: String?
        @Option(name: .customLong("output"), help: ArgumentHelp("Write the report to this file (atomically) instead of stdout.", valueName: "file"))
        var outputFile: String?
        @Argument(help: ArgumentHelp("Workspace directory.", valueName: "dir"))
        var directory: String = "."

        func validate() throws {
            if output.json && markdown { throw ValidationError("--json and --markdown are exclusive") }
        }

        func run() async throws {
            let spec = try specOptions.load()
            let report = try WorkspaceCheck.run(directory: URL(fileURLWithPath: directory), spec: spec, expectedBranch: branch)
            let text =
                output.json
                ? try report.json()
                : markdown
                    ? report.markdown(title: "\(spec.platform.displayName) workspace gap report")
                    : report.text()
            if let outputFile {
                try AtomicFile.write(Data(text.utf8), to: URL(fileURLWithPath: outputFile))
            } else {
                print(text, terminator: "")
            }
            if report.hasErrors { throw ExitCode(report.exitStatus.rawValue) }
        }
    }
}
