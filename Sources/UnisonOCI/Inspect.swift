// `inspect`: what a reference points to, for people and for `--json`.
import FoundationEssentials

package struct InspectReport: Sendable, Codable, Equatable {
    package var schema = "unisonctl.oci-inspect/v1"
    package var reference: String
    package var digest: Digest
    package var mediaType: String
    package var size: Int64
    package var artifactType: String?
    package var config: Descriptor?
    /// OS, architecture and creation time from the image config (images only).
    package var platform: String?
    package var created: String?
    package var layers: [Descriptor]?
    /// Index entries (indexes only).
    package var manifests: [Descriptor]?
    package var subject: Descriptor?
    package var annotations: [String: String]?
    /// The manifest itself, exactly as stored, when asked for.
    package var raw: String?

    /// Plain-text lines for a terminal.
    package var lines: [String] {
        var out = ["\(reference)", "  digest:     \(digest)", "  media type: \(mediaType)", "  size:       \(size)"]
        if let artifactType { out.append("  artifact:   \(artifactType)") }
        if let platform { out.append("  platform:   \(platform)") }
        if let created { out.append("  created:    \(created)") }
        if let config { out.append("  config:     \(config.digest) (\(config.mediaType), \(config.size) bytes)") }
        for layer in layers ?? [] {
            let title = layer.annotations?["org.opencontainers.image.title"].map { " \($0)" } ?? ""
            out.append("  layer:      \(layer.digest) \(layer.size) bytes \(layer.mediaType)\(title)")
        }
        for m in manifests ?? [] {
            out.append("  manifest:   \(m.digest) \(m.platform?.description ?? m.artifactType ?? m.mediaType)")
        }
        if let subject { out.append("  subject:    \(subject.digest)") }
        for (k, v) in (annotations ?? [:]).sorted(by: { $0.key < $1.key }) { out.append("  annotation: \(k)=\(v)") }
        return out
    }
}

extension RegistryClient {
    /// Describes the manifest or index at `location`, reading the image config for images.
    package func inspect(_ location: ImageLocation, includeRaw: Bool = false) async throws -> InspectReport {
        let document: ManifestDocument
        var configData: Data?
        switch location {
        case let .registry(ref):
            _ = try ref.requireIdentifier()
            document = try await fetchManifest(ref)
            if case let .image(m) = document.content, Self.isImageConfig(m.config.mediaType) {
                configData = try? await fetchBlobData(m.config, from: ref, limit: 4 << 20)
            }
        case let .layout(l):
            let layout = try OCILayout(opening: l.directory)
            document = try layout.manifest(try layout.resolve(tag: l.tag))
            if case let .image(m) = document.content, Self.isImageConfig(m.config.mediaType) {
                configData = try? layout.readBlob(m.config, limit: 4 << 20)
            }
        }
        var report = InspectReport(
            reference: location.description, digest: document.digest, mediaType: document.mediaType,
            size: Int64(document.bytes.count))
        switch document.content {
        case let .image(m):
            report.artifactType = m.artifactType
            report.config = m.config
            report.layers = m.layers
            report.subject = m.subject
            report.annotations = m.annotations
            if let configData, let summary = try? JSONDecoder().decode(ImageConfigSummary.self, from: configData) {
                if let os = summary.os, let arch = summary.architecture {
                    report.platform = Platform(os: os, architecture: arch, variant: summary.variant).description
                }
                report.created = summary.created
            }
        case let .index(i):
            report.artifactType = i.artifactType
            report.manifests = i.manifests
            report.subject = i.subject
            report.annotations = i.annotations
        }
        if includeRaw { report.raw = String(decoding: document.bytes, as: UTF8.self) }
        return report
    }

    static func isImageConfig(_ mediaType: String) -> Bool {
        mediaType == MediaType.ociConfig || mediaType == MediaType.dockerConfig
    }
}
