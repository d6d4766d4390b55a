// Artifacts (image-spec `manifest.md#guidelines-for-artifact-usage`, ORAS conventions): an image
// manifest with `artifactType`, the empty config `{}` (application/vnd.oci.empty.v1+json), one
// layer per file titled by `org.opencontainers.image.title`, and optionally a `subject` that
// makes it a referrer (an SBOM or signature attached to an image). Disk images, release
// manifests and checksum files are published this way.
import FoundationEssentials
import UnisonCore

/// One file of an artifact.
package struct ArtifactFile: Sendable, Hashable {
    package var url: URL
    package var mediaType: String
    /// The name recorded in `org.opencontainers.image.title` (default: the file's name).
    package var title: String

    /// `mediaType` defaults to the one the file's name implies (`mediaType(forName:)`).
    package init(url: URL, mediaType: String? = nil, title: String? = nil) {
        self.url = url
        self.mediaType = mediaType ?? Self.mediaType(forName: url.lastPathComponent)
        self.title = title ?? url.lastPathComponent
    }

    /// The media type of a release file by its name: IANA's types where there is one (ISO and
    /// raw EFI images, gzip, JSON, text), the project's own for disk formats IANA lacks, else
    /// `application/octet-stream`.
    package static func mediaType(forName name: String) -> String {
        let lower = name.lowercased()
        let table: [(suffix: String, type: String)] = [
            (".iso", "application/vnd.efi.iso"),
            (".raw", "application/vnd.efi.img"), (".img", "application/vnd.efi.img"),
            (".qcow2", "application/vnd.unisonos.disk.qcow2"), (".vmdk", "application/vnd.unisonos.disk.vmdk"),
            (".tar.gz", "application/gzip"), (".tgz", "application/gzip"), (".wsl", "application/gzip"), (".gz", "application/gzip"),
            (".tar.zst", "application/zstd"), (".zst", "application/zstd"), (".tar.xz", "application/x-xz"), (".tar", "application/x-tar"),
            (".json", "application/json"), (".sha256", "text/plain"), (".txt", "text/plain"), (".md", "text/markdown"),
        ]
        if lower.hasPrefix("sha256sums") { return "text/plain" }
        return table.first { lower.hasSuffix($0.suffix) }?.type ?? MediaType.octetStream
    }

    /// `PATH[:MEDIATYPE]` as ORAS writes it; the suffix counts as a media type only when it
    /// has the `type/subtype` shape.
    package init(argument: String) {
        if let colon = argument.lastIndex(of: ":"), argument[argument.index(after: colon)...].contains("/"),
            !argument[..<colon].isEmpty
        {
            self.init(url: URL(fileURLWithPath: String(argument[..<colon])), mediaType: String(argument[argument.index(after: colon)...]))
        } else {
            self.init(url: URL(fileURLWithPath: argument))
        }
    }
}

/// What `push-artifact` published; printed by `unisonctl oci push-artifact --json`.
package struct ArtifactPushReport: Sendable, Codable, Equatable {
    package struct File: Sendable, Codable, Equatable {
        package var title: String
        package var mediaType: String
        package var digest: Digest
        package var size: Int64
    }

    package var schema = "unisonctl.oci-artifact/v1"
    package var reference: String
    package var digest: Digest
    package var artifactType: String
    package var subject: Digest?
    package var files: [File]
    /// The referrers tag fallback was updated (the registry has no referrers API).
    package var referrersTagUpdated: Bool
    package var blobBytesUploaded: Int64
}

extension RegistryClient {
    /// Builds and pushes an artifact manifest for `files` to `reference` (tag, or by digest when
    /// it has none). `subject` must be in the same repository. The manifest carries the
    /// `org.opencontainers.image.created` annotation from SOURCE_DATE_EPOCH, so the same inputs
    /// give the same digest.
    package func pushArtifact(
        to reference: ImageReference, files: [ArtifactFile], artifactType: String,
        subject: ImageReference? = nil, annotations: [String: String] = [:],
        environment: [String: String] = ProcessInfo.processInfo.environment,
        progress: ProgressReporter.Style? = nil
    ) async throws -> ArtifactPushReport {
        guard !files.isEmpty else { throw OCIError.invalidArgument("push-artifact needs at least one file") }
        guard artifactType.contains("/") else {
            throw OCIError.invalidArgument("artifact type '\(artifactType)' is not a media type (type/subtype)")
        }
        let repository = reference.repositoryReference
        var subjectDescriptor: Descriptor?
        if let subject {
            guard subject.registry == reference.registry, subject.repository == reference.repository else {
                throw OCIError.invalidArgument("subject \(subject) must be in the artifact's repository \(repository.name)")
            }
            guard let found = try await manifestDescriptor(subject) else {
                throw OCIError.notFound(what: "subject", reference: subject.description)
            }
            subjectDescriptor = Descriptor(mediaType: found.mediaType, digest: found.digest, size: found.size)
        }
        var layers: [Descriptor] = []
        var titles = Set<String>()
        for file in files {
            guard FileManager.default.fileExists(atPath: file.url.path) else {
                throw OCIError.io(path: file.url.path, reason: "no such file")
            }
            guard titles.insert(file.title).inserted else {
                throw OCIError.invalidArgument("two files are titled '\(file.title)'")
            }
            let (digest, size) = try Digest.of(file: file.url)
            layers.append(
                Descriptor(
                    mediaType: file.mediaType, digest: digest, size: size,
                    annotations: ["org.opencontainers.image.title": file.title]))
        }
        var allAnnotations = annotations
        if allAnnotations["org.opencontainers.image.created"] == nil {
            let epoch = SourceDateEpoch.current(environment)
            // Internet date-time in UTC to the second ("2024-02-29T13:05:09Z").
            allAnnotations["org.opencontainers.image.created"] = Date(timeIntervalSince1970: TimeInterval(epoch)).formatted(.iso8601)
        }
        let manifest = ImageManifest(
            artifactType: artifactType, config: .empty, layers: layers, subject: subjectDescriptor,
            annotations: allAnnotations)
        let document = try ManifestDocument(image: manifest)

        let before = stats.snapshot
        let total = try Descriptor.totalSize(layers, what: reference.description)
        let reporter = progress.map { ProgressReporter("push \(reference)", total: total, style: $0) }
        try await pushBlob(.data(Descriptor.emptyJSON), descriptor: .empty, to: repository)
        let pairs = Array(zip(files, layers))
        _ = try await forEachBounded(pairs) { pair in
            try await self.pushBlob(.file(pair.0.url), descriptor: pair.1, to: repository, progress: reporter)
        }
        let target = reference.tag == nil ? repository.with(digest: document.digest) : reference
        let result = try await pushManifest(document, to: target)
        var fallback = false
        if let subjectDescriptor, !result.subjectHandled {
            try await addToReferrersFallback(document, subject: subjectDescriptor.digest, in: repository)
            fallback = true
        }
        reporter?.finish()
        return ArtifactPushReport(
            reference: target.description, digest: document.digest, artifactType: artifactType,
            subject: subjectDescriptor?.digest,
            files: zip(files, layers).map { .init(title: $0.0.title, mediaType: $0.1.mediaType, digest: $0.1.digest, size: $0.1.size) },
            referrersTagUpdated: fallback,
            blobBytesUploaded: stats.snapshot.blobBytesUploaded - before.blobBytesUploaded)
    }
}
