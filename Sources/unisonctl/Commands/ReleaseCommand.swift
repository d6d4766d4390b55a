import ArgumentParser

struct ReleaseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "release",
        abstract: "Versions, channels, GHCR tags, plans and release files.",
        subcommands: []
    )
}
