import ArgumentParser

struct ImageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image",
        abstract: "Build and inspect the release artifacts (WSL, VM disks, ISO).",
        subcommands: []
    )
}
