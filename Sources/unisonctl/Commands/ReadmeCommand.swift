import ArgumentParser

struct ReadmeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "readme",
        abstract: "Check and fix READMEs against the spec's common sections.",
        subcommands: []
    )
}
