import ArgumentParser
import FoundationEssentials
import UnisonImage
import UnisonOps
import UnisonSpec

extension ImageDelivery: ExpressibleByArgument {}

/// What every image target installs on top of its base: unisonctl, the platform pinned by an
/// optional release manifest, and a model pack.
struct ImagePlatformOptions: ParsableArguments {
    @Option(
        name: .customLong("unisonctl-binary"),
        help: ArgumentHelp("unisonctl to install in the image (default: this executable).", valueName: "file"))
    var unisonctlBinary: String?

    @Option(help: ArgumentHelp("Model pack (default: the target's models in the spec).", valueName: "pack"))
    var models: String?

    @Option(
        name: .customLong("model-registry"),
        help: ArgumentHelp("Registry (or mirror) the model pack is pulled from (default: models.registry).", valueName: "host|url"))
    var modelRegistry: String?

    @Option(
        help: ArgumentHelp(
            "Service images: preload (pulled now, loaded offline at first boot) or pull (at first start); default: the target's images in the spec.",
            valueName: "preload|pull"))
    var images: ImageDelivery?

    @Option(
        name: .customLong("image-registry"),
        help: ArgumentHelp("Registry (or mirror) preloaded service images are pulled from (default: each image's own).", valueName: "host[:port]"))
    var imageRegistry: String?

    @Option(
        name: .customLong("release-manifest"),
        help: ArgumentHelp("Release manifest whose digests pin the service images.", valueName: "file"))
    var releaseManifest: String?

    @Option(
        help: ArgumentHelp(
            "Answers file checked and put in the image as /etc/unison/answers.yaml (mode 0600), applied at first boot.",
            valueName: "file"))
    var answers: String?

    /// These flags with the command's own: what `ImageBuildRequest` resolves against the spec.
    func flags(base: String?, output: ImageOutputOptions) -> ImageBuildFlags {
        ImageBuildFlags(
            base: base, outputDirectory: output.out, version: output.version, unisonctlBinary: unisonctlBinary, models: models,
            modelRegistry: modelRegistry, images: images, imageRegistry: imageRegistry,
            releaseManifest: releaseManifest, answers: answers,
            answersPath: AnswersLocator.installedPath)
    }
}

/// Where every `image build` command writes, and the version in the names.
struct ImageOutputOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Directory for the artifacts (default: the spec's release.artifacts).", valueName: "dir"))
    var out: String?

    @Option(help: ArgumentHelp("Version in the artifact names (default: platform.version).", valueName: "version"))
    var version: String?
}

/// What every `image build` command prints: each result as JSON, or its summary lines.
enum ImageOutput {
    static func print(_ results: [any ImageBuildResult], json: Bool) throws {
        for result in results {
            if json { try Output.json(result) } else { result.summary.forEach(Output.line) }
        }
    }

    /// `image build all`: one JSON report holding every result, or each result's summary.
    static func printAll(_ results: [any ImageBuildResult], json: Bool) throws {
        if json { try Output.json(ImageBuildAllReport(results: results)) } else { try print(results, json: false) }
    }
}
