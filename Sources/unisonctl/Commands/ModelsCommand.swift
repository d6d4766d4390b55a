import ArgumentParser
import FoundationEssentials
import UnisonCore
import UnisonOCI

struct ModelsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "Ollama models over OCI: pull into a store, verify, push.",
        discussion: """
            The store is Ollama's own layout (what OLLAMA_MODELS points at): manifests/<host>/<namespace>/<model>/<tag> \
            and blobs/sha256-<hex>. Names are [namespace/]model[:tag], namespace 'library' and tag 'latest' by default.
            """,
        subcommands: [ModelsPull.self, ModelsVerify.self, ModelsPush.self]
    )
}

struct ModelsPull: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pull", abstract: "Pull a model into an Ollama store, every blob verified.")

    @Argument(help: "Model, e.g. qwen2.5:1.5b.") var name: String
    @Option(name: .long, help: "Registry host or URL (http:// for plain HTTP).") var registry: String = "registry.ollama.ai"
    @Option(name: .long, help: "Ollama store directory (OLLAMA_MODELS).") var store: String
    @OptionGroup var options: RegistryOptions
    @OptionGroup var output: JSONOption

    func run() async throws {
        let endpoint = try RegistryEndpoint(parsing: registry)
        let report = try await ModelPuller(client: options.client(for: endpoint.host, plainHTTP: endpoint.plainHTTP))
            .pull(name: name, registry: registry, store: URL(fileURLWithPath: store), progress: options.progress)
        if output.json { return try Output.json(report) }
        Output.line("\(report.model)@\(report.digest)")
        Output.line("  \(report.blobs) blob(s), \(ProgressReporter.formatBytes(report.bytes)); \(report.blobsReused) already in the store")
        Output.line("  manifest: \(report.manifest)")
    }
}

struct ModelsVerify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify", abstract: "Recheck every model manifest and blob digest of a store, offline.",
        discussion: "Exit status 0 when everything is present and intact, 1 when something is missing or corrupt.")

    @Option(name: .long, help: "Ollama store directory.") var store: String
    @OptionGroup var output: JSONOption

    func run() async throws {
        let report = try ModelStore(root: URL(fileURLWithPath: store)).verify()
        if output.json {
            try Output.json(report)
        } else {
            for model in report.models { Output.line("\(model.ok ? "ok     " : "FAILED ") \(model.name) (\(model.blobs) blobs)") }
            for problem in report.problems {
                FileIO.standardError.write(
                    "unisonctl: \(problem.model): \(problem.kind.rawValue) \(problem.digest.map { "\($0) " } ?? "")\(problem.path): \(problem.detail)\n"
                )
            }
            if report.models.isEmpty { Output.line("no models in \(store)") }
        }
        if !report.ok { throw ExitCode(ExitStatus.checkFailed.rawValue) }
    }
}

struct ModelsPush: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push", abstract: "Publish a model (a directory or files, or a model of an Ollama store) with Ollama's media types.",
        discussion: """
            Inputs are a model directory or files named by what they are (*.gguf, template, params.json, system, license, \
            projector*, adapter*), or KIND=PATH. With --from-store, the model NAME is read from that Ollama store instead.
            """)

    @Argument(help: "DIR or FILE… followed by NAME[:TAG] (with --from-store: only NAME[:TAG]).") var arguments: [String]
    @Option(name: .long, help: "Registry host or URL (http:// for plain HTTP).") var registry: String
    @Option(name: .long, help: "Mirror the model from this Ollama store.") var fromStore: String?
    @OptionGroup var options: RegistryOptions
    @OptionGroup var output: JSONOption

    func validate() throws {
        if fromStore != nil {
            guard arguments.count == 1 else { throw ValidationError("with --from-store give only NAME[:TAG]") }
        } else {
            guard arguments.count >= 2 else { throw ValidationError("give a model directory or files, then NAME[:TAG]") }
        }
    }

    func run() async throws {
        let endpoint = try RegistryEndpoint(parsing: registry)
        let pusher = ModelPusher(client: try options.client(for: endpoint.host, plainHTTP: endpoint.plainHTTP))
        let report: ModelPushReport
        if let fromStore {
            report = try await pusher.push(fromStore: URL(fileURLWithPath: fromStore), name: arguments[0], registry: registry)
        } else {
            let inputs = arguments.dropLast()
            var files: [ModelFile] = []
            for input in inputs {
                var isDirectory = false
                if !input.contains("="), FileManager.default.fileExists(atPath: input, isDirectory: &isDirectory), isDirectory {
                    files += try ModelFile.files(in: URL(fileURLWithPath: input))
                } else {
                    files.append(try ModelFile(argument: input))
                }
            }
            report = try await pusher.push(files: files, name: arguments.last!, registry: registry)
        }
        if output.json { return try Output.json(report) }
        Output.line("\(report.reference)@\(report.digest)")
        for layer in report.layers { Output.line("  \(layer.mediaType) \(layer.digest) \(layer.size) bytes") }
    }
}
