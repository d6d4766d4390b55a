import ArgumentParser

struct QACommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "qa",
        abstract: "Quality checks: smoke, e2e and boot in QEMU.",
        subcommands: []
    )
}
