import Foundation
import UnisonCore
import UnisonInstall
import UnisonSpec

/// The version an image carries, kept as one value: its text names the artifacts (a nightly
/// build id is allowed) and its SemVer, when it is one, pins the platform's images.
public struct ImageVersion: Sendable, Equatable, CustomStringConvertible, ExpressibleByStringLiteral {
    public let text: String
    public let semver: SemVer?

    public init(_ text: String) {
        self.text = text
        semver = SemVer(text)
    }

    public init(_ semver: SemVer) {
        text = semver.description
        self.semver = semver
    }

    public init(stringLiteral value: String) { self.init(value) }

    public var description: String { text }

    /// Letters, digits and `. _ + -`, not starting with a dot: the one check of a version
    /// that goes into artifact names, made before any work.
    public func check() throws {
        let allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-")
        guard !text.isEmpty, !text.hasPrefix("."), text.unicodeScalars.allSatisfy(allowed.contains) else {
            throw VMError.badVersion(text)
        }
    }
}

/// What the shared head installs on the base: the install plan for `mode`, the model pack's
/// models, the answers file. Resolved once from the spec and the command line.
public struct ImagePlatform: Sendable {
    public var spec: PlatformSpec
    /// The spec's text as read, installed in the image.
    public var specText: String?
    public var mode: InstallMode
    /// Checked against the spec when the request was made.
    public var modelPack: ModelPack
    /// Where model blobs come from (a mirror, or the spec's `models.registry`).
    public var modelRegistry: String
    public var releaseManifest: URL?
    public var unisonctl: URL
    public var ollama: OllamaPlacement?
    /// A checked answers file and where first boot reads it (installed 0600).
    public var answers: (path: String, text: String)?
    /// Set when the stack's service images are preloaded into the image (`targets.*.images`).
    public var serviceImages: ServiceImagePreload.Request?

    public init(
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
public struct ImageBuildRequest: Sendable {
    public var base: BaseSource
    public var version: ImageVersion
    /// SOURCE_DATE_EPOCH: every timestamp is clamped to it.
    public var epoch: Int64
    public var outputDirectory: URL
    public var cacheDir: URL
    /// `<prefix>-<target>-<version>.<ext>`: the platform's name (`unisonos`).
    public var artifactPrefix: String
    /// The platform's display name (`UnisonOS`): boot entries, partition names.
    public var title: String
    public var threads: Int
    /// nil: the base alone (a test's tree, or an ISO carrying a disk built elsewhere).
    public var platform: ImagePlatform?
    /// Applied after the head's steps (tests, an image's own additions).
    public var overlay: (any RootfsOverlay)?
    /// Ollama model stores of the root, listed in the SBOM.
    public var modelStores: [String]
    /// Write `<artifact>.spdx.json` beside each artifact.
    public var writeSBOM = true
    /// The targets one run builds from the same root, in order (an ISO after a VM reuses its disk).
    public var targets: [any ImageTarget]

    public init(
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
