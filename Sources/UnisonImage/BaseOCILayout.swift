// Reading a base image from an OCI image layout directory (opencontainers/image-spec
// `image-layout.md`, `image-index.md`, `manifest.md`, `layer.md`):
//
//   DIR/oci-layout            {"imageLayoutVersion": "1.0.0"}
//   DIR/index.json            image index: manifests[] with digest, mediaType, annotations
//                             ("org.opencontainers.image.ref.name" = tag), platform
//   DIR/blobs/sha256/<hex>    manifests, indexes, configs and layers, named by digest
//
// index.json → (nested index → platform linux/amd64) → image manifest → layers[] in order,
// each a tar (optionally gzip or zstd) applied with whiteouts. Every blob read is checked
// against its digest. The registry path (pulling into such a layout) belongs to UnisonOCI.
import FoundationEssentials
import UnisonArchive
import UnisonCore

/// An OCI image layout on disk, read as a base.
package struct OCILayoutBase: Sendable {
    package let directory: URL

    static let refName = "org.opencontainers.image.ref.name"
    static let indexTypes: Set<String> = [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    ]
    static let layerTypes: Set<String> = [
        "application/vnd.oci.image.layer.v1.tar", "application/vnd.oci.image.layer.v1.tar+gzip",
        "application/vnd.oci.image.layer.v1.tar+zstd", "application/vnd.docker.image.rootfs.diff.tar.gzip",
        "application/vnd.docker.image.rootfs.diff.tar",
    ]

    /// The few OCI JSON fields this reader needs (the full types live with the OCI client).
    struct Descriptor: Decodable, Sendable {
        struct Platform: Decodable, Sendable {
            var architecture: String?
            var os: String?
        }

        var mediaType: String?
        var digest: String
        var size: Int64?
        var annotations: [String: String]?
        var platform: Platform?
    }

    struct IndexDocument: Decodable, Sendable {
        var mediaType: String?
        var manifests: [Descriptor]
    }

    struct ManifestDocument: Decodable, Sendable {
        var mediaType: String?
        var config: Descriptor
        var layers: [Descriptor]
    }

    package init(directory: URL) { self.directory = directory }

    /// The blob file for a `sha256:<hex>` digest.
    func blobURL(_ digest: String) throws -> URL {
        let parts = digest.split(separator: ":", maxSplits: 1)
        guard parts.count == 2, parts[0] == "sha256", parts[1].count == 64,
            parts[1].allSatisfy({ $0.isHexDigit && !$0.isUppercase })
        else {
            throw BaseError.layout(path: directory.path, detail: "unsupported or malformed digest '\(digest)'")
        }
        return directory.appendingPathComponent("blobs/sha256/\(parts[1])")
    }

    /// Reads a blob and checks its digest (and size, when the descriptor has one).
    func blob(_ d: Descriptor) throws -> Data {
        let url = try blobURL(d.digest)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw BaseError.layout(path: directory.path, detail: "blob \(d.digest) is missing")
        }
        let actual = SHA256Hex.hex(data)
        guard "sha256:" + actual == d.digest else { throw BaseError.digestMismatch(path: url.path, expected: d.digest, actual: actual) }
        if let size = d.size, size != Int64(data.count) {
            throw BaseError.layout(path: directory.path, detail: "blob \(d.digest) has \(data.count) bytes, its descriptor says \(size)")
        }
        return data
    }

    func decode<T: Decodable>(_ type: T.Type, _ data: Data, what: String) throws -> T {
        do { return try JSONDecoder().decode(T.self, from: data) } catch {
            throw BaseError.layout(path: directory.path, detail: "\(what) is not valid: \(error)")
        }
    }

    /// The image manifest for `tag` (or the only image), resolving nested indexes to linux/amd64.
    func manifest(tag: String?) throws -> ManifestDocument {
        guard FileManager.default.fileExists(atPath: directory.appendingPathComponent("oci-layout").path) else {
            throw BaseError.layout(path: directory.path, detail: "no oci-layout file: not an OCI image layout")
        }
        guard let indexData = FileManager.default.contents(atPath: directory.appendingPathComponent("index.json").path) else {
            throw BaseError.layout(path: directory.path, detail: "index.json is missing")
        }
        let index = try decode(IndexDocument.self, indexData, what: "index.json")
        var candidates = index.manifests
        if let tag {
            candidates = candidates.filter { $0.annotations?[Self.refName] == tag }
            guard !candidates.isEmpty else {
                let tags = index.manifests.compactMap { $0.annotations?[Self.refName] }.sorted()
                throw BaseError.layout(path: directory.path, detail: "no image tagged '\(tag)' (tags: \(tags.joined(separator: ", ")))")
            }
        }
        guard candidates.count == 1, var descriptor = candidates.first else {
            throw BaseError.layout(
                path: directory.path,
                detail: "index.json lists \(candidates.count) images; pass oci:DIR:TAG to choose one")
        }
        for _ in 0..<4 {
            let data = try blob(descriptor)
            let mediaType = descriptor.mediaType ?? (try? decode(MediaTypeOnly.self, data, what: "blob"))?.mediaType ?? ""
            guard Self.indexTypes.contains(mediaType) else {
                return try decode(ManifestDocument.self, data, what: "manifest \(descriptor.digest)")
            }
            let nested = try decode(IndexDocument.self, data, what: "index \(descriptor.digest)")
            guard let amd64 = nested.manifests.first(where: { $0.platform?.os == "linux" && $0.platform?.architecture == "amd64" }) else {
                throw BaseError.layout(path: directory.path, detail: "index \(descriptor.digest) has no linux/amd64 image")
            }
            descriptor = amd64
        }
        throw BaseError.layout(path: directory.path, detail: "indexes nested too deeply")
    }

    private struct MediaTypeOnly: Decodable { var mediaType: String? }

    /// Applies the image's layers in order into a tree; compressed layers are decompressed
    /// into `workDir` (which must outlive the tree), or held in memory without one.
    package func loadTree(tag: String?, workDir: URL?, progress: (@Sendable (String) -> Void)? = nil) throws -> FileTree {
        let manifest = try manifest(tag: tag)
        var tree = FileTree()
        for (i, layer) in manifest.layers.enumerated() {
            let mediaType = layer.mediaType ?? "application/vnd.oci.image.layer.v1.tar"
            guard Self.layerTypes.contains(mediaType) else {
                throw BaseError.unsupportedMediaType(digest: layer.digest, mediaType: mediaType)
            }
            let url = try blobURL(layer.digest)
            progress?("applying layer \(i + 1)/\(manifest.layers.count) \(layer.digest.prefix(19))")
            let (hex, size) = try SHA256Hex.file(url)
            guard "sha256:" + hex == layer.digest else { throw BaseError.digestMismatch(path: url.path, expected: layer.digest, actual: hex) }
            if let expected = layer.size, expected != size {
                throw BaseError.layout(path: directory.path, detail: "layer \(layer.digest) has \(size) bytes, its descriptor says \(expected)")
            }
            try tree.applyLayer(url, options: TarReadOptions(allowAbsoluteNames: false, spoolDirectory: workDir))
        }
        return tree
    }
}
