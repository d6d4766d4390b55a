// `release promote`: every platform service image's tested digest (`edge-main`) gets the
// release tags, without rebuilding and without sending layers. All sources are resolved
// before any tag moves, so a missing image stops the promotion with nothing changed.
import FoundationEssentials
import UnisonCore
import UnisonOCI
import UnisonRelease
import UnisonSpec

/// What `release promote` is asked.
package struct PromotionRequest: Sendable {
    /// The release version; its tags come from `ReleaseTags.defaults` unless `tags` is given.
    package var version: SemVer
    /// The tag whose digest is promoted.
    package var sourceTag: Tag
    /// Explicit release tags; empty: the version's defaults.
    package var tags: [Tag]
    /// A registry that stands in for the spec's (a test registry or mirror).
    package var registryOverride: RegistryEndpoint?

    package init(version: SemVer, sourceTag: Tag, tags: [Tag] = [], registryOverride: RegistryEndpoint? = nil) {
        self.version = version
        self.sourceTag = sourceTag
        self.tags = tags
        self.registryOverride = registryOverride
    }

    /// The tags that will be set: the explicit ones, else the release policy's.
    package var releaseTags: [Tag] { tags.isEmpty ? ReleaseTags.defaults(for: version).compactMap(Tag.init) : tags }
}

package struct PromotionReport: Sendable, Codable, Equatable {
    package var schema = "unisonctl.release-promote/v1"
    package var version: String
    package var sourceTag: String
    package var tags: [String]
    package var images: [TagResult]
    /// Blob bytes sent during the promotion (0 when every repository already had its layers).
    package var blobBytesUploaded: Int64
    package var blobsMounted: Int
    package var manifestsPushed: Int
}

package enum Promotion {
    /// Promotes every platform service image of `spec` (each image once: several services can
    /// run the same image, comms and its Telegram worker, and a second promotion of it would
    /// find nothing left to tag) with `client`, which must speak to `ServiceImages.registry`.
    package static func promote(_ request: PromotionRequest, spec: PlatformSpec, client: RegistryClient) async throws -> PromotionReport {
        let images = try ServiceImages.platformRepositories(spec: spec, override: request.registryOverride)
        return try await client.promote(
            images: images, sourceTag: request.sourceTag, tags: request.releaseTags,
            version: request.version.tagString(forceV: true))
    }
}

extension RegistryClient {
    /// Gives every image's `sourceTag` manifest the release `tags`. `images` are repositories
    /// (tags on them are ignored). All sources are resolved first; if any is missing nothing is
    /// tagged and the error names every missing one.
    package func promote(images: [ImageReference], sourceTag: Tag, tags: [Tag], version: String) async throws -> PromotionReport {
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
            throw OCIError.notFound(
                what: "source image\(missing.count == 1 ? "" : "s")", reference: missing.joined(separator: ", ") + "; nothing was tagged")
        }
        var results: [TagResult] = []
        for (source, document) in resolved {
            results.append(try await tag(document, source: source, as: tags, in: source))
        }
        let after = stats.snapshot
        return PromotionReport(
            version: version, sourceTag: sourceTag.value, tags: tags.map(\.value), images: results,
            blobBytesUploaded: after.blobBytesUploaded - before.blobBytesUploaded,
            blobsMounted: after.blobsMounted - before.blobsMounted,
            manifestsPushed: after.manifestsPushed - before.manifestsPushed)
    }
}
