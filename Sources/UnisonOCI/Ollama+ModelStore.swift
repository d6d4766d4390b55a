// Ollama's on-disk model store ($OLLAMA_MODELS; ollama/ollama `manifest/paths.go`,
// `server/download.go`):
//
//   <root>/manifests/<host>/<namespace>/<model>/<tag>   the manifest JSON (Docker v2 schema 2)
//   <root>/blobs/sha256-<hex>                           config and layers, named by digest
//
// An Ollama server pointed at the root lists every manifest found four levels below
// `manifests/`. Writes go to a temporary name and are renamed once verified.
import FoundationEssentials
import UnisonCore

package struct ModelStore: Sendable {
    package let root: URL

    package init(root: URL) { self.root = root }

    package func manifestURL(_ name: ModelName) -> URL { root.appendingPathComponent(name.manifestPath) }

    /// `blobs/sha256-<hex>`.
    package func blobURL(_ digest: Digest) -> URL { root.appendingPathComponent("blobs/\(digest.dashed)") }

    /// Whether the blob is present with the right size and content.
    package func hasVerifiedBlob(_ descriptor: Descriptor) -> Bool {
        let url = blobURL(descriptor.digest)
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: url.path),
            (attributes[.size] as? UInt).map(Int64.init) == descriptor.size,
            let (digest, _) = try? Digest.of(file: url, algorithm: descriptor.digest.algorithm)
        else { return false }
        return digest == descriptor.digest
    }

    /// Writes a model's manifest bytes (after its blobs are in place).
    package func writeManifest(_ bytes: Data, for name: ModelName) throws {
        try AtomicFile.write(bytes, to: manifestURL(name), permissions: 0o644)
    }

    /// Every model with a manifest in the store, sorted.
    package func models() throws -> [ModelName] {
        try manifestFiles().map(\.name)
    }

    /// `manifests/*/*/*/*` regular files (symlinks followed), with the names they encode.
    func manifestFiles() throws -> [(name: ModelName, url: URL)] {
        let fm = FileManager.default
        let manifests = root.appendingPathComponent("manifests")
        var isDirectory = false
        guard fm.fileExists(atPath: root.path, isDirectory: &isDirectory), isDirectory else {
            throw OCIError.invalidArgument("model store \(root.path) is not a directory")
        }
        guard fm.fileExists(atPath: manifests.path) else { return [] }
        func children(_ url: URL) -> [String] {
            ((try? fm.contentsOfDirectory(atPath: url.path)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
        }
        var out: [(ModelName, URL)] = []
        for host in children(manifests) {
            for namespace in children(manifests.appendingPathComponent(host)) {
                for model in children(manifests.appendingPathComponent("\(host)/\(namespace)")) {
                    for tag in children(manifests.appendingPathComponent("\(host)/\(namespace)/\(model)")) {
                        let url = manifests.appendingPathComponent("\(host)/\(namespace)/\(model)/\(tag)")
                        var dir = false
                        guard fm.fileExists(atPath: url.path, isDirectory: &dir), !dir,
                            let name = try? ModelName(host: host, namespace: namespace, model: model, tag: tag)
                        else { continue }
                        out.append((name, url))
                    }
                }
            }
        }
        return out.sorted { $0.0 < $1.0 }
    }

    /// Rechecks every manifest and every blob it names, offline. Each blob is hashed once even
    /// when several models share it.
    package func verify() throws -> ModelStoreReport {
        var report = ModelStoreReport(store: root.path)
        var checked: [Digest: ModelStoreReport.Problem.Kind?] = [:]
        for (name, url) in try manifestFiles() {
            var entry = ModelStoreReport.Model(name: name.description, manifest: url.path, blobs: 0, bytes: 0, ok: true)
            let data: Data
            let manifest: ImageManifest
            do {
                data = try Data(contentsOf: url)
                manifest = try JSONDecoder().decode(ImageManifest.self, from: data)
            } catch {
                entry.ok = false
                report.problems.append(
                    .init(
                        model: name.description, kind: .corruptManifest, path: url.path, digest: nil,
                        detail: "not a readable manifest: \(ManifestDocument.describe(error))"))
                report.models.append(entry)
                continue
            }
            do {
                entry.bytes = try Descriptor.totalSize([manifest.config] + manifest.layers, what: url.path)
            } catch {
                entry.ok = false
                report.problems.append(
                    .init(
                        model: name.description, kind: .corruptManifest, path: url.path, digest: nil,
                        detail: "not a readable manifest: \(error)"))
                report.models.append(entry)
                continue
            }
            for descriptor in [manifest.config] + manifest.layers {
                entry.blobs += 1
                let kind: ModelStoreReport.Problem.Kind?
                if let known = checked[descriptor.digest] {
                    kind = known
                } else {
                    kind = check(descriptor)
                    checked[descriptor.digest] = kind
                }
                if let kind {
                    entry.ok = false
                    let path = blobURL(descriptor.digest).path
                    let detail: String
                    switch kind {
                    case .missingBlob: detail = "blob is missing"
                    case .sizeMismatch: detail = "blob has the wrong size (\(descriptor.size) bytes expected)"
                    default: detail = "blob content does not match its digest"
                    }
                    report.problems.append(.init(model: name.description, kind: kind, path: path, digest: descriptor.digest, detail: detail))
                }
            }
            report.models.append(entry)
        }
        return report
    }

    private func check(_ descriptor: Descriptor) -> ModelStoreReport.Problem.Kind? {
        let url = blobURL(descriptor.digest)
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: url.path) else { return .missingBlob }
        if (attributes[.size] as? UInt).map(Int64.init) != descriptor.size { return .sizeMismatch }
        guard let (digest, _) = try? Digest.of(file: url, algorithm: descriptor.digest.algorithm) else { return .missingBlob }
        return digest == descriptor.digest ? nil : .corruptBlob
    }
}

/// The result of `models verify`; `ok` is false when anything is missing or corrupt.
package struct ModelStoreReport: Sendable, Codable, Equatable {
    package struct Model: Sendable, Codable, Equatable {
        package var name: String
        package var manifest: String
        package var blobs: Int
        package var bytes: Int64
        package var ok: Bool
    }

    package struct Problem: Sendable, Codable, Equatable {
        package enum Kind: String, Sendable, Codable {
            case missingBlob = "missing", corruptBlob = "corrupt", sizeMismatch = "size", corruptManifest = "manifest"
        }
        package var model: String
        package var kind: Kind
        package var path: String
        package var digest: Digest?
        package var detail: String
    }

    package var schema = "unisonctl.models-verify/v1"
    package var store: String
    package var models: [Model] = []
    package var problems: [Problem] = []
    package var ok: Bool { problems.isEmpty }

    enum CodingKeys: String, CodingKey { case schema, store, models, problems, ok }

    package init(store: String) { self.store = store }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        schema = try c.decode(String.self, forKey: .schema)
        store = try c.decode(String.self, forKey: .store)
        models = try c.decode([Model].self, forKey: .models)
        problems = try c.decode([Problem].self, forKey: .problems)
    }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(schema, forKey: .schema)
        try c.encode(store, forKey: .store)
        try c.encode(models, forKey: .models)
        try c.encode(problems, forKey: .problems)
        try c.encode(ok, forKey: .ok)
    }
}
