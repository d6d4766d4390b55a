// Tagging without rebuilding: the same manifest bytes PUT under new tags. Within a repository
// that is all it takes (the blobs are already there); into another repository the blobs are
// mounted first. `promote` does it for every service image of a release, after resolving all
// sources, so a missing source image stops the promotion before any tag moves.
import Foundation
import UnisonCore

/// Release tags of a version, as the platform's channels use them.
public enum ReleaseTags {
    /// `vX.Y.Z`, `vX.Y`, `vX` and `latest` for a release; only `vX.Y.Z-pre` for a pre-release
    /// (docker/metadata-action's semver rules: pre-releases get no short tags and no latest).
    public static func defaults(for version: SemVer) -> [Tag] {
        let full = version.tagString(forceV: true).split(separator: "+").first.map(String.init) ?? version.tagString(forceV: true)
        if version.isPrerelease { return [Tag(full)!] }
        return [full, "v\(version.major).\(version.minor)", "v\(version.major)", "latest"].map { Tag($0)! }
    }
}

/// One tagging operation's result.
public struct TagResult: Sendable, Codable, Equatable {
    public var image: String
    public var digest: Digest
    public var mediaType: String
    /// Tags that were (re)pointed at the digest.
    public var tagged: [String]
    /// Tags that already pointed at it (nothing sent).
    public var unchanged: [String]
}

public struct PromotionReport: Sendable, Codable, Equatable {
    public var schema = "unisonctl.release-promote/v1"
    public var version: String
    public var sourceTag: String
    public var tags: [String]
    public var images: [TagResult]
    /// Blob bytes sent during the promotion (0 when every repository already had its layers).
    public var blobBytesUploaded: Int64
    public var blobsMounted: Int
    public var manifestsPushed: Int
}

extension RegistryClient {
    /// Points `tags` at the manifest `source` names, in `destination`'s repository (default: the
    /// source's). Blobs are mounted when the repositories differ.
    public func tag(_ source: ImageReference, as tags: [Tag], in destination: ImageReference? = nil) async throws -> TagResult {
        let document = try await fetchManifest(source)
        return try await tag(document, source: source, as: tags, in: destination ?? source)
    }

    func tag(_ document: ManifestDocument, source: ImageReference, as tags: [Tag], in destination: ImageReference) async throws -> TagResult {
        let target = destination.repositoryReference
        var tagged: [String] = []
        var unchanged: [String] = []
        if target.name != source.repositoryReference.name {
            // Another repository: bring blobs and child manifests over (mounting), by digest.
            _ = try await copy(from: .registry(source.repositoryReference.with(digest: document.digest)),
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

    /// Gives every image's `sourceTag` manifest the release `tags`. `images` are repositories
    /// (tags on them are ignored). All sources are resolved first; if any is missing nothing is
    /// tagged and the error names every missing one.
    public func promote(images: [ImageReference], sourceTag: Tag, tags: [Tag], version: String) async throws -> PromotionReport {
        guard !tags.isEmpty else { throw OCIError.invalidArgument("promote needs at least one tag") }
        let before = stats.snapshot
        var resolved: [(ImageReference, ManifestDocument)] = []
        var missing: [String] = []
        for image in images {
            let source = image.repositoryReference.with(tag: sourceTag)
            do {
                resolved.append((source, try await fetchManifest(source)))
            } catch let error as OCIError where error.isNotFound {
                missing.append(source.description)
            }
        }
        guard missing.isEmpty else {
            throw OCIError.notFound(what: "source image\(missing.count == 1 ? "" : "s")", reference: missing.joined(separator: ", ") + "; nothing was tagged")
        }
        var results: [TagResult] = []
        for (source, document) in resolved {
            results.append(try await tag(document, source: source, as: tags, in: source))
        }
        let after = stats.snapshot
        return PromotionReport(version: version, sourceTag: sourceTag.value, tags: tags.map(\.value), images: results,
                               blobBytesUploaded: after.blobBytesUploaded - before.blobBytesUploaded,
                               blobsMounted: after.blobsMounted - before.blobsMounted,
                               manifestsPushed: after.manifestsPushed - before.manifestsPushed)
    }
}
