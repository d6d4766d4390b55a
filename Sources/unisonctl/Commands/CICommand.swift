import ArgumentParser
import Foundation
import UnisonCore
import UnisonWorkspace

struct CICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ci",
        abstract: "Generate the GitHub Actions workflows the platform's repos use.",
        subcommands: [Workflow.self]
    )

    struct Workflow: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print (or write) a service repo's image publishing workflow, or the platform's release workflow.",
            discussion: """
            --service NAME: build and push the service image with the tags of the spec's channels \
            (.github/workflows/publish.yml of its repo). --platform: the platform repo's release workflow \
            (.github/workflows/release.yml): on a channel's release tag and nightly it builds the artifacts, \
            checks and boots them, writes the release manifest and checksums, pushes the files to GHCR as one \
            OCI artifact, and for a tag promotes the tested service images and attaches the files to the \
            GitHub release. Both pass actionlint and zizmor.
            """)

        @OptionGroup var specOptions: SpecOptions
        @Option(help: "Service whose repo gets the workflow.")
        var service: String?
        @Flag(help: "The platform repo's release workflow instead.")
        var platform = false
        @Option(name: .customLong("output"), help: ArgumentHelp("Write to this file (atomically) instead of stdout.", valueName: "file"))
        var outputFile: String?

        func validate() throws {
            guard (service != nil) != platform else { throw ValidationError("give either --service NAME or --platform") }
        }

        func run() async throws {
            let spec = try specOptions.load()
            let text: String
            do {
                text = try service.map { try CIWorkflow.servicePublish(spec: spec, service: $0) } ?? CIWorkflow.platformRelease(spec: spec)
            } catch let error as CIWorkflow.WorkflowError {
                throw ValidationError(error.description)
            }
            if let outputFile {
                try AtomicFile.write(Data(text.utf8), to: URL(fileURLWithPath: outputFile))
            } else {
                print(text, terminator: "")
            }
        }
    }
}
