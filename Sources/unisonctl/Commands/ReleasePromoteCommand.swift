import ArgumentParser
import FoundationEssentials
import UnisonCore
import UnisonOCI
import UnisonPublish
import UnisonSpec

/// `unisonctl release promote`: give the already tested digest of every platform service image
/// its release tags, without rebuilding and without sending layers.
struct ReleasePromote: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "promote",
        abstract: "Tag every platform service image's tested digest (e.g. edge-main) with the release tags.",
        discussion: """
            Default tags: vX.Y.Z, vX.Y, vX and latest for a release; only vX.Y.Z-pre for a pre-release. Every source image \
            is resolved before any tag moves; the same manifest bytes are PUT under each tag, so digests are unchanged and \
            no layer is uploaded.
            """)

    @OptionGroup var specOptions: SpecOptions
    @Option(name: .long, help: "The release version, e.g. v0.5.0 or v0.5.0-beta.1.") var version: String
    @Option(name: .long, help: "Tag whose digest is promoted.") var fromTag: String = "edge-main"
    @Option(name: .long, parsing: .singleValue, help: "Release tag (repeatable; default from --version).") var tag: [String] = []
    @Option(name: .long, help: "Registry host that replaces the spec's (e.g. 127.0.0.1:5000 for a test registry).") var registryOverride: String?
    @OptionGroup var registry: RegistryOptions
    @OptionGroup var output: JSONOption

    func validate() throws {
        guard SemVer(version) != nil else { throw ValidationError("--version '\(version)' is not a SemVer version (vX.Y.Z[-pre])") }
        guard Tag(fromTag) != nil else { throw ValidationError("--from-tag '\(fromTag)' is not a valid tag") }
        for t in tag where Tag(t) == nil { throw ValidationError("--tag '\(t)' is not a valid tag") }
        if let registryOverride, (try? RegistryEndpoint(parsing: registryOverride)) == nil {
            throw ValidationError("--registry-override '\(registryOverride)' is not host[:port]")
        }
    }

    func run() async throws {
        let spec = try specOptions.load()
        let request = PromotionRequest(
            version: SemVer(version)!, sourceTag: Tag(fromTag)!, tags: tag.compactMap(Tag.init),
            registryOverride: try registryOverride.map { try RegistryEndpoint(parsing: $0) })
        let target = ServiceImages.registry(spec: spec, override: request.registryOverride)
        let report = try await Promotion.promote(request, spec: spec, client: try registry.client(for: target.host, plainHTTP: target.plainHTTP))
        if output.json { return try Output.json(report) }
        for image in report.images {
            Output.line("\(image.image)@\(image.digest): \(image.tagged.isEmpty ? "unchanged" : image.tagged.joined(separator: ", "))")
        }
        Output.line(
            "\(report.images.count) image(s) promoted from \(report.sourceTag) to \(report.tags.joined(separator: ", ")); "
                + "\(ProgressReporter.formatBytes(report.blobBytesUploaded)) of blobs uploaded")
    }
}
