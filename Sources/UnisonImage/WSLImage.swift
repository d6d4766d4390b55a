import FoundationEssentials
import UnisonArchive
import UnisonCore
import UnisonSpec

/// Output formats of the WSL target: both are the same gzip tar; `.wsl` is the name Windows
/// opens with `wsl --install --from-file` (or a double click).
package enum WSLFormat: String, Sendable, CaseIterable, Codable {
    case tarGz = "tar.gz"
    case wsl
}

/// The WSL target: the root as a gzip tar, `.tar.gz` and `.wsl`.
package struct WSLImage: ImageTarget {
    package var name: String { "wsl" }
    package var distribution: WSLDistribution
    package var formats: [WSLFormat]
    package var gzipLevel: Int32

    /// The archive's gzip level unless the command line names one.
    package static let defaultGzipLevel: Int32 = 6

    package init(distribution: WSLDistribution, formats: [WSLFormat] = WSLFormat.allCases, gzipLevel: Int32 = defaultGzipLevel) {
        self.distribution = distribution
        self.formats = formats.isEmpty ? WSLFormat.allCases : formats
        self.gzipLevel = gzipLevel
    }

    package static func artifactURL(_ format: WSLFormat, _ request: ImageBuildRequest) throws -> URL {
        try request.artifactURL("wsl2", format.rawValue)
    }

    package func check(_ request: ImageBuildRequest) throws {
        try distribution.validate()
        for format in WSLFormat.allCases { _ = try Self.artifactURL(format, request) }
    }

    /// Root → WSL changes → checks → gzip tar written atomically, then the `.wsl` copy. Same
    /// inputs and epoch give the same bytes.
    package func build(_ root: ImageRoot, run: inout ImageRun) async throws -> WSLBuildResult {
        let request = root.request
        var tree = root.tree
        let report = try WSLRootfs.prepare(&tree, distribution: distribution, mtime: request.epoch)
        tree.clampTimes(to: request.epoch)
        let problems = WSLRootfs.problems(in: tree, distribution: distribution)
        guard problems.isEmpty else { throw WSLError.requirementsNotMet(problems) }

        let primary = try Self.artifactURL(formats[0], request)
        root.status?("writing \(primary.path)")
        let progress = root.reporter("writing \(primary.lastPathComponent)", tree.contentSize)
        try TarArchive.write(
            tree, to: primary,
            options: .init(
                tar: TarWriteOptions(nameStyle: .plain, clampMtime: request.epoch),
                compression: .gzip, level: gzipLevel, threads: request.threads)
        ) { progress.set($0) }
        progress.finish()

        var artifacts = [try ImageArtifact.file(primary)]
        for format in formats.dropFirst() {
            // The same bytes under the other name, also renamed into place.
            let copy = try Self.artifactURL(format, request)
            try AtomicFile.write(to: copy, permissions: 0o644) { tmp in
                try FileManager.default.copyItem(at: primary, to: tmp)
            }
            artifacts.append(ImageArtifact(name: copy.lastPathComponent, path: copy.path, sha256: artifacts[0].sha256, size: artifacts[0].size))
        }
        try ImageSBOM.attach(to: &artifacts, tree: tree, root: root)
        return WSLBuildResult(
            version: request.version.text, base: request.base.description, sourceDateEpoch: request.epoch,
            entries: tree.count, contentBytes: tree.contentSize, artifacts: artifacts, changes: report)
    }
}

/// The build's result, printed by `unisonctl image build wsl --json`.
package struct WSLBuildResult: ImageBuildResult, Codable, Equatable {
    package var schema = "unisonctl.image-build.wsl/v1"
    package var version: String
    package var base: String
    package var sourceDateEpoch: Int64
    package var entries: Int
    package var contentBytes: Int64
    package var artifacts: [ImageArtifact]
    package var changes: WSLRootfs.Report

    package var summary: [String] { artifacts.map(\.line) }
}
