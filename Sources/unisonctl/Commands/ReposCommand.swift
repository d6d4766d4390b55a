import ArgumentParser
import FoundationEssentials
import UnisonCore
import UnisonSpec

struct ReposCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repos",
        abstract: "The platform's repositories and their roles.",
        subcommands: [Roles.self]
    )

    struct Roles: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "roles",
            abstract: "Render the repo role map (docs/repo-roles.md is this output).")

        @OptionGroup var specOptions: SpecOptions
        @OptionGroup var output: JSONOption
        @Option(name: .customLong("output"), help: ArgumentHelp("Write to this file (atomically) instead of stdout.", valueName: "file"))
        var outputFile: String?

        func run() async throws {
            let spec = try specOptions.load()
            if output.json {
                struct Report: Encodable { var schema: String; var repos: [Repo] }
                try Output.json(Report(schema: "unisonctl.repo-roles/v1", repos: spec.repos))
                return
            }
            let text = RoleMap.markdown(spec)
            if let path = outputFile {
                try AtomicFile.write(Data(text.utf8), to: URL(fileURLWithPath: path))
            } else {
                print(text, terminator: "")
            }
        }
    }
}
