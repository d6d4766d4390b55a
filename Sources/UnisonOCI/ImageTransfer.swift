// Whole-image copies between registries and OCI layouts, digest-preserving: manifests move as
// their exact bytes, blobs as verified content. Order follows the distribution spec's advice:
// blobs first (a bounded number at once), then child manifests by digest, then the root under
// its tag. Blobs the destination has are skipped (HEAD), blobs in another repository of the
// same registry are mounted, so a re-push or a promotion sends no layer bytes.
import FoundationEssentials
import UnisonCore

/// Options of a copy.
package struct CopyOptions: Sendable {
    /// From an index, copy only the manifest for this platform (it becomes the root).
    package var platform: Platform?
    /// Progress on stderr for the blob bytes.
    package var progress: ProgressReporter.Style?

    package init(platform: Platform? = nil, progress: ProgressReporter.Style? = nil) {
        self.platform = platform
        self.progress = progress
    }
}

/// What a copy did; `unisonctl oci copy|push|pull --json` prints it.
package struct CopyReport: Sendable, Codable, Equatable {
    package var schema = "unisonctl.oci-copy/v1"
    package var source: String
    package var destination: String
    package var digest: Digest
    package var mediaType: String
    package var manifests: Int
    package var blobs: Int
    package var blobBytes: Int64
    package var blobsSkipped: Int
    package var blobsMounted: Int
    package var blobsTransferred: Int
    package var bytesTransferred: Int64
}

/// Where blobs and manifests come from.
protocol ImageSource: Sendable {
    var label: String { get }
    /// The reference to mount from, when the source is a registry repository.
    var mountable: ImageReference? { get }
    func root() async throws -> ManifestDocument
    func manifest(_ descriptor: Descriptor) async throws -> ManifestDocument
    /// The blob as a local file: the layout's own file, or a verified download into `scratch`.
    func blobFile(_ descriptor: Descriptor, scratch: URL, progress: ProgressReporter?) async throws -> (url: URL, temporary: Bool)
}

struct RegistrySource: ImageSource {
    let client: RegistryClient
    let reference: ImageReference
    var label: String { reference.description }
    var mountable: ImageReference? { reference.repositoryReference }

    func root() async throws -> ManifestDocument { try await client.fetchManifest(reference) }

    func manifest(_ descriptor: Descriptor) async throws -> ManifestDocument {
        try await client.fetchManifest(reference.repositoryReference.with(digest: descriptor.digest))
    }

    func blobFile(_ descriptor: Descriptor, scratch: URL, progress: ProgressReporter?) async throws -> (url: URL, temporary: Bool) {
        let file = scratch.appendingPathComponent(descriptor.digest.hex)
        try await client.fetchBlob(descriptor, from: reference, to: file, progress: progress)
        return (file, true)
    }
}

struct LayoutSource: ImageSource {
    let layout: OCILayout
    let tag: Tag?
    var label: String { LayoutReference(directory: layout.directory, tag: tag).description }
    var mountable: ImageReference? { nil }

    func root() async throws -> ManifestDocument { try layout.manifest(try layout.resolve(tag: tag)) }
    func manifest(_ descriptor: Descriptor) async throws -> ManifestDocument { try layout.manifest(descriptor) }

    func blobFile(_ descriptor: Descriptor, scratch: URL, progress: ProgressReporter?) async throws -> (url: URL, temporary: Bool) {
        try layout.verifyBlob(descriptor)
        return (layout.blobURL(descriptor.digest), false)
    }
}

extension RegistryClient {
    /// Copies an image, index or artifact between registries and layouts.
    package func copy(from source: ImageLocation, to destination: ImageLocation, options: CopyOptions = CopyOptions()) async throws -> CopyReport {
        let src: any ImageSource
        switch source {
        case let .registry(ref):
            _ = try ref.requireIdentifier()
            src = RegistrySource(client: self, reference: ref)
        case let .layout(l):
            src = LayoutSource(layout: try OCILayout(opening: l.directory), tag: l.tag)
        }
        var root = try await src.root()
        if let platform = options.platform, case let .index(index) = root.content {
            guard let child = index.manifests.first(where: { $0.platform.map(platform.matches) ?? false }) else {
                let available = index.manifests.compactMap { $0.platform?.description }
                throw OCIError.notFound(
                    what: "platform \(platform) in", reference: src.label + (available.isEmpty ? "" : " (has \(available.joined(separator: ", ")))"))
            }
            root = try await src.manifest(child)
        }
        // Walk the graph: child manifests (depth first, children before parents) and blobs.
        var children: [ManifestDocument] = []
        var blobs: [Descriptor] = []
        var seenBlobs = Set<Digest>()
        func collect(_ document: ManifestDocument, depth: Int) async throws {
            guard depth < 4 else { throw OCIError.malformedManifest(reference: src.label, reason: "indexes nested too deeply") }
            switch document.content {
            case let .image(manifest):
                for d in [manifest.config] + manifest.layers where !Self.isForeign(d) && seenBlobs.insert(d.digest).inserted {
                    blobs.append(d)
                }
            case let .index(index):
                for d in index.manifests {
                    let child = try await src.manifest(d)
                    try await collect(child, depth: depth + 1)
                    children.append(child)
                }
            }
        }
        try await collect(root, depth: 0)

        let total = try Descriptor.totalSize(blobs, what: src.label)
        let progress = options.progress.map { ProgressReporter("copy \(src.label)", total: total, style: $0) }
        let before = stats.snapshot
        let scratch = try TempPaths.makeDirectory(prefix: "unisonctl-copy")
        defer { try? FileManager.default.removeItem(at: scratch); TempPaths.unregister(scratch) }

        let outcomes: [BlobPushOutcome]
        let destinationLabel: String
        switch destination {
        case let .registry(ref):
            let target = ref.tag == nil && ref.digest == nil ? ref.with(tag: Self.sourceTag(source)) : ref
            destinationLabel = target.description
            outcomes = try await forEachBounded(blobs) { d in
                try await self.transferBlob(d, from: src, to: target, scratch: scratch, progress: progress)
            }
            for child in children { try await pushManifest(child, to: target.repositoryReference.with(digest: child.digest)) }
            if let digest = target.digest, target.tag == nil, digest != root.digest {
                throw OCIError.digestMismatch(what: "copy to \(target)", expected: digest, actual: root.digest)
            }
            try await pushManifest(root, to: target.digest != nil && target.tag == nil ? target : target.with(tag: target.tag))
        case let .layout(l):
            let layout = try OCILayout.create(at: l.directory)
            let tag = l.tag ?? Self.sourceTag(source)
            destinationLabel = LayoutReference(directory: l.directory, tag: tag).description
            outcomes = try await forEachBounded(blobs) { d in
                if layout.hasBlob(d), (try? layout.verifyBlob(d)) != nil {
                    self.stats.update { $0.blobsSkipped += 1 }
                    progress?.advance(by: d.size)
                    return .existed
                }
                switch src {
                case let registry as RegistrySource:
                    let n = try await self.fetchBlob(d, from: registry.reference, to: layout.blobURL(d.digest), progress: progress)
                    return .uploaded(bytesSent: n)
                default:
                    let (file, _) = try await src.blobFile(d, scratch: scratch, progress: nil)
                    try layout.importBlob(from: file, descriptor: d)
                    progress?.advance(by: d.size)
                    return .uploaded(bytesSent: d.size)
                }
            }
            for document in children + [root] {
                try layout.writeBlob(document.bytes, mediaType: document.mediaType, expected: document.digest)
            }
            var entry = root.descriptor
            entry.artifactType = nil
            try layout.addToIndex(entry, tag: tag)
        }
        progress?.finish()
        let after = stats.snapshot
        var transferred: Int64 = 0
        for case let .uploaded(n) in outcomes { transferred += n }
        return CopyReport(
            source: src.label, destination: destinationLabel, digest: root.digest, mediaType: root.mediaType,
            manifests: children.count + 1, blobs: blobs.count, blobBytes: total,
            blobsSkipped: outcomes.filter { $0 == .existed }.count,
            blobsMounted: after.blobsMounted - before.blobsMounted,
            blobsTransferred: outcomes.filter { if case .uploaded = $0 { return true } else { return false } }.count,
            bytesTransferred: transferred)
    }

    /// Pulls `reference` into the OCI layout at `directory` (created when absent), tagged `tag`
    /// (default: the reference's tag). With `platform`, an index is narrowed to that image.
    /// The image pipeline's entry point for base images.
    @discardableResult
    package func pull(
        reference: ImageReference, toLayout directory: URL, tag: Tag? = nil, platform: Platform? = nil,
        progress: ProgressReporter.Style? = nil
    ) async throws -> CopyReport {
        try await copy(
            from: .registry(reference), to: .layout(LayoutReference(directory: directory, tag: tag ?? reference.tag)),
            options: CopyOptions(platform: platform, progress: progress))
    }

    /// One blob into a registry repository: skip, mount, or send bytes.
    private func transferBlob(
        _ d: Descriptor, from src: any ImageSource, to target: ImageReference, scratch: URL,
        progress: ProgressReporter?
    ) async throws -> BlobPushOutcome {
        if try await blobSize(d.digest, in: target) != nil {
            stats.update { $0.blobsSkipped += 1 }
            progress?.advance(by: d.size)
            return .existed
        }
        if let from = src.mountable, from.registry == target.registry, from.repository != target.repository,
            try await mountBlob(d.digest, from: from, to: target)
        {
            progress?.advance(by: d.size)
            return .mounted
        }
        let (file, temporary) = try await src.blobFile(d, scratch: scratch, progress: nil)
        defer { if temporary { try? FileManager.default.removeItem(at: file) } }
        return try await pushBlob(.file(file), descriptor: d, to: target, progress: progress, knownMissing: true)
    }

    /// The tag a copy keeps when the destination names none.
    static func sourceTag(_ location: ImageLocation) -> Tag? {
        switch location {
        case let .registry(r): return r.tag
        case let .layout(l): return l.tag
        }
    }

    /// Layers that registries do not hold (Windows foreign layers with URLs).
    static func isForeign(_ d: Descriptor) -> Bool {
        (d.urls?.isEmpty == false) && (d.mediaType.contains("foreign") || d.mediaType.contains("nondistributable"))
    }

    /// Runs `body` for every element with at most `maxConcurrentTransfers` at once; results in input order.
    func forEachBounded<T: Sendable, R: Sendable>(_ items: [T], _ body: @escaping @Sendable (T) async throws -> R) async throws -> [R] {
        let limit = configuration.maxConcurrentTransfers
        return try await withThrowingTaskGroup(of: (Int, R).self) { group in
            var results = [R?](repeating: nil, count: items.count)
            var next = 0
            while next < items.count, next < limit {
                let i = next, item = items[i]
                group.addTask { (i, try await body(item)) }
                next += 1
            }
            while let (i, r) = try await group.next() {
                results[i] = r
                if next < items.count {
                    let j = next, item = items[j]
                    group.addTask { (j, try await body(item)) }
                    next += 1
                }
            }
            return results.map { $0! }
        }
    }
}
