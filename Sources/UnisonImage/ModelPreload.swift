import FoundationEssentials
import UnisonArchive
import UnisonCore
import UnisonOCI
import UnisonSpec

/// Local models preloaded into an image: the model pack's models are pulled over OCI into an
/// Ollama store (every blob verified), and the store is placed at the spec's `models.store`,
/// which the compose bundle mounts into the Ollama container.
package enum ModelPreload {
    package enum PreloadError: Error, CustomStringConvertible, ExitCoded {
        case unverified(model: String, problems: [String])

        package var exitStatus: ExitStatus { .checkFailed }

        package var description: String {
            switch self {
            case let .unverified(model, problems):
                return "model store for \(model) failed verification: \(problems.joined(separator: "; "))"
            }
        }
    }

    /// Pulls every model of `pack` (checked against the spec when the request was made) into a
    /// fresh store under `workDir` and returns it (nil when the pack preloads nothing).
    /// `mirror` (host[:port] or URL) is where blobs come from; the
    /// models are recorded under the spec's `models.registry`, so Ollama lists them by their
    /// usual names (`qwen2.5:1.5b`) whichever mirror served them.
    package static func pull(
        spec: PlatformSpec, pack: ModelPack, mirror: String?, workDir: URL,
        client: RegistryClient = RegistryClient()
    ) async throws -> URL? {
        guard !pack.preload.isEmpty else { return nil }
        let source = mirror ?? spec.models.registry
        let sourceHost = try RegistryEndpoint(parsing: source).host
        let canonicalHost = try RegistryEndpoint(parsing: spec.models.registry).host
        let store = workDir.appendingPathComponent("models-\(pack.name)")
        try? FileManager.default.removeItem(at: store)
        try FileManager.default.createDirectory(at: store, withIntermediateDirectories: true)
        let puller = ModelPuller(client: client)
        for model in pack.preload {
            try await puller.pull(name: model, registry: source, store: store)
        }
        if sourceHost != canonicalHost {
            let manifests = store.appendingPathComponent("manifests")
            try FileManager.default.moveItem(
                at: manifests.appendingPathComponent(sourceHost),
                to: manifests.appendingPathComponent(canonicalHost))
        }
        let report = try ModelStore(root: store).verify()
        if !report.problems.isEmpty {
            throw PreloadError.unverified(
                model: pack.preload.joined(separator: ", "),
                problems: report.problems.map { "\($0)" })
        }
        return store
    }
}

/// Places a model store directory in the tree at `destination` (root-owned, 0644 files).
package struct ModelStoreOverlay: RootfsOverlay {
    package let store: URL
    package let destination: String
    package let mtime: Int64

    package init(store: URL, destination: String, mtime: Int64) {
        self.store = store
        self.destination = destination
        self.mtime = mtime
    }

    package func apply(to tree: inout FileTree) throws {
        let base = try FileTree.normalize(destination, allowAbsolute: true)
        try tree.addDirectory(base, mtime: mtime)
        let paths = DirectoryWalk.entries(under: store.path).map { ($0.path, $0.isDirectory, store.appendingPathComponent($0.path)) }
        for (relative, isDir, url) in paths.sorted(by: { $0.0 < $1.0 }) {
            let path = base + "/" + relative
            if isDir {
                try tree.addDirectory(path, mtime: mtime)
            } else {
                try tree.insert(.init(path: path, kind: .regular(.file(url)), mode: 0o644, mtime: mtime))
            }
        }
    }
}
