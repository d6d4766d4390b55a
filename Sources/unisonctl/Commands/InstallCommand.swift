import ArgumentParser

struct InstallCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "install",
        abstract: "Install the platform natively, on a Docker host or in WSL.",
        subcommands: []
    )
}

struct UninstallCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "uninstall",
        abstract: "Remove what install put in place (data kept unless --purge).",
        subcommands: []
    )
}
