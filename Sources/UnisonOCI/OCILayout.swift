// OCI image layout (opencontainers/image-spec `image-layout.md`):
//
//   DIR/oci-layout             {"imageLayoutVersion":"1.0.0"}
//   DIR/index.json             image index; entries tagged with the annotation
//                              "org.opencontainers.image.ref.name" (skopeo's oci:DIR:TAG)
//   DIR/blobs/<alg>/<hex>      every blob and manifest, named by digest
//
// Blobs are written to a temporary name in blobs/<alg>/ and renamed once verified; index.json
// is replaced atomically. Reads check digest and size.
import FoundationEssentials
import UnisonCore

package struct OCILayout: Sendable {
    package static let refNameAnnotation = "org.opencontainers.image.ref.name"
    package let directory: URL

    /// Opens an existing layout (checks `oci-layout`).
    package init(opening directory: URL) throws {
        self.directory = directory
        let marker = directory.appendingPathComponent("oci-layout")
        guard let data = FileManager.default.contents(atPath: marker.path) else {
            throw OCIError.layout(path: directory.path, reason: "no oci-layout file (not an OCI image layout)")
        }
        struct Marker: Decodable { var imageLayoutVersion: String }
        guard let version = try? JSONDecoder().decode(Marker.self, from: data).imageLayoutVersion, version.hasPrefix("1.") else {
            throw OCIError.layout(path: directory.path, reason: "oci-layout does not declare imageLayoutVersion 1.x")
        }
    }

    /// Opens the layout at `directory`, creating an empty one when there is none.
    package static func create(at directory: URL) throws -> OCILayout {
        let fm = FileManager.default
        try fm.createDirectory(at: directory.appendingPathComponent("blobs/sha256"), withIntermediateDirectories: true)
        let marker = directory.appendingPathComponent("oci-layout")
        if !fm.fileExists(atPath: marker.path) {
            try AtomicFile.write(Data(#"{"imageLayoutVersion":"1.0.0"}"#.utf8), to: marker)
        }
        let index = directory.appendingPathComponent("index.json")
        if !fm.fileExists(atPath: index.path) {
            try AtomicFile.write(try ManifestDocument.encode(ImageIndex(manifests: [])), to: index)
        }
        return try OCILayout(opening: directory)
    }

    package func blobURL(_ digest: Digest) -> URL {
        directory.appendingPathComponent("blobs/\(digest.algorithm.rawValue)/\(digest.hex)")
    }

    /// Whether the blob is present with the descriptor's size (content is checked on read).
    package func hasBlob(_ descriptor: Descriptor) -> Bool {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: blobURL(descriptor.digest).path),
            let size = attributes[.size] as? UInt
        else { return false }
        return Int64(size) == descriptor.size
    }

    /// Reads a blob into memory, verified.
    package func readBlob(_ descriptor: Descriptor, limit: Int = 16 << 20) throws -> Data {
        let url = blobURL(descriptor.digest)
        guard descriptor.size <= Int64(limit) else {
            throw OCIError.layout(
                path: directory.path, reason: "blob \(descriptor.digest) is \(descriptor.size) bytes, more than \(limit) to read into memory")
        }
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw OCIError.layout(path: directory.path, reason: "blob \(descriptor.digest) is missing")
        }
        let actual = RegistryClient.digest(data, descriptor.digest.algorithm)
        guard actual == descriptor.digest else {
            throw OCIError.digestMismatch(what: "layout blob \(url.path)", expected: descriptor.digest, actual: actual)
        }
        guard Int64(data.count) == descriptor.size else {
            throw OCIError.sizeMismatch(
                what: "layout blob \(url.path)", digest: descriptor.digest, expected: descriptor.size, actual: Int64(data.count))
        }
        return data
    }

    /// Checks a blob file's digest and size without loading it.
    package func verifyBlob(_ descriptor: Descriptor) throws {
        let url = blobURL(descriptor.digest)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw OCIError.layout(path: directory.path, reason: "blob \(descriptor.digest) is missing")
        }
        let (actual, size) = try Digest.of(file: url, algorithm: descriptor.digest.algorithm)
        guard actual == descriptor.digest else {
            throw OCIError.digestMismatch(what: "layout blob \(url.path)", expected: descriptor.digest, actual: actual)
        }
        guard size == descriptor.size else {
            throw OCIError.sizeMismatch(what: "layout blob \(url.path)", digest: descriptor.digest, expected: descriptor.size, actual: size)
        }
    }

    /// Stores bytes as a blob (verified against `digest` when given) and returns its descriptor.
    @discardableResult
    package func writeBlob(_ data: Data, mediaType: String, expected: Digest? = nil) throws -> Descriptor {
        let digest = expected.map { RegistryClient.digest(data, $0.algorithm) } ?? Digest.sha256(of: data)
        if let expected, expected != digest {
            throw OCIError.digestMismatch(what: "blob for \(directory.path)", expected: expected, actual: digest)
        }
        let descriptor = Descriptor(mediaType: mediaType, digest: digest, size: Int64(data.count))
        if !hasBlob(descriptor) { try AtomicFile.write(data, to: blobURL(digest)) }
        return descriptor
    }

    /// Copies a file in as a blob, verifying it against the descriptor first.
    package func importBlob(from file: URL, descriptor: Descriptor) throws {
        if hasBlob(descriptor) { return }
        let destination = blobURL(descriptor.digest)
        try AtomicFile.write(to: destination) { tmp in
            try FileManager.default.copyItem(at: file, to: tmp)
            let (actual, size) = try Digest.of(file: tmp, algorithm: descriptor.digest.algorithm)
            guard actual == descriptor.digest else {
                throw OCIError.digestMismatch(what: "blob \(file.path)", expected: descriptor.digest, actual: actual)
            }
            guard size == descriptor.size else {
                throw OCIError.sizeMismatch(what: "blob \(file.path)", digest: descriptor.digest, expected: descriptor.size, actual: size)
            }
        }
    }

    /// The top-level index.json.
    package func index() throws -> ImageIndex {
        let url = directory.appendingPathComponent("index.json")
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw OCIError.layout(path: directory.path, reason: "index.json is missing")
        }
        do { return try JSONDecoder().decode(ImageIndex.self, from: data) } catch {
            throw OCIError.layout(path: directory.path, reason: "index.json: \(ManifestDocument.describe(error))")
        }
    }

    /// Tags recorded in index.json, in file order.
    package func tags() throws -> [String] {
        try index().manifests.compactMap { $0.annotations?[Self.refNameAnnotation] }
    }

    /// The index entry for `tag`; without a tag, the only entry (an error if there are several).
    package func resolve(tag: Tag?) throws -> Descriptor {
        let entries = try index().manifests
        if let tag {
            guard let entry = entries.last(where: { $0.annotations?[Self.refNameAnnotation] == tag.value }) else {
                let known = entries.compactMap { $0.annotations?[Self.refNameAnnotation] }
                throw OCIError.layout(
                    path: directory.path,
                    reason: "no image tagged '\(tag.value)'" + (known.isEmpty ? "" : " (tags: \(known.joined(separator: ", ")))"))
            }
            return entry
        }
        guard entries.count == 1, let only = entries.first else {
            throw OCIError.layout(
                path: directory.path,
                reason: entries.isEmpty
                    ? "index.json lists no image"
                    : "index.json lists \(entries.count) images; name one with oci:DIR:TAG")
        }
        return only
    }

    /// Reads and verifies the manifest or index a descriptor points to.
    package func manifest(_ descriptor: Descriptor) throws -> ManifestDocument {
        let data = try readBlob(descriptor, limit: 4 << 20)
        return try ManifestDocument(bytes: data, contentType: descriptor.mediaType, reference: "\(directory.path)@\(descriptor.digest)")
    }

    /// Records `descriptor` in index.json, under `tag` when given (replacing that tag's entry).
    package func addToIndex(_ descriptor: Descriptor, tag: Tag?) throws {
        var index = try self.index()
        var entry = descriptor
        if let tag {
            var annotations = entry.annotations ?? [:]
            annotations[Self.refNameAnnotation] = tag.value
            entry.annotations = annotations
            index.manifests.removeAll { $0.annotations?[Self.refNameAnnotation] == tag.value }
        } else {
            if index.manifests.contains(where: { $0.digest == descriptor.digest && $0.annotations?[Self.refNameAnnotation] == nil }) { return }
        }
        index.manifests.append(entry)
        index.mediaType = MediaType.ociIndex
        try AtomicFile.write(try ManifestDocument.encode(index), to: directory.appendingPathComponent("index.json"))
    }
}
