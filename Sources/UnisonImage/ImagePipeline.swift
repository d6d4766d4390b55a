import FoundationEssentials
import UnisonArchive
import UnisonCore
import UnisonDisk
import UnisonInstall
import UnisonSpec

/// One kind of image written from the shared root: WSL, VM disks, installer ISO.
package protocol ImageTarget: Sendable {
    associatedtype Result: ImageBuildResult
    /// The target's name in the spec and on the command line (`wsl`, `vm`, `iso`).
    var name: String { get }
    /// Refuses a request this target cannot build, before any work (names, sizes, host files).
    func check(_ request: ImageBuildRequest) throws
    /// Writes the target's artifacts from the root the head made.
    func build(_ root: ImageRoot, run: inout ImageRun) async throws -> Result
}

/// What a build prints: `--json` encodes it, text output is its `summary`.
package protocol ImageBuildResult: Encodable, Sendable {
    var summary: [String] { get }
}

/// One file a build wrote, whichever the target.
package struct ImageArtifact: Sendable, Codable, Equatable {
    package var name: String
    package var path: String
    /// The disk format (VM disks only).
    package var format: DiskFormat?
    package var sha256: String
    package var size: Int64
    /// `<name>.sha256`, in sha256sum's format (the ISO only).
    package var checksumFile: String?
    /// Its SPDX SBOM, when written.
    package var sbom: String?

    package init(
        name: String, path: String, format: DiskFormat? = nil, sha256: String, size: Int64,
        checksumFile: String? = nil, sbom: String? = nil
    ) {
        self.name = name
        self.path = path
        self.format = format
        self.sha256 = sha256
        self.size = size
        self.checksumFile = checksumFile
        self.sbom = sbom
    }

    /// The file at `url`, hashed.
    static func file(_ url: URL, format: DiskFormat? = nil) throws -> ImageArtifact {
        let (hex, size) = try SHA256Hex.file(url)
        return ImageArtifact(name: url.lastPathComponent, path: url.path, format: format, sha256: hex, size: size)
    }

    /// `path  size  sha256:…`, the line text output prints.
    package var line: String { "\(path)  \(ProgressReporter.formatBytes(size))  sha256:\(sha256)" }
}

/// The root every target of a build starts from: the base with the platform on top, times
/// clamped. `workDir` lives until the whole build ends.
package struct ImageRoot: Sendable {
    package var tree: FileTree
    package var workDir: URL
    package var request: ImageBuildRequest
    package var status: (@Sendable (String) -> Void)?
    package var reporter: @Sendable (String, Int64?) -> ProgressReporter
}

/// What the targets of one build share beyond the root: disks already laid out, so an ISO
/// after a VM carries that disk instead of building it again. One run per root: a disk is
/// keyed by its settings only.
package struct ImageRun: Sendable {
    var disks: [VMImage.DiskKey: VMImage.Disk] = [:]
    /// How many disks were laid out in this run (each costs a filesystem build).
    package private(set) var disksLaidOut = 0

    init() {}

    mutating func disk(_ key: VMImage.DiskKey, make: () async throws -> VMImage.Disk) async throws -> VMImage.Disk {
        if let disk = disks[key] { return disk }
        let disk = try await make()
        disks[key] = disk
        disksLaidOut += 1
        return disk
    }
}

/// The one image pipeline: the shared head (one work directory, the base, the platform's steps,
/// the caller's overlay, times clamped) runs once, then each target writes from that root.
package enum ImagePipeline {
    package typealias Status = @Sendable (String) -> Void
    package typealias Reporter = @Sendable (String, Int64?) -> ProgressReporter

    /// Builds one target.
    package static func build<Target: ImageTarget>(
        _ request: ImageBuildRequest, target: Target, status: Status? = nil,
        reporter: @escaping Reporter = { ProgressReporter($0, total: $1) }
    )
        async throws -> Target.Result
    {
        try request.version.check()
        try target.check(request)
        return try await withRoot(request, status: status, reporter: reporter) { root in
            var run = ImageRun()
            return try await target.build(root, run: &run)
        }
    }

    /// Builds every target of `request` from one root, in order.
    package static func build(
        _ request: ImageBuildRequest, status: Status? = nil,
        reporter: @escaping Reporter = { ProgressReporter($0, total: $1) }
    ) async throws -> [any ImageBuildResult] {
        try request.version.check()
        for target in request.targets { try target.check(request) }
        return try await withRoot(request, status: status, reporter: reporter) { root in
            var run = ImageRun()
            var results: [any ImageBuildResult] = []
            for target in request.targets { results.append(try await target.build(root, run: &run)) }
            return results
        }
    }

    /// Builds several requests in one run, in order, with the work they share done once: each
    /// distinct base is read once, each distinct head (base, platform, overlay, version, epoch)
    /// is applied once to a copy of that tree, and the requests of one head share a run (an ISO
    /// after a VM of the same settings carries that disk). Every artifact has the bytes the
    /// request alone would give. A target that fails ends the run as `ImageTargetFailure`,
    /// naming it; what earlier targets wrote stays.
    package static func build(
        _ requests: [ImageBuildRequest], status: Status? = nil,
        reporter: @escaping Reporter = { ProgressReporter($0, total: $1) }
    ) async throws -> [any ImageBuildResult] {
        for request in requests {
            try request.version.check()
            for target in request.targets { try target.check(request) }
        }
        let workDir = try RootfsBuilder.makeWorkDir(label: "image")
        defer { try? FileManager.default.removeItem(at: workDir); TempPaths.unregister(workDir) }
        let heads = ImageHeadKey.group(requests)
        var bases: [String: FileTree] = [:]
        var results: [any ImageBuildResult] = []
        for (index, head) in heads.enumerated() {
            let first = requests[head.members[0]]
            let baseKey = ImageHeadKey.base(first)
            let tree: FileTree
            if let read = bases[baseKey] {
                tree = read
                status?("base: \(first.base) already read in this run")
            } else {
                tree = try readBase(first, workDir: workDir, status: status, reporter: reporter)
                bases[baseKey] = tree
            }
            let headDir = workDir.appendingPathComponent("head-\(index)")
            try FileManager.default.createDirectory(at: headDir, withIntermediateDirectories: true)
            let root = try await applyHead(first, to: tree, workDir: headDir, status: status, reporter: reporter)
            var run = ImageRun()
            for member in head.members {
                var own = root
                own.request = requests[member]
                for target in requests[member].targets {
                    status?("target \(target.name)")
                    do {
                        results.append(try await target.build(own, run: &run))
                    } catch {
                        throw ImageTargetFailure(target: target.name, underlying: error)
                    }
                }
            }
        }
        return results
    }

    static func readBase(
        _ request: ImageBuildRequest, workDir: URL, status: Status?, reporter: @escaping Reporter
    ) throws -> FileTree {
        let reading = reporter("reading the base", nil)
        let tree = try BaseSource.load(request.base, cacheDir: request.cacheDir, workDir: workDir, progress: status) { reading.set($0) }
        reading.finish()
        status?("base: \(tree.count) entries, \(ProgressReporter.formatBytes(tree.contentSize))")
        return tree
    }

    /// The platform's steps, the caller's overlay and the epoch over a copy of the base's tree.
    static func applyHead(
        _ request: ImageBuildRequest, to base: FileTree, workDir: URL, status: Status?, reporter: @escaping Reporter
    ) async throws -> ImageRoot {
        var tree = base
        if let platform = request.platform {
            var context = ImageHeadContext(platform: platform, request: request, workDir: workDir, status: status)
            for step in ImageHead.steps { try await step.apply(to: &tree, context: &context) }
        }
        try request.overlay?.apply(to: &tree)
        tree.clampTimes(to: request.epoch)
        return ImageRoot(tree: tree, workDir: workDir, request: request, status: status, reporter: reporter)
    }

    /// The shared head: one work directory for the whole build, removed at the end.
    static func withRoot<T>(
        _ request: ImageBuildRequest, status: Status?, reporter: @escaping Reporter,
        _ body: (ImageRoot) async throws -> T
    ) async throws -> T {
        let workDir = try RootfsBuilder.makeWorkDir(label: "image")
        defer { try? FileManager.default.removeItem(at: workDir); TempPaths.unregister(workDir) }
        let tree = try readBase(request, workDir: workDir, status: status, reporter: reporter)
        return try await body(try await applyHead(request, to: tree, workDir: workDir, status: status, reporter: reporter))
    }
}

/// A target of a multi-target build that failed: `image target 'vm' failed: …`, with the
/// exit status of the error underneath.
package struct ImageTargetFailure: Error, CustomStringConvertible, ExitCoded {
    package var target: String
    package var underlying: any Error

    package var exitStatus: ExitStatus { (underlying as? any ExitCoded)?.exitStatus ?? .checkFailed }

    package var description: String { "image target '\(target)' failed: \(String(describing: underlying))" }
}

/// What makes two requests' roots the same: the base read (with its cache), and on top of it
/// the platform's settings, the overlay, the version and the epoch. A request with an overlay
/// has a head of its own (an overlay is code, not a value to compare).
enum ImageHeadKey {
    static func base(_ request: ImageBuildRequest) -> String {
        "\(request.base)\u{0}\(request.cacheDir.path)"
    }

    static func head(_ request: ImageBuildRequest, index: Int) -> String {
        var fields = [base(request), request.version.text, String(request.epoch)]
        if request.overlay != nil { fields.append("overlay #\(index)") }
        if let p = request.platform {
            fields += [
                p.mode.rawValue, p.modelPack.name, p.modelRegistry, p.releaseManifest?.path ?? "-", p.unisonctl.path,
                p.ollama?.rawValue ?? "-", p.answers.map { "\($0.path)\u{0}\($0.text)" } ?? "-",
                p.serviceImages.map { "preload \($0.registry ?? "-") \($0.platform)" } ?? "-",
                p.specText ?? "-",
            ]
        } else {
            fields.append("no platform")
        }
        return fields.joined(separator: "\u{0}")
    }

    /// The requests' heads in order of first use, each with the indices of its requests.
    static func group(_ requests: [ImageBuildRequest]) -> [(key: String, members: [Int])] {
        var heads: [(key: String, members: [Int])] = []
        for (index, request) in requests.enumerated() {
            let key = head(request, index: index)
            if let at = heads.firstIndex(where: { $0.key == key }) {
                heads[at].members.append(index)
            } else {
                heads.append((key, [index]))
            }
        }
        return heads
    }
}
