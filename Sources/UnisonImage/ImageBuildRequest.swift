import FoundationEssentials
import UnisonCore
import UnisonInstall
import UnisonSpec

/// The version an image carries, kept as one value: its text names the artifacts (a nightly
/// build id is allowed) and its SemVer, when it is one, pins the platform's images.
package struct ImageVersion: Sendable, Equatable, CustomStringConvertible, ExpressibleByStringLiteral {
    package let text: String
    package let semver: SemVer?

    package init(_ text: String) {
        self.text = text
        semver = SemVer(text)
    }

    package init(_ semver: SemVer) {
        text = semver.description
        self.semver = semver
    }

    package init(stringLiteral value: String) { self.init(value) }

    package var description: String { text }

    /// Letters, digits and `. _ + -`, not starting with a dot: the one check of a version
    /// that goes into artifact names, made before any work.
    package func check() throws {
        let allowed = ScalarSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-")
        guard !text.isEmpty, !text.hasPrefix("."), text.unicodeScalars.allSatisfy(allowed.contains) else {
            throw VMError.badVersion(text)
        }
    }
}

/// What the shared head installs on the base: the install plan for `mode`, the model pack's
/// models, the answers file. Resolved once from the spec and the command line.
package struct ImagePlatform: Sendable {
    package var spec: PlatformSpec
    /// The spec's text as read, installed in the image.
    package var specText: String?
    package var mode: InstallMode
    /// Checked against the spec when the request was made.
    package var modelPack: ModelPack
    /// Where model blobs come from (a mirror, or the spec's `models.registry`).
    package var modelRegistry: String
    package var releaseManifest: URL?
    package var unisonctl: URL
    package var ollama: OllamaPlacement?
    /// A checked answers file and where first boot reads it (installed 0600).
    package var answers: (path: String, text: String)?
    /// Set when the stack's service images are preloaded into the image (`targets.*.images`).
    package var serviceImages: ServiceImagePreload.Request?

    package init(
        spec: PlatformSpec, specText: String?, mode: InstallMode, modelPack: ModelPack, modelRegistry: String,
        releaseManifest: URL?, unisonctl: URL, ollama: OllamaPlacement?, answers: (path: String, text: String)? = nil,
        serviceImages: ServiceImagePreload.Request? = nil
    ) {
        self.spec = spec
        self.specText = specText
        self.mode = mode
        self.modelPack = modelPack
        self.modelRegistry = modelRegistry
        self.releaseManifest = releaseManifest
        self.unisonctl = unisonctl
        self.ollama = ollama
        self.answers = answers
        self.serviceImages = serviceImages
    }
}

/// One image build, resolved once: nothing after it reads the spec's defaults. The shared
/// head (`ImagePipeline`) makes the root from `base`, `platform` and `overlay`; each of
/// `targets` writes its artifacts from that root.
package struct ImageBuildRequest: Sendable {
    package var base: BaseSource
    package var version: ImageVersion
    /// SOURCE_DATE_EPOCH: every timestamp is clamped to it.
    package var epoch: Int64
    package var outputDirectory: URL
    package var cacheDir: URL
    /// `<prefix>-<target>-<version>.<ext>`: the platform's name (`unisonos`).
    package var artifactPrefix: String
    /// The platform's display name (`UnisonOS`): boot entries, partition names.
    package var title: String
    package var threads: Int
    /// nil: the base alone (a test's tree, or an ISO carrying a disk built elsewhere).
    package var platform: ImagePlatform?
    /// Applied after the head's steps (tests, an image's own additions).
    package var overlay: (any RootfsOverlay)?
    /// Ollama model stores of the root, listed in the SBOM.
    package var modelStores: [String]
    /// Write `<artifact>.spdx.json` beside each artifact.
    package var writeSBOM = true
    /// The targets one run builds from the same root, in order (an ISO after a VM reuses its disk).
    package var targets: [any ImageTarget]

    package init(
        base: BaseSource, outputDirectory: URL, version: ImageVersion, epoch: Int64 = SourceDateEpoch.current(),
        cacheDir: URL = BaseCache.directory(), artifactPrefix: String = "unisonos", title: String = "UnisonOS",
        threads: Int = ProcessInfo.processInfo.activeProcessorCount, platform: ImagePlatform? = nil,
        overlay: (any RootfsOverlay)? = nil, modelStores: [String] = [], targets: [any ImageTarget] = []
    ) {
        self.base = base
        self.outputDirectory = outputDirectory
        self.version = version
        self.epoch = epoch
        self.cacheDir = cacheDir
        self.artifactPrefix = artifactPrefix
        self.title = title
        self.threads = threads
        self.platform = platform
        self.overlay = overlay
        self.modelStores = modelStores
        self.targets = targets
    }

    /// `<prefix>-<kind>-<version>.<ext>` in the output directory, refused when it would not be a
    /// plain file there.
    func artifactURL(_ kind: String, _ ext: String) throws -> URL {
        try ArtifactPath.destination(in: outputDirectory, name: "\(artifactPrefix)-\(kind)-\(version.text).\(ext)")
    }
}
