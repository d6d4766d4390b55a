import ArgumentParser
import FoundationEssentials
import UnisonCore
import UnisonWorkspace

struct PlatformCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "platform",
        abstract: "The unison-platform repository's scaffolding: image, installer and QA READMEs and the make image targets.",
        subcommands: [Scaffold.self]
    )

    struct Scaffold: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "scaffold",
            abstract:
                "Write (or with --check verify) images/, installer/ and qa/ READMEs and images/unisonctl.mk (make image-wsl image-vm image-iso).",
            discussion: """
                A file that exists with other content is never overwritten without saying so: it is reported as \
                differing and left alone unless --force. The Makefile is only checked: it must include \
                images/unisonctl.mk and not define the image targets itself. Exit 1 when anything is missing, \
                differs or the Makefile needs a change.
                """)

        @Argument(help: ArgumentHelp("The unison-platform checkout.", valueName: "dir"))
        var directory: String
        @Flag(help: "Write nothing; report what differs.")
        var check = false
        @Flag(help: "Overwrite files that differ (each is reported).")
        var force = false
        @OptionGroup var specOptions: SpecOptions
        @OptionGroup var output: JSONOption

        func validate() throws {
            if check, force { throw ValidationError("--check and --force exclude each other") }
        }

        func run() async throws {
            let spec = try specOptions.load()
            let report = try PlatformScaffold.run(directory: URL(fileURLWithPath: directory), spec: spec, check: check, force: force)
            if output.json {
                try Output.json(report)
            } else {
                for e in report.entries { print("\(e.state.rawValue.padded(to: 11)) \(e.path): \(e.note)") }
            }
            if !report.ok { throw ExitCode(1) }
        }
    }
}
