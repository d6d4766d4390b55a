import FoundationEssentials
import Glibc
import Synchronization
import UnisonArchive
import UnisonAttest
import UnisonCore

/// The SBOM every image artifact gets beside it (`<artifact>.spdx.json`), read from the root
/// the artifact was written from.
enum ImageSBOM {
    /// The base as the SBOM and the provenance name it: its description and, when it is a
    /// file (a rootfs tarball), its sha256.
    static func baseInfo(_ source: BaseSource, cacheDir: URL) throws -> (name: String, sha256: String?) {
        let file: URL?
        switch source {
        case let .tarball(url): file = url
        case let .named(base):
            let url = BaseCache.location(of: base, cacheDir: cacheDir)
            var isDir = false
            file = FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) && !isDir ? url : nil
        case .directory, .ociLayout: file = nil
        }
        let name = file?.lastPathComponent ?? source.description
        return (name, try file.map(baseDigest))
    }

    /// Base tarballs hashed in this process, by path, size and modification time: every
    /// artifact's SBOM names the same base, and hashing 700 MB again for each costs seconds.
    private static let baseDigests = Mutex<[String: String]>([:])

    private static func baseDigest(_ url: URL) throws -> String {
        var st = stat()
        guard stat(url.path, &st) == 0 else { return try SHA256Hex.file(url).hex }
        let key = "\(url.path)\u{0}\(st.st_size)\u{0}\(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)\u{0}\(st.st_ino)"
        if let known = baseDigests.withLock({ $0[key] }) { return known }
        let hex = try SHA256Hex.file(url).hex
        baseDigests.withLock { $0[key] = hex }
        return hex
    }

    /// Writes the SBOM of each artifact; returns their paths in the same order.
    static func write(
        tree: FileTree, artifacts: [(url: URL, sha256: String)], version: String, base: BaseSource, cacheDir: URL, modelStores: [String],
        epoch: Int64, status: (@Sendable (String) -> Void)?
    ) throws -> [String] {
        let inventory = try RootInventory.scan(tree, modelStores: modelStores)
        let baseInfo = try Self.baseInfo(base, cacheDir: cacheDir)
        status?("SBOM: \(inventory.packages.count) Debian packages, \(inventory.images.count) models/images, \(inventory.tools.count) tools")
        return try artifacts.map {
            try SBOM.write(inventory, artifact: $0.url, sha256: $0.sha256, version: version, base: baseInfo, epoch: epoch).path
        }
    }

    /// Writes the SBOM of each artifact, when the request asks for them, and records its path.
    static func attach(to artifacts: inout [ImageArtifact], tree: FileTree, root: ImageRoot) throws {
        let request = root.request
        guard request.writeSBOM else { return }
        let sboms = try write(
            tree: tree, artifacts: artifacts.map { (URL(fileURLWithPath: $0.path), $0.sha256) },
            version: request.version.text, base: request.base, cacheDir: request.cacheDir,
            modelStores: request.modelStores, epoch: request.epoch, status: root.status)
        for i in artifacts.indices { artifacts[i].sbom = sboms[i] }
    }
}
