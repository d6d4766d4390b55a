import Foundation
import UnisonCore
import UnisonSpec

/// `unisonos-manifest-<v>.json`: what a platform release is made of, for installers and
/// for people. Versioned by `schema`; keys are sorted when written.
public struct ReleaseManifest: Sendable, Equatable, Codable {
    public static let schemaID = "unisonos.release-manifest/v1"

    public struct ServiceImage: Sendable, Equatable, Codable {
        public var name: String
        public var image: String
        public var tag: String
        public var digest: String
        /// `image:tag@digest`: what compose files pin.
        public var reference: String
    }

    public struct InfrastructureImage: Sendable, Equatable, Codable {
        public var name: String
        public var image: String
    }

    public struct ModelPackEntry: Sendable, Equatable, Codable {
        public var name: String
        public var description: String
        public var preload: [String]
        public var minRam: String
        public var minDisk: String
    }

    public struct Artifact: Sendable, Equatable, Codable {
        public var name: String
        public var size: Int64
        public var sha256: String
    }

    public struct Requirements: Sendable, Equatable, Codable {
        public var os: String
        public var architecture: String
        /// The smallest model pack's needs: the floor for any install.
        public var minRam: String
        public var minDisk: String
    }

    public var schema = ReleaseManifest.schemaID
    public var platform: String
    public var version: String
    public var channel: String
    public var commit: String
    /// From SOURCE_DATE_EPOCH, so rebuilding gives the same bytes.
    public var created: String
    public var services: [ServiceImage]
    public var infrastructure: [InfrastructureImage]
    public var modelPacks: [ModelPackEntry]
    public var artifacts: [Artifact]
    public var requirements: Requirements

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

    public init(version: SemVer, channel: String? = nil, commit: String, digests: [String: String], serviceTags: [String: String],
                artifactsDirectory: URL, sourceDateEpoch: Int64) {
        self.version = version
        self.channel = channel
        self.commit = commit
        self.digests = digests
        self.serviceTags = serviceTags
        self.artifactsDirectory = artifactsDirectory
        self.sourceDateEpoch = sourceDateEpoch
    }
}
