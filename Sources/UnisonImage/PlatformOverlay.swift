import Foundation
import UnisonArchive
import UnisonCore
import UnisonInstall
import UnisonSpec

/// An install plan is an overlay: images are installed by the same plan a host install runs,
/// applied to the image's FileTree instead of a directory.
extension InstallPlan: RootfsOverlay {}

/// One step of the shared head: what it adds to the root, after the base is loaded and before
/// any target's own changes. Steps run in `ImageHead.steps` order, once per build.
package protocol ImageHeadStep: Sendable {
    func apply(to tree: inout FileTree, context: inout ImageHeadContext) async throws
}

/// The platform part of every image, in order: the install plan, the model pack's models,
/// then the answers file. A new step (service images preloaded beside the models) is one
/// more entry here, after `ModelPreloadStep`.
package enum ImageHead {
    package static let steps: [any ImageHeadStep] = [
        InstallPlanStep(),
        ModelPreloadStep(),
        ServiceImagePreloadStep(),
        AnswersStep(),
    ]
}

/// The install plan for the image's mode, with secrets left to first boot (each machine gets
/// its own) and the spec and `unisonctl` installed.
package struct InstallPlanStep: ImageHeadStep {
    package init() {}

    package func apply(to tree: inout FileTree, context: inout ImageHeadContext) async throws {
        try context.installPlan().apply(to: &tree)
    }
}

/// The model pack pulled into an Ollama store under the work directory (every blob verified)
/// and placed at the spec's `models.store`.
package struct ModelPreloadStep: ImageHeadStep {
    package init() {}

    package func apply(to tree: inout FileTree, context: inout ImageHeadContext) async throws {
        let platform = context.platform
        guard
            let store = try await ModelPreload.pull(
                spec: platform.spec, pack: platform.modelPack,
                mirror: platform.modelRegistry, workDir: context.workDir)
        else { return }
        try ModelStoreOverlay(store: store, destination: platform.spec.models.store, mtime: context.request.epoch).apply(to: &tree)
    }
}

/// The stack's service images pulled into one OCI layout under the work directory (every blob
/// verified) and placed at the install layout's image store, with the loader first boot runs
/// (`ServiceImagePreload`); only when the target preloads.
package struct ServiceImagePreloadStep: ImageHeadStep {
    package init() {}

    package func apply(to tree: inout FileTree, context: inout ImageHeadContext) async throws {
        let platform = context.platform
        guard var preload = platform.serviceImages else { return }
        if let status = context.status { preload.log = { status("image preload: \($0)") } }
        let plan = try context.installPlan()
        let store = try await ServiceImagePreload.pull(
            plan: plan, spec: platform.spec, ollama: platform.ollama ?? .container,
            request: preload, workDir: context.workDir)
        try ServiceImagePreload.overlay(store: store, layout: plan.layout, mtime: context.request.epoch).apply(to: &tree)
    }
}

/// The checked answers file where first boot reads it, root-only: it names users and may hold
/// password hashes.
package struct AnswersStep: ImageHeadStep {
    package init() {}

    package func apply(to tree: inout FileTree, context: inout ImageHeadContext) async throws {
        guard let answers = context.platform.answers else { return }
        try tree.addFile(String(answers.path.drop { $0 == "/" }), answers.text, mode: 0o600, mtime: context.request.epoch)
    }
}

package enum PlatformOverlay {
    /// The install plan of `platform`. A version that is not SemVer (a nightly build id) still
    /// names the artifacts but pins images by the spec's version.
    package static func plan(_ platform: ImagePlatform, version: ImageVersion, epoch: Int64) throws -> InstallPlan {
        let options = InstallOptions(
            mode: platform.mode, version: version.semver ?? platform.spec.platform.version, channel: nil,
            modelPack: platform.modelPack.name, releaseManifest: platform.releaseManifest,
            unisonctlBinary: platform.unisonctl, specText: platform.specText, secrets: .atFirstBoot,
            ollama: platform.ollama, mtime: epoch)
        return try InstallPlan.make(spec: platform.spec, options: options)
    }
}
