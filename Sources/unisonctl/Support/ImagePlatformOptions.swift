import ArgumentParser
import Foundation
import UnisonImage
import UnisonInstall
import UnisonOps
import UnisonSpec

extension ImageDelivery: ExpressibleByArgument {}

/// What every image target installs on top of its base: unisonctl, the platform pinned by an
/// optional release manifest, and a model pack.
struct ImagePlatformOptions: ParsableArguments {
    @Option(name: .customLong("unisonctl-binary"),
            help: ArgumentHelp("unisonctl to install in the image (default: this executable).", valueName: "file"))
    var unisonctlBinary: String?

    @Option(help: ArgumentHelp("Model pack (default: the target's models in the spec).", valueName: "pack"))
    var models: String?

    @Option(name: .customLong("model-registry"),
            help: ArgumentHelp("Registry (or mirror) the model pack is pulled from (default: models.registry).", valueName: "host|url"))
    var modelRegistry: String?

    @Option(help: ArgumentHelp("Service images: preload (pulled now, loaded offline at first boot) or pull (at first start); default: the target's images in the spec.",
                               valueName: "preload|pull"))
    var images: ImageDelivery?

    @Option(name: .customLong("image-registry"),
            help: ArgumentHelp("Registry (or mirror) preloaded service images are pulled from (default: each image's own).", valueName: "host[:port]"))
    var imageRegistry: String?

    @Option(name: .customLong("release-manifest"),
            help: ArgumentHelp("Release manifest whose digests pin the service images.", valueName: "file"))
    var releaseManifest: String?

    @Option(help: ArgumentHelp("Answers file checked and put in the image as /etc/unison/answers.yaml (mode 0600), applied at first boot.",
                               valueName: "file"))
    var answers: String?

    /// The answers file's text, checked for `target` against the spec's packs (located errors).
    func checkedAnswers(spec: PlatformSpec, target: Answers.Target) throws -> (text: String, answers: Answers)? {
        guard let answers else { return nil }
        let url = URL(fileURLWithPath: answers)
        let parsed = try AnswersLoader.load(file: url, context: .init(target: target, packs: spec.models.packs.map(\.name)))
        return (try String(contentsOf: url, encoding: .utf8), parsed)
    }

    /// The preload request when the image preloads its service images (`--images`, else the
    /// target's `images`, else the spec's `targets.images`); the ISO carries the VM target's image.
    func serviceImages(spec: PlatformSpec, mode: InstallMode) -> ServiceImagePreload.Request? {
        let own = mode == .wsl ? spec.targets.wsl?.images : spec.targets.vm?.images
        guard (images ?? spec.targets.delivery(own)) == .preload else { return nil }
        return ServiceImagePreload.Request(registry: imageRegistry) { line in
            FileHandle.standardError.write(Data("image preload: \(line)\n".utf8))
        }
    }

    /// The overlay for `mode`; `targetPack` is the target's `models` from the spec.
    func overlay(spec: PlatformSpec, specURL: URL, mode: InstallMode, targetPack: String?, version: String,
                 epoch: Int64, workDir: URL, ollama: OllamaPlacement? = nil) async throws -> any RootfsOverlay {
        let binary = unisonctlBinary.map { URL(fileURLWithPath: $0).standardizedFileURL }
            ?? URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        guard FileManager.default.isReadableFile(atPath: binary.path) else {
            throw ValidationError("--unisonctl-binary \(binary.path) cannot be read")
        }
        let platform = try await PlatformOverlay.overlay(
            spec: spec, specText: try? String(contentsOf: specURL, encoding: .utf8), mode: mode, version: version,
            modelPack: models ?? targetPack, modelRegistry: modelRegistry,
            releaseManifest: releaseManifest.map { URL(fileURLWithPath: $0) }, unisonctl: binary, epoch: epoch,
            workDir: workDir, ollama: ollama, serviceImages: serviceImages(spec: spec, mode: mode))
        guard let (text, _) = try checkedAnswers(spec: spec, target: mode == .wsl ? .wsl : .vm) else { return platform }
        // Root-only: the file names users and may hold password hashes.
        return ClosureOverlay { tree in
            try platform.apply(to: &tree)
            try tree.addFile(String(AnswersLocator.installedPath.dropFirst()), text, mode: 0o600, mtime: epoch)
        }
    }
}
