import FoundationEssentials
import UnisonCore
import UnisonSpec

/// `unisonos-manifest-<v>.json` in the schema the project's release tooling writes and
/// unison-updates reads: `unison.platform.release.manifest.v1` (unison-platform
/// `scripts/generate_release_manifest.py` writes it; unison-updates `src/main.py` reads
/// `release.version`, `release.channel`, `compose.images_pinned`, `compose.images_resolved`,
/// `model_packs.default_profile` and counts `assets`). The JSON Schema is
/// `docs/schemas/unison.platform.release.manifest.v1.schema.json`. Keys are sorted when written.
package struct ReleaseManifest: Sendable, Equatable, Codable {
    package static let schemaID = "unison.platform.release.manifest.v1"

    package struct Git: Sendable, Equatable, Codable {
        package var repo: String
        package var commit: String
    }

    package struct Release: Sendable, Equatable, Codable {
        /// `v0.5.0-alpha.1`: the release tag.
        package var version: String
        /// `alpha`, `beta`, `stable`: what unison-updates reports as the device's channel.
        package var channel: String
        /// From SOURCE_DATE_EPOCH (`2023-11-14T22:13:20Z`), so rebuilding gives the same bytes.
        package var builtAt: String
        package var git: Git
        enum CodingKeys: String, CodingKey { case version, channel, builtAt = "built_at", git }
    }

    package struct Asset: Sendable, Equatable, Codable {
        package var sizeBytes: Int64
        package var sha256: String
        enum CodingKeys: String, CodingKey { case sizeBytes = "size_bytes", sha256 }
    }

    /// How one service's image was pinned (the generator's `images_resolved` entry); `source`
    /// is `registry` here (the generator's is `local-docker`).
    package struct ResolvedImage: Sendable, Equatable, Codable {
        package var requestedRef: String
        package var resolvedRef: String
        package var pinnedRef: String
        /// The image's config digest when known; empty when only the manifest digest was asked.
        package var imageID: String
        package var repoDigests: [String]
        package var repoTags: [String]
        package var source: String
        enum CodingKeys: String, CodingKey {
            case requestedRef = "requested_ref", resolvedRef = "resolved_ref", pinnedRef = "pinned_ref", imageID = "image_id"
            case repoDigests = "repo_digests", repoTags = "repo_tags", source
        }
    }

    package struct Compose: Sendable, Equatable, Codable {
        /// Compose file path → sha256 hex.
        package var files: [String: String]
        /// Compose service → image reference as the compose file names it (`image:tag`).
        package var imagesFromCompose: [String: String]
        /// Compose service → `image:tag@sha256:…`: what unison-updates plans switches with.
        package var imagesPinned: [String: String]
        package var imagesResolved: [String: ResolvedImage]
        enum CodingKeys: String, CodingKey {
            case files, imagesFromCompose = "images_from_compose", imagesPinned = "images_pinned", imagesResolved = "images_resolved"
        }
    }

    package struct Pack: Sendable, Equatable, Codable {
        package var name: String
        package var description: String
        package var preload: [String]
        package var ramGBMin: Int
        package var diskGBMin: Int
        enum CodingKeys: String, CodingKey { case name, description, preload, ramGBMin = "ram_gb_min", diskGBMin = "disk_gb_min" }
    }

    package struct ModelPacks: Sendable, Equatable, Codable {
        /// `alpha/default`: the profile unison-updates offers as the target pack.
        package var defaultProfile: String
        /// sha256 of the profile's canonical JSON (the generator hashes the profile file).
        package var profileManifestSHA256: String
        /// The spec's packs (an addition; the generator and the reader ignore it).
        package var packs: [Pack]
        enum CodingKeys: String, CodingKey { case defaultProfile = "default_profile", profileManifestSHA256 = "profile_manifest_sha256", packs }
    }

    package struct Requirements: Sendable, Equatable, Codable {
        package var cpuCoresMin: Int
        package var ramGBMin: Int
        package var diskGBMin: Int
        package var notes: String
        enum CodingKeys: String, CodingKey { case cpuCoresMin = "cpu_cores_min", ramGBMin = "ram_gb_min", diskGBMin = "disk_gb_min", notes }
    }

    package var schemaVersion = ReleaseManifest.schemaID
    package var release: Release
    /// Release file name → size and sha256.
    package var assets: [String: Asset]
    package var compose: Compose
    package var modelPacks: ModelPacks
    package var requirements: Requirements

    enum CodingKeys: String, CodingKey {
        case schemaVersion = "schema_version", release, assets, compose, modelPacks = "model_packs", requirements
    }

    package static func fileName(version: String) -> String { "unisonos-manifest-\(version).json" }
}

/// Inputs of `release manifest`.
package struct ManifestRequest: Sendable {
    package var version: SemVer
    package var channel: String?
    package var commit: String
    /// Service → `sha256:<hex>`.
    package var digests: [String: String]
    /// Service → tag (`v1.2.3`).
    package var serviceTags: [String: String]
    package var artifactsDirectory: URL
    package var sourceDateEpoch: Int64
    /// Compose files whose sha256 the manifest records (name as given → hash).
    package var composeFiles: [URL]
    /// `alpha/default` unless given: the model pack profile devices are offered.
    package var modelPackProfile: String?

    package init(
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
