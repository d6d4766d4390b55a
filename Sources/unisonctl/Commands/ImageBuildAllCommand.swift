import ArgumentParser
import Foundation
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

    /// The build order: the ISO after the VM, whose disk it carries.
    static let order = ["wsl", "vm", "iso"]

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
            if let bad = names.first(where: { !Self.order.contains($0) }) {
                throw ValidationError("--targets: unknown target \(bad) (use wsl, vm, iso)")
            }
            if names.isEmpty { throw ValidationError("--targets needs at least one of wsl, vm, iso") }
        }
    }

    static func names(_ list: String) -> [String] {
        list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty }
    }

    func run() async throws {
        let document = try specOptions.loadDocument()
        let spec = document.spec
        let defined = [("wsl", spec.targets.wsl != nil), ("vm", spec.targets.vm != nil), ("iso", spec.targets.iso != nil)]
        let wanted = targets.map(Self.names) ?? defined.filter(\.1).map(\.0)
        let flags = platform.flags(base: base, output: output)
        var requests: [ImageBuildRequest] = []
        for name in Self.order where wanted.contains(name) {
            let choice: ImageTargetChoice
            switch name {
            case "wsl": choice = .wsl(gzipLevel: 6)
            case "vm": choice = .vm(formats: nil, diskSize: nil, kernelArguments: [])
            default: choice = .iso(payload: nil, firmware: nil, splitAbove: nil, kernelArguments: [])
            }
            requests.append(try ImageBuildRequest(document, choice, flags: flags))
        }
        guard !requests.isEmpty else { throw ValidationError("the spec defines no image target (targets.wsl, targets.vm, targets.iso)") }
        let results = try await ImagePipeline.build(requests, status: ImageStatus.line)
        if jsonOption.json {
            try Output.json(ImageBuildAllReport(results: results))
        } else {
            for result in results { result.summary.forEach(Output.line) }
        }
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
