import ArgumentParser
import Foundation
import UnisonImage
import UnisonInstall
import UnisonSpec

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

    @Option(name: .customLong("release-manifest"),
            help: ArgumentHelp("Release manifest whose digests pin the service images.", valueName: "file"))
    var releaseManifest: String?

    /// The overlay for `mode`; `targetPack` is the target's `models` from the spec.
    func overlay(spec: PlatformSpec, specURL: URL, mode: InstallMode, targetPack: String?, version: String,
                 epoch: Int64, workDir: URL, ollama: OllamaPlacement? = nil) async throws -> any RootfsOverlay {
        let binary = unisonctlBinary.map { URL(fileURLWithPath: $0).standardizedFileURL }
            ?? URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        guard FileManager.default.isReadableFile(atPath: binary.path) else {
            throw ValidationError("--unisonctl-binary \(binary.path) cannot be read")
        }
        return try await PlatformOverlay.overlay(
            spec: spec, specText: try? String(contentsOf: specURL, encoding: .utf8), mode: mode, version: version,
            modelPack: models ?? targetPack, modelRegistry: modelRegistry,
            releaseManifest: releaseManifest.map { URL(fileURLWithPath: $0) }, unisonctl: binary, epoch: epoch,
            workDir: workDir, ollama: ollama)
    }
}
