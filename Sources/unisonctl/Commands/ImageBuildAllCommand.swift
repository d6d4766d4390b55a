import ArgumentParser
import FoundationEssentials
import UnisonCore
import UnisonImage
import UnisonSpec

struct ImageBuildAll: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "all",
        abstract: "Build several image targets in one run (default: every target the spec defines).",
        discussion: """
            Builds the targets in the order wsl, vm, iso, each with the spec's settings, from one
            read of each base: the root shared by targets that install the same way is made once
            (the VM disk and the ISO's installer share it, WSL installs in its own mode) and the
            ISO carries the VM disk laid out in the same run. Every artifact has the bytes the
            target's own command writes. A target the spec lacks is refused before any work when
            --targets names it; a target that fails ends the run, naming it (earlier targets'
            artifacts stay).
            """
    )

    @OptionGroup var specOptions: SpecOptions
    @OptionGroup var jsonOption: JSONOption
    @OptionGroup var platform: ImagePlatformOptions

    @Option(help: ArgumentHelp("Comma-separated targets: wsl, vm, iso (default: every target the spec defines).", valueName: "list"))
    var targets: String?

    @Option(help: ArgumentHelp("Base for every target (default: each target's base in the spec).", valueName: "tarball|dir|oci:DIR[:TAG]|name"))
    var base: String?

    @OptionGroup var output: ImageOutputOptions

    func validate() throws {
        if let targets {
            let names = Self.names(targets)
            if let bad = names.first(where: { !ImageTargetChoice.order.contains($0) }) {
                throw ValidationError("--targets: unknown target \(bad) (use wsl, vm, iso)")
            }
            if names.isEmpty { throw ValidationError("--targets needs at least one of wsl, vm, iso") }
        }
    }

    static func names(_ list: String) -> [String] {
        list.split(separator: ",").map { $0.trimming(.whitespaces).lowercased() }.filter { !$0.isEmpty }
    }

    func run() async throws {
        let flags = platform.flags(base: base, output: output)
        let requests = try ImageBuildRequest.all(try specOptions.loadDocument(), targets: targets.map(Self.names), flags: flags)
        try ImageOutput.printAll(try await ImagePipeline.build(requests, status: ImageStatus.line), json: jsonOption.json)
    }
}

/// `image build all --json`: every target's result, in build order.
struct ImageBuildAllReport: Encodable {
    var schema = "unisonctl.image-build.all/v1"
    var results: [any ImageBuildResult]

    enum CodingKeys: String, CodingKey { case schema, results }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(schema, forKey: .schema)
        var list = container.nestedUnkeyedContainer(forKey: .results)
        for result in results { try list.encode(result) }
    }
}
