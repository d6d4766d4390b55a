import Foundation
import UnisonCore
import UnisonSpec

/// `unisonos-manifest-<v>.json` in the schema the project's release tooling writes and
/// unison-updates reads: `unison.platform.release.manifest.v1` (unison-platform
/// `scripts/generate_release_manifest.py` writes it; unison-updates `src/main.py` reads
/// `release.version`, `release.channel`, `compose.images_pinned`, `compose.images_resolved`,
/// `model_packs.default_profile` and counts `assets`). The JSON Schema is
/// `docs/schemas/unison.platform.release.manifest.v1.schema.json`. Keys are sorted when written.
public struct ReleaseManifest: Sendable, Equatable, Codable {
    public static let schemaID = "unison.platform.release.manifest.v1"

    public struct Git: Sendable, Equatable, Codable {
        public var repo: String
        public var commit: String
    }

    public struct Release: Sendable, Equatable, Codable {
        /// `v0.5.0-alpha.1`: the release tag.
        public var version: String
        /// `alpha`, `beta`, `stable`: what unison-updates reports as the device's channel.
        public var channel: String
        /// From SOURCE_DATE_EPOCH (`2023-11-14T22:13:20Z`), so rebuilding gives the same bytes.
        public var builtAt: String
        public var git: Git
        enum CodingKeys: String, CodingKey { case version, channel, builtAt = "built_at", git }
    }

    public struct Asset: Sendable, Equatable, Codable {
        public var sizeBytes: Int64
        public var sha256: String
        enum CodingKeys: String, CodingKey { case sizeBytes = "size_bytes", sha256 }
    }

    /// How one service's image was pinned (the generator's `images_resolved` entry); `source`
    /// is `registry` here (the generator's is `local-docker`).
    public struct ResolvedImage: Sendable, Equatable, Codable {
        public var requestedRef: String
        public var resolvedRef: String
        public var pinnedRef: String
        /// The image's config digest when known; empty when only the manifest digest was asked.
        public var imageID: String
        public var repoDigests: [String]
        public var repoTags: [String]
        public var source: String
        enum CodingKeys: String, CodingKey {
            case requestedRef = "requested_ref", resolvedRef = "resolved_ref", pinnedRef = "pinned_ref", imageID = "image_id"
            case repoDigests = "repo_digests", repoTags = "repo_tags", source
        }
    }

    public struct Compose: Sendable, Equatable, Codable {
        /// Compose file path → sha256 hex.
        public var files: [String: String]
        /// Compose service → image reference as the compose file names it (`image:tag`).
        public var imagesFromCompose: [String: String]
        /// Compose service → `image:tag@sha256:…`: what unison-updates plans switches with.
        public var imagesPinned: [String: String]
        public var imagesResolved: [String: ResolvedImage]
        enum CodingKeys: String, CodingKey {
            case files, imagesFromCompose = "images_from_compose", imagesPinned = "images_pinned", imagesResolved = "images_resolved"
        }
    }

    public struct Pack: Sendable, Equatable, Codable {
        public var name: String
        public var description: String
        public var preload: [String]
        public var ramGBMin: Int
        public var diskGBMin: Int
        enum CodingKeys: String, CodingKey { case name, description, preload, ramGBMin = "ram_gb_min", diskGBMin = "disk_gb_min" }
    }

    public struct ModelPacks: Sendable, Equatable, Codable {
        /// `alpha/default`: the profile unison-updates offers as the target pack.
        public var defaultProfile: String
        /// sha256 of the profile's canonical JSON (the generator hashes the profile file).
        public var profileManifestSHA256: String
        /// The spec's packs (an addition; the generator and the reader ignore it).
        public var packs: [Pack]
        enum CodingKeys: String, CodingKey { case defaultProfile = "default_profile", profileManifestSHA256 = "profile_manifest_sha256", packs }
    }

    public struct Requirements: Sendable, Equatable, Codable {
        public var cpuCoresMin: Int
        public var ramGBMin: Int
        public var diskGBMin: Int
        public var notes: String
        enum CodingKeys: String, CodingKey { case cpuCoresMin = "cpu_cores_min", ramGBMin = "ram_gb_min", diskGBMin = "disk_gb_min", notes }
    }

    public var schemaVersion = ReleaseManifest.schemaID
    public var release: Release
    /// Release file name → size and sha256.
    public var assets: [String: Asset]
    public var compose: Compose
    public var modelPacks: ModelPacks
    public var requirements: Requirements

    enum CodingKeys: String, CodingKey {
        case schemaVersion = "schema_version", release, assets, compose, modelPacks = "model_packs", requirements
    }

    public static func fileName(version: String) -> String { "unisonos-manifest-\(version).json" }
}

/// Inputs of `release manifest`.
public struct ManifestRequest: Sendable {
    public var version: SemVer
    public var channel: String?
    public var commit: String
    /// Service → `sha256:<hex>`.
    public var digests: [String: String]
    /// Service → tag (`v1.2.3`).
    public var serviceTags: [String: String]
    public var artifactsDirectory: URL
    public var sourceDateEpoch: Int64
    /// Compose files whose sha256 the manifest records (name as given → hash).
    public var composeFiles: [URL]
    /// `alpha/default` unless given: the model pack profile devices are offered.
    public var modelPackProfile: String?

    public init(
        version: SemVer, channel: String? = nil, commit: String, digests: [String: String], serviceTags: [String: String],
        artifactsDirectory: URL, sourceDateEpoch: Int64, composeFiles: [URL] = [], modelPackProfile: String? = nil
    ) {
        self.version = version
        self.channel = channel
        self.commit = commit
        self.digests = digests
        self.serviceTags = serviceTags
        self.artifactsDirectory = artifactsDirectory
        self.sourceDateEpoch = sourceDateEpoch
        self.composeFiles = composeFiles
        self.modelPackProfile = modelPackProfile
    }
}
