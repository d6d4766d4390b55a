import ArgumentParser

struct ModelsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "Ollama models over OCI: pull into a store, verify, push.",
        subcommands: []
    )
}
