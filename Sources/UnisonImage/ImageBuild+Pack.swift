import FoundationEssentials
import UnisonArchive
import UnisonCore

/// `unisonctl image tar`: any base (directory, tarball, OCI layout) written as one
/// deterministic tarball, compressed as the output name says. Used by scripts/bench-tar.sh to
/// compare our gzip with `tar | gzip` and `pigz` on the same root filesystem.
package enum ImagePack {
    package struct Result: Sendable, Codable, Equatable {
        package var schema = "unisonctl.image-tar/v1"
        package var path: String
        package var compression: String
        package var entries: Int
        package var contentBytes: Int64
        package var size: Int64
        package var sha256: String
        package var seconds: Double
    }

    package static func pack(
        _ source: BaseSource, to destination: URL, level: Int32? = nil,
        nameStyle: TarWriteOptions.NameStyle = .plain, epoch: Int64 = SourceDateEpoch.current(),
        threads: Int = ProcessInfo.processInfo.activeProcessorCount,
        cacheDir: URL = BaseCache.directory()
    ) throws -> Result {
        let started = Date()
        let workDir = try RootfsBuilder.makeWorkDir(label: "tar")
        defer { try? FileManager.default.removeItem(at: workDir) }
        var tree = try BaseSource.load(source, cacheDir: cacheDir, workDir: workDir)
        tree.clampTimes(to: epoch)
        let compression = ArchiveCompression.forFileName(destination.lastPathComponent)
        try TarArchive.write(
            tree, to: destination,
            options: .init(
                tar: .init(nameStyle: nameStyle, clampMtime: epoch),
                compression: compression, level: level, threads: threads))
        let (hex, size) = try SHA256Hex.file(destination)
        return Result(
            path: destination.path, compression: compression.rawValue, entries: tree.count,
            contentBytes: tree.contentSize, size: size, sha256: hex, seconds: Date().timeIntervalSince(started))
    }
}
