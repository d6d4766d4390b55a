import ArgumentParser

struct OCICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "oci",
        abstract: "Push, pull, copy, tag and inspect images and artifacts in OCI registries.",
        subcommands: []
    )
}
