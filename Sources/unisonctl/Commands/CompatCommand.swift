import ArgumentParser

struct CompatCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compat",
        abstract: "The compatibility matrix of platform releases and service versions.",
        subcommands: []
    )
}
