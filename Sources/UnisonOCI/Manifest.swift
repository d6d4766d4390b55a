// OCI image spec 1.1 documents (opencontainers/image-spec `descriptor.md`, `manifest.md`,
// `image-index.md`, `config.md`, `manifest.md#guidelines-for-artifact-usage`) and the Docker
// v2 schema 2 types, which share the same JSON shape (Docker Hub and Ollama still serve them).
//
// Fetched manifests are kept as the exact bytes the registry returned: their digest is over
// those bytes, so copies and promotions move bytes and only parse them to walk descriptors.
import FoundationEssentials
import UnisonCore

package enum MediaType {
    package static let ociManifest = "application/vnd.oci.image.manifest.v1+json"
    package static let ociIndex = "application/vnd.oci.image.index.v1+json"
    package static let ociConfig = "application/vnd.oci.image.config.v1+json"
    package static let ociLayerTar = "application/vnd.oci.image.layer.v1.tar"
    package static let ociLayerTarGzip = "application/vnd.oci.image.layer.v1.tar+gzip"
    package static let ociLayerTarZstd = "application/vnd.oci.image.layer.v1.tar+zstd"
    /// The empty descriptor's type; its content is the two bytes `{}`.
    package static let ociEmpty = "application/vnd.oci.empty.v1+json"
    package static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
    package static let dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
    package static let dockerConfig = "application/vnd.docker.container.image.v1+json"
    package static let dockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip"
    package static let octetStream = "application/octet-stream"

    /// Every manifest type this client reads, for `Accept` (docker-registry answers 404 to a
    /// manifest GET that does not list the OCI types).
    package static let manifestTypes = [ociManifest, ociIndex, dockerManifest, dockerManifestList]
    package static let indexTypes: Set<String> = [ociIndex, dockerManifestList]
    package static let imageManifestTypes: Set<String> = [ociManifest, dockerManifest]
}

/// The platform an index entry is built for.
package struct Platform: Codable, Sendable, Hashable, CustomStringConvertible {
    package var architecture: String
    package var os: String
    package var variant: String?
    package var osVersion: String?
    package var osFeatures: [String]?

    enum CodingKeys: String, CodingKey {
        case architecture, os, variant
        case osVersion = "os.version"
        case osFeatures = "os.features"
    }

    package init(os: String, architecture: String, variant: String? = nil) {
        self.os = os
        self.architecture = architecture
        self.variant = variant
    }

    /// Parses `os/arch[/variant]`, e.g. `linux/amd64`, `linux/arm64/v8`.
    package init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard (2...3).contains(parts.count), parts.allSatisfy({ !$0.isEmpty }) else { return nil }
        self.init(os: parts[0], architecture: parts[1], variant: parts.count == 3 ? parts[2] : nil)
    }

    package var description: String { "\(os)/\(architecture)" + (variant.map { "/\($0)" } ?? "") }

    /// Whether an index entry's platform satisfies this request (variant only when asked for).
    package func matches(_ other: Platform) -> Bool {
        os == other.os && architecture == other.architecture && (variant == nil || variant == other.variant)
    }
}

/// A content descriptor: what a manifest says about a blob or another manifest.
package struct Descriptor: Codable, Sendable, Hashable {
    package var mediaType: String
    package var digest: Digest
    package var size: Int64
    package var urls: [String]?
    package var annotations: [String: String]?
    package var data: String?
    package var platform: Platform?
    package var artifactType: String?

    package init(
        mediaType: String, digest: Digest, size: Int64, annotations: [String: String]? = nil,
        platform: Platform? = nil, artifactType: String? = nil
    ) {
        self.mediaType = mediaType
        self.digest = digest
        self.size = size
        self.annotations = annotations
        self.platform = platform
        self.artifactType = artifactType
    }

    /// The largest size a descriptor may state (1 PiB): sizes come from manifests, which come
    /// from anyone; bounding them here keeps every later offset and sum in range.
    package static let maxSize: Int64 = 1 << 50

    enum CodingKeys: String, CodingKey {
        case mediaType, digest, size, urls, annotations, data, platform, artifactType
    }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        mediaType = try c.decode(String.self, forKey: .mediaType)
        digest = try c.decode(Digest.self, forKey: .digest)
        size = try c.decode(Int64.self, forKey: .size)
        guard size >= 0, size <= Self.maxSize else {
            throw DecodingError.dataCorruptedError(
                forKey: .size, in: c,
                debugDescription: "size \(size) of \(digest) is outside 0...2^50")
        }
        urls = try c.decodeIfPresent([String].self, forKey: .urls)
        annotations = try c.decodeIfPresent([String: String].self, forKey: .annotations)
        data = try c.decodeIfPresent(String.self, forKey: .data)
        platform = try c.decodeIfPresent(Platform.self, forKey: .platform)
        artifactType = try c.decodeIfPresent(String.self, forKey: .artifactType)
    }

    /// The sum of `descriptors`' sizes, or an error naming `what` when it does not fit Int64.
    package static func totalSize(_ descriptors: some Sequence<Descriptor>, what: String) throws -> Int64 {
        var total: Int64 = 0
        for d in descriptors {
            guard d.size >= 0 else {
                throw OCIError.malformedManifest(reference: what, reason: "\(d.digest) has a negative size (\(d.size))")
            }
            let (sum, overflow) = total.addingReportingOverflow(d.size)
            guard !overflow else {
                throw OCIError.malformedManifest(reference: what, reason: "the sizes of its blobs add up to more than 2^63-1 bytes")
            }
            total = sum
        }
        return total
    }

    /// The empty JSON object `{}` as a descriptor: the config of artifacts without one.
    package static let empty = Descriptor(mediaType: MediaType.ociEmpty, digest: Digest.sha256(of: emptyJSON), size: 2)
    package static let emptyJSON = Data("{}".utf8)
}

/// An image manifest (OCI or Docker v2 schema 2), artifacts included.
package struct ImageManifest: Codable, Sendable, Hashable {
    package var schemaVersion: Int
    package var mediaType: String?
    package var artifactType: String?
    package var config: Descriptor
    package var layers: [Descriptor]
    package var subject: Descriptor?
    package var annotations: [String: String]?

    package init(
        mediaType: String = MediaType.ociManifest, artifactType: String? = nil, config: Descriptor,
        layers: [Descriptor], subject: Descriptor? = nil, annotations: [String: String]? = nil
    ) {
        schemaVersion = 2
        self.mediaType = mediaType
        self.artifactType = artifactType
        self.config = config
        self.layers = layers
        self.subject = subject
        self.annotations = annotations
    }
}

/// An image index (OCI) or manifest list (Docker).
package struct ImageIndex: Codable, Sendable, Hashable {
    package var schemaVersion: Int
    package var mediaType: String?
    package var artifactType: String?
    package var manifests: [Descriptor]
    package var subject: Descriptor?
    package var annotations: [String: String]?

    package init(mediaType: String = MediaType.ociIndex, manifests: [Descriptor], annotations: [String: String]? = nil) {
        schemaVersion = 2
        self.mediaType = mediaType
        self.manifests = manifests
        self.annotations = annotations
    }
}

/// The parts of an image config `inspect` shows (the config blob itself is copied as bytes).
package struct ImageConfigSummary: Codable, Sendable, Hashable {
    package struct RootFS: Codable, Sendable, Hashable {
        package var type: String?
        package var diffIDs: [String]?
        enum CodingKeys: String, CodingKey {
            case type
            case diffIDs = "diff_ids"
        }
    }

    package var architecture: String?
    package var os: String?
    package var variant: String?
    package var created: String?
    package var rootfs: RootFS?
}

/// A parsed manifest document with the exact bytes it came from.
package struct ManifestDocument: Sendable {
    package enum Content: Sendable {
        case image(ImageManifest)
        case index(ImageIndex)
    }

    package let bytes: Data
    package let digest: Digest
    package let mediaType: String
    package let content: Content

    /// Parses `bytes`, taking the media type from the document, else from `contentType` (the
    /// HTTP header or the referring descriptor). Docker schema 1 is refused.
    package init(bytes: Data, contentType: String?, reference: String) throws {
        struct Probe: Decodable {
            var schemaVersion: Int?
            var mediaType: String?
            var manifests: [Descriptor]?
            var config: Descriptor?
        }
        let probe: Probe
        do { probe = try JSONDecoder().decode(Probe.self, from: bytes) } catch {
            throw OCIError.malformedManifest(reference: reference, reason: Self.describe(error))
        }
        guard probe.schemaVersion == 2 else {
            throw OCIError.malformedManifest(
                reference: reference,
                reason: "schemaVersion \(probe.schemaVersion.map(String.init) ?? "missing") is not supported (Docker schema 1 manifests are not)")
        }
        let header = contentType.map { $0.split(separator: ";").first.map { $0.trimming(.whitespaces) } ?? $0 }
        let isIndex = probe.manifests != nil && probe.config == nil
        let type =
            probe.mediaType ?? header.flatMap { MediaType.manifestTypes.contains($0) ? $0 : nil }
            ?? (isIndex ? MediaType.ociIndex : MediaType.ociManifest)
        do {
            if MediaType.indexTypes.contains(type) || (isIndex && !MediaType.imageManifestTypes.contains(type)) {
                content = .index(try JSONDecoder().decode(ImageIndex.self, from: bytes))
            } else {
                content = .image(try JSONDecoder().decode(ImageManifest.self, from: bytes))
            }
        } catch {
            throw OCIError.malformedManifest(reference: reference, reason: Self.describe(error))
        }
        self.bytes = bytes
        self.mediaType = type
        digest = Digest.sha256(of: bytes)
    }

    /// A document built here, encoded once so its bytes and digest agree.
    package init(image: ImageManifest) throws {
        let data = try Self.encode(image)
        bytes = data
        digest = Digest.sha256(of: data)
        mediaType = image.mediaType ?? MediaType.ociManifest
        content = .image(image)
    }

    package init(index: ImageIndex) throws {
        let data = try Self.encode(index)
        bytes = data
        digest = Digest.sha256(of: data)
        mediaType = index.mediaType ?? MediaType.ociIndex
        content = .index(index)
    }

    package var descriptor: Descriptor {
        var d = Descriptor(mediaType: mediaType, digest: digest, size: Int64(bytes.count))
        if case let .image(m) = content { d.artifactType = m.artifactType }
        if case let .index(i) = content { d.artifactType = i.artifactType }
        return d
    }

    /// Compact JSON with sorted keys: stable bytes for documents this tool writes.
    static func encode<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    static func describe(_ error: Error) -> String {
        switch error {
        case let DecodingError.dataCorrupted(ctx):
            return ctx.codingPath.isEmpty ? "invalid JSON: \(ctx.debugDescription)" : "\(ctx.debugDescription) at \(path(ctx.codingPath))"
        case let DecodingError.keyNotFound(key, ctx): return "missing field '\(key.stringValue)' at \(path(ctx.codingPath))"
        case let DecodingError.typeMismatch(_, ctx): return "wrong type at \(path(ctx.codingPath)): \(ctx.debugDescription)"
        case let DecodingError.valueNotFound(_, ctx): return "missing value at \(path(ctx.codingPath))"
        default: return "\(error)"
        }
    }

    private static func path(_ keys: [CodingKey]) -> String {
        keys.isEmpty ? "top level" : keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
    }
}
