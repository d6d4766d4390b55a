import ArgumentParser
import FoundationEssentials
import UnisonCore
import UnisonWorkspace

struct ReadmeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "readme",
        abstract: "Check and fix READMEs against the spec's common sections.",
        subcommands: [Check.self, Fix.self]
    )

    /// Arguments both subcommands take.
    struct Targets: ParsableArguments {
        @Option(help: ArgumentHelp("Repo the READMEs belong to (default: the name of each README's directory).", valueName: "name"))
        var repo: String?
        @Argument(help: ArgumentHelp("README files or repo directories.", valueName: "path"))
        var paths: [String]

        func validate() throws {
            if paths.isEmpty { throw ValidationError("give at least one README or repo directory") }
        }
    }

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Check READMEs: the policy's sections, the repo's role, its entry-point commands.",
            discussion:
                "A directory no repo of the spec can be placed at is a readme.unknown-repo finding; the other paths are still checked. Exit status: 1 when a section is missing (or another error-level finding exists), 0 otherwise."
        )

        @OptionGroup var specOptions: SpecOptions
        @OptionGroup var output: JSONOption
        @OptionGroup var targets: Targets

        func run() async throws {
            let spec = try specOptions.load()
            let report = try ReadmeTargets.check(targets.paths, repoName: targets.repo, spec: spec)
            print(output.json ? try report.json() : report.text(), terminator: "")
            if report.hasErrors { throw ExitCode(report.exitStatus.rawValue) }
        }
    }

    struct Fix: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "fix",
            abstract: "Append the sections a README lacks (a skeleton from the spec); existing text is never changed.",
            discussion:
                "Running it twice changes nothing the second time. A repo directory without a README gets a new README.md. A run or test command is written only when the repo has what it runs. A directory no repo of the spec can be placed at is skipped (exit 1)."
        )

        @OptionGroup var specOptions: SpecOptions
        @OptionGroup var output: JSONOption
        @OptionGroup var targets: Targets

        func run() async throws {
            let spec = try specOptions.load()
            let results = try ReadmeTargets.fix(targets.paths, repoName: targets.repo, spec: spec)
            print(output.json ? try ReadmeFixer.json(results) : ReadmeFixer.text(results), terminator: "")
            if results.contains(where: { $0.skipped != nil }) { throw ExitCode(ExitStatus.checkFailed.rawValue) }
        }
    }
}
