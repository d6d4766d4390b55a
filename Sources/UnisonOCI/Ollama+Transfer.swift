// Ollama models over OCI. Pulling writes Ollama's own store (blobs verified and renamed into
// place first, the manifest last, so an interrupted pull never shows a model whose blobs are
// missing). Pushing publishes files (or a model from a store) with Ollama's media types in a
// Docker v2 schema 2 manifest whose config is Ollama's model config.
import FoundationEssentials
import UnisonCore

package struct ModelPullReport: Sendable, Codable, Equatable {
    package var schema = "unisonctl.models-pull/v1"
    package var model: String
    package var digest: Digest
    package var manifest: String
    package var blobs: Int
    package var bytes: Int64
    /// Blobs already in the store (verified), not downloaded again.
    package var blobsReused: Int
    package var bytesDownloaded: Int64
}

package struct ModelPushReport: Sendable, Codable, Equatable {
    package struct Layer: Sendable, Codable, Equatable {
        package var mediaType: String
        package var digest: Digest
        package var size: Int64
        package var file: String?
    }

    package var schema = "unisonctl.models-push/v1"
    package var model: String
    package var reference: String
    package var digest: Digest
    package var layers: [Layer]
    package var blobBytesUploaded: Int64
}

/// Preloads Ollama models into a store directory; the image pipeline's entry point.
package struct ModelPuller: Sendable {
    package let client: RegistryClient

    package init(client: RegistryClient) { self.client = client }

    /// Pulls `name` (`[namespace/]model[:tag]`) from `registry` (host or URL; default
    /// registry.ollama.ai) into the Ollama store at `store`.
    @discardableResult
    package func pull(name: String, registry: String? = nil, store: URL, progress: ProgressReporter.Style? = nil) async throws -> ModelPullReport {
        let host = try registry.map { try RegistryEndpoint(parsing: $0).host }
        let model = try ModelName(parsing: name, host: host)
        return try await pull(model, store: ModelStore(root: store), progress: progress)
    }

    package func pull(_ model: ModelName, store: ModelStore, progress: ProgressReporter.Style? = nil) async throws -> ModelPullReport {
        let reference = try model.reference()
        let document = try await client.fetchManifest(reference, accept: [MediaType.dockerManifest, MediaType.ociManifest])
        guard case let .image(manifest) = document.content else {
            throw OCIError.unsupported("\(reference) is an index (\(document.mediaType)); Ollama models are single manifests")
        }
        var seen = Set<Digest>()
        let blobs = ([manifest.config] + manifest.layers).filter { seen.insert($0.digest).inserted }
        let total = try Descriptor.totalSize(blobs, what: reference.description)
        let reporter = progress.map { ProgressReporter("pull \(model.shortName)", total: total, style: $0) }
        let outcomes = try await client.forEachBounded(blobs) { descriptor -> Int64? in
            if store.hasVerifiedBlob(descriptor) {
                reporter?.advance(by: descriptor.size)
                return nil
            }
            return try await client.fetchBlob(descriptor, from: reference, to: store.blobURL(descriptor.digest), progress: reporter)
        }
        try store.writeManifest(document.bytes, for: model)
        reporter?.finish()
        return ModelPullReport(
            model: model.description, digest: document.digest, manifest: store.manifestURL(model).path,
            blobs: blobs.count, bytes: total, blobsReused: outcomes.filter { $0 == nil }.count,
            bytesDownloaded: outcomes.compactMap { $0 }.reduce(0, +))
    }
}

/// A file to publish as one layer of a model.
package struct ModelFile: Sendable, Hashable {
    package var url: URL
    package var kind: OllamaLayerKind

    package init(url: URL, kind: OllamaLayerKind) {
        self.url = url
        self.kind = kind
    }

    /// `KIND=PATH`, or a path whose name gives the kind (`*.gguf`, `template`, `params.json`, …).
    package init(argument: String) throws {
        if let eq = argument.firstIndex(of: "="), let kind = OllamaLayerKind(rawValue: String(argument[..<eq])) {
            self.init(url: URL(fileURLWithPath: String(argument[argument.index(after: eq)...])), kind: kind)
            return
        }
        let url = URL(fileURLWithPath: argument)
        guard let kind = OllamaLayerKind(fileName: url.lastPathComponent) else {
            throw OCIError.invalidArgument(
                "cannot tell what \(argument) is; name it KIND=PATH with KIND one of "
                    + OllamaLayerKind.allCases.map(\.rawValue).joined(separator: ", "))
        }
        self.init(url: url, kind: kind)
    }

    /// The files of a model directory whose names give their kind (hidden files ignored).
    package static func files(in directory: URL) throws -> [ModelFile] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { !$0.hasPrefix(".") }.sorted()
        let files = names.compactMap { name in
            OllamaLayerKind(fileName: name).map { ModelFile(url: directory.appendingPathComponent(name), kind: $0) }
        }
        guard !files.isEmpty else {
            throw OCIError.invalidArgument("\(directory.path) has no model files (*.gguf, template, params, system, license, …)")
        }
        return files
    }
}

package struct ModelPusher: Sendable {
    package let client: RegistryClient

    package init(client: RegistryClient) { self.client = client }

    /// Publishes `files` as model `name` on `registry`. One model layer is required.
    package func push(files: [ModelFile], name: String, registry: String) async throws -> ModelPushReport {
        let endpoint = try RegistryEndpoint(parsing: registry)
        let model = try ModelName(parsing: name, host: endpoint.host)
        let reference = try model.reference()
        let ordered = files.sorted {
            (OllamaLayerKind.allCases.firstIndex(of: $0.kind)!, $0.url.path) < (OllamaLayerKind.allCases.firstIndex(of: $1.kind)!, $1.url.path)
        }
        guard ordered.filter({ $0.kind == .model }).count == 1 else {
            throw OCIError.invalidArgument(
                "a model needs exactly one model layer (a .gguf file or model=PATH), got \(ordered.filter { $0.kind == .model }.count)")
        }
        var layers: [Descriptor] = []
        for file in ordered {
            guard FileManager.default.fileExists(atPath: file.url.path) else { throw OCIError.io(path: file.url.path, reason: "no such file") }
            let (digest, size) = try Digest.of(file: file.url)
            layers.append(Descriptor(mediaType: file.kind.mediaType, digest: digest, size: size))
        }
        let config = try Self.modelConfig(layers: layers)
        let configDescriptor = Descriptor(mediaType: MediaType.dockerConfig, digest: Digest.sha256(of: config), size: Int64(config.count))
        let document = try ManifestDocument(image: ImageManifest(mediaType: MediaType.dockerManifest, config: configDescriptor, layers: layers))
        let before = client.stats.snapshot
        try await client.pushBlob(.data(config), descriptor: configDescriptor, to: reference)
        _ = try await client.forEachBounded(Array(zip(ordered, layers))) { pair in
            try await client.pushBlob(.file(pair.0.url), descriptor: pair.1, to: reference)
        }
        try await client.pushManifest(document, to: reference)
        return ModelPushReport(
            model: model.description, reference: reference.description, digest: document.digest,
            layers: zip(ordered, layers).map { .init(mediaType: $0.1.mediaType, digest: $0.1.digest, size: $0.1.size, file: $0.0.url.path) },
            blobBytesUploaded: client.stats.snapshot.blobBytesUploaded - before.blobBytesUploaded)
    }

    /// Mirrors a model from an Ollama store to `registry`, manifest bytes unchanged.
    package func push(fromStore store: URL, name: String, registry: String) async throws -> ModelPushReport {
        let endpoint = try RegistryEndpoint(parsing: registry)
        let wanted = try ModelName(parsing: name)
        let modelStore = ModelStore(root: store)
        guard
            let found = try modelStore.manifestFiles().first(where: {
                $0.name.namespace == wanted.namespace && $0.name.model == wanted.model && $0.name.tag == wanted.tag
            })
        else {
            throw OCIError.modelStore(path: store.path, reason: "no model \(wanted.namespace)/\(wanted.model):\(wanted.tag)")
        }
        let bytes = try Data(contentsOf: found.url)
        let document = try ManifestDocument(bytes: bytes, contentType: MediaType.dockerManifest, reference: found.url.path)
        guard case let .image(manifest) = document.content else {
            throw OCIError.modelStore(path: found.url.path, reason: "not a single model manifest")
        }
        let model = try ModelName(host: endpoint.host, namespace: wanted.namespace, model: wanted.model, tag: wanted.tag)
        let reference = try model.reference()
        let before = client.stats.snapshot
        var seen = Set<Digest>()
        let blobs = ([manifest.config] + manifest.layers).filter { seen.insert($0.digest).inserted }
        _ = try await client.forEachBounded(blobs) { d in
            guard modelStore.hasVerifiedBlob(d) else {
                throw OCIError.modelStore(path: modelStore.blobURL(d.digest).path, reason: "blob \(d.digest) is missing or corrupt")
            }
            return try await client.pushBlob(.file(modelStore.blobURL(d.digest)), descriptor: d, to: reference)
        }
        try await client.pushManifest(document, to: reference)
        return ModelPushReport(
            model: model.description, reference: reference.description, digest: document.digest,
            layers: manifest.layers.map { .init(mediaType: $0.mediaType, digest: $0.digest, size: $0.size, file: nil) },
            blobBytesUploaded: client.stats.snapshot.blobBytesUploaded - before.blobBytesUploaded)
    }

    /// Ollama's model config: format, platform and the layer digests as `rootfs.diff_ids`.
    static func modelConfig(layers: [Descriptor]) throws -> Data {
        struct Config: Encodable {
            struct RootFS: Encodable {
                var type = "layers"
                var diff_ids: [String]
            }
            var model_format = "gguf"
            var architecture = "amd64"
            var os = "linux"
            var rootfs: RootFS
        }
        return try ManifestDocument.encode(Config(rootfs: .init(diff_ids: layers.map(\.digest.description))))
    }
}
