// Referrers (distribution-spec "Listing referrers", "Referrers tag schema"): manifests whose
// `subject` points at a digest. Registries with the API answer
// GET /v2/<name>/referrers/<digest> with an image index; those without it (docker-registry
// 2.8, GHCR) answer 404, and clients keep an index under the tag `<alg>-<hex>` instead
// (algorithm cut to 32 characters, hex to 64), updated after each manifest push with a subject
// when the registry did not answer the push with `OCI-Subject`.
import FoundationEssentials

extension RegistryClient {
    /// The referrers tag of a subject digest: `sha256-<hex>`.
    package static func referrersTag(for digest: Digest) -> Tag {
        Tag("\(digest.algorithm.rawValue.prefix(32))-\(digest.hex.prefix(64))")!
    }

    /// The descriptor a referrers index lists for a manifest: its artifact type (else its
    /// config's media type) and annotations.
    package static func referrerDescriptor(_ document: ManifestDocument) -> Descriptor {
        var d = Descriptor(mediaType: document.mediaType, digest: document.digest, size: Int64(document.bytes.count))
        switch document.content {
        case let .image(m):
            d.artifactType = m.artifactType ?? m.config.mediaType
            d.annotations = m.annotations
        case let .index(i):
            d.artifactType = i.artifactType
            d.annotations = i.annotations
        }
        return d
    }

    /// Referrers of `subject` (a reference with a digest), by the API or the tag fallback,
    /// optionally only those of one artifact type. Sorted by digest for stable output.
    package func referrers(of subject: ImageReference, artifactType: String? = nil) async throws -> [Descriptor] {
        guard let digest = subject.digest else {
            throw OCIError.invalidReference(subject.description, reason: "referrers are listed for a @digest")
        }
        let ref = subject.repositoryReference
        var query: [URLQueryItem] = []
        if let artifactType { query.append(URLQueryItem(name: "artifactType", value: artifactType)) }
        let response = try await execute(
            RegistryExchange(
                method: .GET, url: url(ref, "referrers/\(digest)", query: query),
                headers: ["Accept": MediaType.ociIndex], registry: ref.registry, scopes: [.pull(ref.repository)],
                what: "GET referrers", reference: subject.description, expected: [200, 404]))
        var found: [Descriptor]
        if response.status == 200, response.headers["Content-Type"]?.hasPrefix(MediaType.ociIndex) ?? true {
            let data = try await response.body.collect(limit: configuration.manifestSizeLimit)
            let document = try ManifestDocument(bytes: data, contentType: MediaType.ociIndex, reference: "referrers of \(subject)")
            guard case let .index(index) = document.content else { return [] }
            found = index.manifests
        } else {
            _ = try? await response.body.collect(limit: 64 << 10)
            found = try await fallbackIndex(subject: digest, in: ref)?.manifests ?? []
        }
        if let artifactType { found = found.filter { $0.artifactType == artifactType } }
        return found.sorted { $0.digest < $1.digest }
    }

    /// The index under the referrers tag, nil when the tag does not exist.
    func fallbackIndex(subject: Digest, in repository: ImageReference) async throws -> ImageIndex? {
        do {
            let document = try await fetchManifest(repository.with(tag: Self.referrersTag(for: subject)))
            guard case let .index(index) = document.content else { return nil }
            return index
        } catch let error as OCIError where error.isNotFound {
            return nil
        }
    }

    /// Records `document` (whose `subject` is `subject`) in the referrers tag fallback index.
    package func addToReferrersFallback(_ document: ManifestDocument, subject: Digest, in repository: ImageReference) async throws {
        let ref = repository.repositoryReference
        var index = try await fallbackIndex(subject: subject, in: ref) ?? ImageIndex(manifests: [])
        let entry = Self.referrerDescriptor(document)
        guard !index.manifests.contains(where: { $0.digest == entry.digest }) else { return }
        index.manifests.append(entry)
        index.mediaType = MediaType.ociIndex
        try await pushManifest(try ManifestDocument(index: index), to: ref.with(tag: Self.referrersTag(for: subject)))
    }
}

/// `unisonctl oci referrers --json`.
package struct ReferrersReport: Sendable, Codable, Equatable {
    package var schema = "unisonctl.oci-referrers/v1"
    package var subject: String
    package var digest: Digest
    package var referrers: [Descriptor]
}

extension RegistryClient {
    /// Referrers of the manifest `subject` names (a tag is resolved to its digest first).
    package func referrers(named subject: ImageReference, artifactType: String? = nil) async throws -> ReferrersReport {
        var resolved = subject
        if subject.digest == nil {
            guard let descriptor = try await manifestDescriptor(subject) else {
                throw OCIError.notFound(what: "manifest", reference: subject.description)
            }
            resolved = subject.with(digest: descriptor.digest)
        }
        let list = try await referrers(of: resolved, artifactType: artifactType)
        return ReferrersReport(subject: subject.description, digest: resolved.digest!, referrers: list)
    }
}
