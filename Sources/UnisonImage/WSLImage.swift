import Foundation
import UnisonArchive
import UnisonCore
import UnisonSpec

/// Output formats of the WSL target: both are the same gzip tar; `.wsl` is the name Windows
/// opens with `wsl --install --from-file` (or a double click).
public enum WSLFormat: String, Sendable, CaseIterable, Codable {
    case tarGz = "tar.gz"
    case wsl
}

/// Everything one WSL build needs; `init(spec:…)` fills it from `unison.yaml`.
public struct WSLBuildOptions: Sendable {
    public var base: BaseSource
    public var outputDirectory: URL
    public var version: String
    /// `<prefix>-wsl2-<version>.tar.gz`: the platform's name (`unisonos`).
    public var artifactPrefix: String
    public var distribution: WSLDistribution
    public var formats: [WSLFormat]
    /// SOURCE_DATE_EPOCH: every timestamp is clamped to it.
    public var epoch: Int64
    public var cacheDir: URL
    public var gzipLevel: Int32
    public var threads: Int
    /// Ollama model stores of the root (the spec's `models.store`), listed in the SBOM.
    public var modelStores: [String] = []
    /// Write `<artifact>.spdx.json` beside each artifact.
    public var writeSBOM = true

    public init(base: BaseSource, outputDirectory: URL, version: String, artifactPrefix: String = "unisonos",
                distribution: WSLDistribution, formats: [WSLFormat] = WSLFormat.allCases,
                epoch: Int64 = SourceDateEpoch.current(), cacheDir: URL = BaseCache.directory(),
                gzipLevel: Int32 = 6, threads: Int = ProcessInfo.processInfo.activeProcessorCount) {
        self.base = base
        self.outputDirectory = outputDirectory
        self.version = version
        self.artifactPrefix = artifactPrefix
        self.distribution = distribution
        self.formats = formats
        self.epoch = epoch
        self.cacheDir = cacheDir
        self.gzipLevel = gzipLevel
        self.threads = threads
    }

    /// Options from the spec: the `targets.wsl` base (unless `base` is given), the platform
    /// version (unless `version` is given), its name and display name, the default user.
    public init(spec: PlatformSpec, base: BaseSource? = nil, outputDirectory: URL, version: String? = nil,
                epoch: Int64 = SourceDateEpoch.current(), cacheDir: URL = BaseCache.directory()) throws {
        guard let target = spec.targets.wsl else { throw WSLError.badDistribution("the spec has no targets.wsl") }
        let chosen: BaseSource
        if let base {
            chosen = base
        } else if let named = spec.base(named: target.base) {
            chosen = .named(named)
        } else {
            throw BaseError.notFound(target.base, hint: "targets.wsl.base names no entry of bases:")
        }
        let formats = target.formats.compactMap(WSLFormat.init(rawValue:))
        self.init(base: chosen, outputDirectory: outputDirectory, version: version ?? spec.platform.version.description,
                  artifactPrefix: spec.platform.name,
                  distribution: WSLDistribution(defaultName: spec.platform.displayName, defaultUser: target.defaultUser),
                  formats: formats.isEmpty ? WSLFormat.allCases : formats, epoch: epoch, cacheDir: cacheDir)
        modelStores = [spec.models.store]
    }

    public func artifactName(_ format: WSLFormat) -> String { "\(artifactPrefix)-wsl2-\(version).\(format.rawValue)" }
}

/// One file a build wrote.
public struct WSLArtifact: Sendable, Codable, Equatable {
    public var name: String
    public var path: String
    public var sha256: String
    public var size: Int64
    /// Its SPDX SBOM, when written.
    public var sbom: String?
}

/// The build's result, printed by `unisonctl image build wsl --json`.
public struct WSLBuildResult: Sendable, Codable, Equatable {
    public var schema = "unisonctl.image-build.wsl/v1"
    public var version: String
    public var base: String
    public var sourceDateEpoch: Int64
    public var entries: Int
    public var contentBytes: Int64
    public var artifacts: [WSLArtifact]
    public var changes: WSLRootfs.Report
}

public enum WSLImage {
    /// Builds the WSL distribution: base → overlay → WSL changes → checks → gzip tar written
    /// atomically, then the `.wsl` copy. Same inputs and epoch give the same bytes.
    /// `status` receives short lines for people; byte progress goes through `ProgressReporter`.
    public static func build(_ options: WSLBuildOptions, overlay: any RootfsOverlay,
                             status: (@Sendable (String) -> Void)? = nil,
                             reporter: @Sendable (String, Int64?) -> ProgressReporter = { ProgressReporter($0, total: $1) })
        throws -> WSLBuildResult {
        let allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-")
        guard !options.version.isEmpty, !options.version.hasPrefix("."), options.version.unicodeScalars.allSatisfy(allowed.contains) else {
            throw WSLError.badVersion(options.version)
        }
        try options.distribution.validate()
        for format in WSLFormat.allCases { _ = try ArtifactPath.destination(in: options.outputDirectory, name: options.artifactName(format)) }
        let workDir = try RootfsBuilder.makeWorkDir(label: "wsl")
        defer { try? FileManager.default.removeItem(at: workDir) }

        let reading = reporter("reading the base", nil)
        var tree = try RootfsBuilder.assemble(base: options.base, overlay: overlay, epoch: options.epoch,
                                              cacheDir: options.cacheDir, workDir: workDir, progress: status) { reading.set($0) }
        reading.finish()
        let report = try WSLRootfs.prepare(&tree, distribution: options.distribution, mtime: options.epoch)
        tree.clampTimes(to: options.epoch)
        let problems = WSLRootfs.problems(in: tree, distribution: options.distribution)
        guard problems.isEmpty else { throw WSLError.requirementsNotMet(problems) }

        let formats = options.formats.isEmpty ? WSLFormat.allCases : options.formats
        let primary = try ArtifactPath.destination(in: options.outputDirectory, name: options.artifactName(formats[0]))
        status?("writing \(primary.path)")
        let progress = reporter("writing \(primary.lastPathComponent)", tree.contentSize)
        try TarArchive.write(tree, to: primary, options: .init(
            tar: TarWriteOptions(nameStyle: .plain, clampMtime: options.epoch),
            compression: .gzip, level: options.gzipLevel, threads: options.threads)) { progress.set($0) }
        progress.finish()

        var artifacts: [WSLArtifact] = []
        let (hex, size) = try SHA256Hex.file(primary)
        artifacts.append(WSLArtifact(name: primary.lastPathComponent, path: primary.path, sha256: hex, size: size))
        for format in formats.dropFirst() {
            // The same bytes under the other name, also renamed into place.
            let copy = try ArtifactPath.destination(in: options.outputDirectory, name: options.artifactName(format))
            try AtomicFile.write(to: copy, permissions: 0o644) { tmp in
                try FileManager.default.copyItem(at: primary, to: tmp)
            }
            artifacts.append(WSLArtifact(name: copy.lastPathComponent, path: copy.path, sha256: hex, size: size))
        }
        if options.writeSBOM {
            let sboms = try ImageSBOM.write(tree: tree, artifacts: artifacts.map { (URL(fileURLWithPath: $0.path), $0.sha256) }, version: options.version,
                                            base: options.base, cacheDir: options.cacheDir, modelStores: options.modelStores,
                                            epoch: options.epoch, status: status)
            for i in artifacts.indices { artifacts[i].sbom = sboms[i] }
        }
        return WSLBuildResult(version: options.version, base: options.base.description, sourceDateEpoch: options.epoch,
                              entries: tree.count, contentBytes: tree.contentSize, artifacts: artifacts, changes: report)
    }
}
