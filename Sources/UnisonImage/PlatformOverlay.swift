import Foundation
import UnisonArchive
import UnisonCore
import UnisonInstall
import UnisonSpec

/// An install plan is an overlay: images are installed by the same plan a host install runs,
/// applied to the image's FileTree instead of a directory.
extension InstallPlan: RootfsOverlay {}

/// The platform part of every image: the install plan for the image's mode, with secrets left
/// to first boot (each machine gets its own) and the spec and `unisonctl` installed.
public enum PlatformOverlay {
    public static func plan(spec: PlatformSpec, specText: String?, mode: InstallMode, version: String,
                            modelPack: String?, releaseManifest: URL?, unisonctl: URL,
                            epoch: Int64, ollama: OllamaPlacement? = nil) throws -> InstallPlan {
        var options = InstallOptions(mode: mode, version: SemVer(version), channel: nil, modelPack: modelPack,
                                     releaseManifest: releaseManifest, unisonctlBinary: unisonctl,
                                     specText: specText, secrets: .atFirstBoot, ollama: ollama, mtime: epoch)
        // A version that is not SemVer (a nightly build id) still names the artifacts but pins
        // images by the spec's version.
        if options.version == nil { options.version = spec.platform.version }
        return try InstallPlan.make(spec: spec, options: options)
    }
}

extension PlatformOverlay {
    /// Everything an image gets on top of its base: the install plan, then the plan's model
    /// pack pulled into the Ollama store (`modelRegistry` as a mirror). `workDir` holds the
    /// pulled store until the image is written; the caller removes it.
    public static func overlay(spec: PlatformSpec, specText: String?, mode: InstallMode, version: String,
                               modelPack: String?, modelRegistry: String?, releaseManifest: URL?, unisonctl: URL,
                               epoch: Int64, workDir: URL, ollama: OllamaPlacement? = nil,
                               serviceImages: ServiceImagePreload.Request? = nil) async throws -> any RootfsOverlay {
        let plan = try plan(spec: spec, specText: specText, mode: mode, version: version, modelPack: modelPack,
                            releaseManifest: releaseManifest, unisonctl: unisonctl, epoch: epoch, ollama: ollama)
        var overlays: [any RootfsOverlay] = [plan]
        if let store = try await ModelPreload.pull(spec: spec, pack: plan.modelPack, mirror: modelRegistry, workDir: workDir) {
            overlays.append(ModelStoreOverlay(store: store, destination: spec.models.store, mtime: epoch))
        }
        if let serviceImages {  // targets.<t>.images: preload (ServiceImagePreload.swift)
            let store = try await ServiceImagePreload.pull(plan: plan, spec: spec, ollama: ollama ?? .container, request: serviceImages, workDir: workDir)
            overlays.append(ServiceImagePreload.overlay(store: store, layout: plan.layout, mtime: epoch))
        }
        return ComposedOverlay(overlays)
    }
}
