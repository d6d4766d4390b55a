// Tagging without rebuilding: the same manifest bytes PUT under new tags. Within a repository
// that is all it takes (the blobs are already there); into another repository the blobs are
// mounted first. (Promoting a whole release, and which tags a release gets, is UnisonPublish's
// and UnisonRelease's.)
import FoundationEssentials
import UnisonCore

/// One tagging operation's result.
package struct TagResult: Sendable, Codable, Equatable {
    package var image: String
    package var digest: Digest
    package var mediaType: String
    /// Tags that were (re)pointed at the digest.
    package var tagged: [String]
    /// Tags that already pointed at it (nothing sent).
    package var unchanged: [String]
}

extension RegistryClient {
    /// Points `tags` at the manifest `source` names, in `destination`'s repository (default: the
    /// source's). Blobs are mounted when the repositories differ.
    package func tag(_ source: ImageReference, as tags: [Tag], in destination: ImageReference? = nil) async throws -> TagResult {
        let document = try await fetchManifest(source)
        return try await tag(document, source: source, as: tags, in: destination ?? source)
    }

    /// Points `tags` at an already fetched manifest (`source` names where it was read).
    package func tag(_ document: ManifestDocument, source: ImageReference, as tags: [Tag], in destination: ImageReference) async throws -> TagResult {
        let target = destination.repositoryReference
        var tagged: [String] = []
        var unchanged: [String] = []
        if target.name != source.repositoryReference.name {
            // Another repository: bring blobs and child manifests over (mounting), by digest.
            _ = try await copy(
                from: .registry(source.repositoryReference.with(digest: document.digest)),
                to: .registry(target.with(digest: document.digest)))
        }
        for tag in tags {
            if let current = try await manifestDescriptor(target.with(tag: tag)), current.digest == document.digest {
                unchanged.append(tag.value)
                continue
            }
            try await pushManifest(document, to: target.with(tag: tag))
            tagged.append(tag.value)
        }
        return TagResult(image: target.name, digest: document.digest, mediaType: document.mediaType, tagged: tagged, unchanged: unchanged)
    }
}
