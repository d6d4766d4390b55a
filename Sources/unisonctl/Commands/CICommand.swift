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
            abstract: "Print (or write) the image publishing workflow of a service repo.")

        @OptionGroup var specOptions: SpecOptions
        @Option(help: "Service whose repo gets the workflow.")
        var service: String
        @Option(name: .customLong("output"), help: ArgumentHelp("Write to this file (atomically) instead of stdout.", valueName: "file"))
        var outputFile: String?

        func run() async throws {
            let spec = try specOptions.load()
            let text: String
            do {
                text = try CIWorkflow.servicePublish(spec: spec, service: service)
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
