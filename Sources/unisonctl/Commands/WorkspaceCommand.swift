import ArgumentParser

struct WorkspaceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workspace",
        abstract: "Validate a multi-repo UnisonOS workspace.",
        subcommands: []
    )
}
