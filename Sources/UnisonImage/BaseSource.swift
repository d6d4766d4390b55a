import FoundationEssentials
import UnisonArchive
import UnisonCore
import UnisonSpec

/// Where an image's root filesystem starts from, before any overlay.
package enum BaseSource: Sendable, Equatable, CustomStringConvertible {
    /// A rootfs tarball: `.tar`, `.tar.gz`, `.tar.zst` or `.tar.xz` (recognized by content).
    case tarball(URL)
    /// A directory holding a root filesystem (ownership as recorded on disk).
    case directory(URL)
    /// An OCI image layout directory (`oci-layout`, `index.json`, `blobs/sha256/…`), with the
    /// tag (`org.opencontainers.image.ref.name`) to use; nil when the index has one image.
    case ociLayout(URL, tag: String?)
    /// A base declared in the spec's `bases:`.
    case named(Base)

    package var description: String {
        switch self {
        case let .tarball(url): return url.path
        case let .directory(url): return url.path
        case let .ociLayout(url, tag): return "oci:\(url.path)" + (tag.map { ":\($0)" } ?? "")
        case let .named(base): return base.name
        }
    }

    /// Parses a `--base` value: `oci:DIR[:TAG]`, a path to a tarball or a directory, or the
    /// name of a base in the spec (a path wins when both exist).
    package static func parse(_ text: String, spec: PlatformSpec?, relativeTo cwd: URL? = nil) throws -> BaseSource {
        let fm = FileManager.default
        func url(_ path: String) -> URL {
            if path.hasPrefix("/") { return URL(fileURLWithPath: path).standardizedFileURL }
            let dir = cwd?.path ?? fm.currentDirectoryPath
            return URL(fileURLWithPath: dir).appendingPathComponent(path).standardizedFileURL
        }
        if text.hasPrefix("oci:") {
            let rest = String(text.dropFirst(4))
            // DIR[:TAG]: the tag is what follows the last ':' unless that leaves no directory.
            var dir = rest
            var tag: String?
            if let colon = rest.lastIndex(of: ":"), colon != rest.startIndex {
                let candidate = String(rest[rest.index(after: colon)...])
                if !candidate.isEmpty, !candidate.contains("/") {
                    dir = String(rest[..<colon])
                    tag = candidate
                }
            }
            let u = url(dir)
            var isDir = false
            guard fm.fileExists(atPath: u.path, isDirectory: &isDir), isDir else {
                throw BaseError.notFound(
                    text, hint: "oci: needs an OCI image layout directory, e.g. made by `skopeo copy docker://IMAGE oci:DIR:TAG`")
            }
            return .ociLayout(u, tag: tag)
        }
        var isDir = false
        let u = url(text)
        if fm.fileExists(atPath: u.path, isDirectory: &isDir) {
            if isDir {
                if fm.fileExists(atPath: u.appendingPathComponent("oci-layout").path) { return .ociLayout(u, tag: nil) }
                return .directory(u)
            }
            return .tarball(u)
        }
        if let base = spec?.base(named: text) { return .named(base) }
        let names = spec?.bases.map(\.name).joined(separator: ", ") ?? ""
        throw BaseError.notFound(text, hint: names.isEmpty ? nil : "the spec's bases are: \(names)")
    }
}

/// Problems finding or reading a base, each with what to do about it.
package enum BaseError: Error, CustomStringConvertible, Sendable, Equatable, ExitCoded {
    case notFound(String, hint: String?)
    /// A spec base that must be built first (mmdebstrap) and is not in the cache.
    case notBuilt(name: String, path: String, fix: String)
    case ociNotCached(name: String, image: String, path: String)
    case missingPath(name: String, kind: String)
    case layout(path: String, detail: String)
    case digestMismatch(path: String, expected: String, actual: String)
    case unsupportedMediaType(digest: String, mediaType: String)

    package var exitStatus: ExitStatus { .badInput }

    package var description: String {
        switch self {
        case let .notFound(text, hint):
            return "base '\(text)' is neither a file, a directory nor a base of the spec" + (hint.map { " (\($0))" } ?? "")
        case let .notBuilt(name, path, fix):
            return "base '\(name)' has not been built: \(path) is missing; build it with: \(fix)"
        case let .ociNotCached(name, image, path):
            return "base '\(name)' (\(image)) is not in the cache at \(path); fetch it with: skopeo copy docker://\(image) oci:\(path):latest"
                + " (or pass --base oci:DIR:TAG)"
        case let .missingPath(name, kind): return "base '\(name)' has kind \(kind) but no path"
        case let .layout(path, detail): return "OCI layout \(path): \(detail)"
        case let .digestMismatch(path, expected, actual):
            return "blob \(path) does not match its digest: expected \(expected), got sha256:\(actual)"
        case let .unsupportedMediaType(digest, mediaType): return "layer \(digest) has media type \(mediaType), which unisonctl cannot apply"
        }
    }
}

/// The cache of built bases, outside the repository:
/// `$UNISONCTL_CACHE_DIR`, else `$XDG_CACHE_HOME/unisonctl`, else `~/.cache/unisonctl`.
/// `scripts/build-base.sh` writes `bases/<name>.tar` there.
package enum BaseCache {
    package static func directory(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        if let dir = environment["UNISONCTL_CACHE_DIR"], !dir.isEmpty { return URL(fileURLWithPath: dir) }
        if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty { return URL(fileURLWithPath: xdg).appendingPathComponent("unisonctl") }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? FileManager.default.homeDirectoryForCurrentUser.path
        return URL(fileURLWithPath: home).appendingPathComponent(".cache/unisonctl")
    }

    /// Where a spec base lives in the cache: `bases/<name>.tar` (mmdebstrap) or `bases/<name>`
    /// (an OCI layout directory for `kind: oci`).
    package static func location(of base: Base, cacheDir: URL) -> URL {
        let bases = cacheDir.appendingPathComponent("bases")
        return base.kind == .oci ? bases.appendingPathComponent(base.name) : bases.appendingPathComponent("\(base.name).tar")
    }
}

extension BaseSource {
    /// Turns a base into a `FileTree` (shared by the WSL, VM and ISO pipelines).
    ///
    /// File contents are referenced, not copied: an uncompressed tarball is read in place;
    /// compressed tarballs and OCI layers are decompressed into `workDir`, which must outlive
    /// the tree (without one, their contents are held in memory). `progress` receives short status lines, `bytes` the uncompressed bytes of a
    /// tarball read so far.
    package static func load(
        _ source: BaseSource, cacheDir: URL = BaseCache.directory(), workDir: URL? = nil,
        progress: (@Sendable (String) -> Void)? = nil, bytes: ((Int64) -> Void)? = nil
    ) throws -> FileTree {
        let spool = TarReadOptions(allowAbsoluteNames: true, spoolDirectory: workDir)
        switch source {
        case let .tarball(url):
            progress?("reading \(url.path)")
            return try FileTree(tarball: url, options: spool, progress: bytes)
        case let .directory(url):
            progress?("reading \(url.path)")
            return try FileTree(directory: url)
        case let .ociLayout(url, tag):
            return try OCILayoutBase(directory: url).loadTree(tag: tag, workDir: workDir, progress: progress)
        case let .named(base):
            return try load(base: base, cacheDir: cacheDir, workDir: workDir, progress: progress, bytes: bytes)
        }
    }

    /// Loads a spec base: mmdebstrap bases from the cache (built by `scripts/build-base.sh`),
    /// `oci` bases from an OCI layout in the cache, tarball and directory bases from their path.
    package static func load(
        base: Base, cacheDir: URL = BaseCache.directory(), workDir: URL? = nil,
        progress: (@Sendable (String) -> Void)? = nil, bytes: ((Int64) -> Void)? = nil
    ) throws -> FileTree {
        let location = BaseCache.location(of: base, cacheDir: cacheDir)
        switch base.kind {
        case .mmdebstrap:
            guard FileManager.default.fileExists(atPath: location.path) else {
                throw BaseError.notBuilt(name: base.name, path: location.path, fix: "scripts/build-base.sh \(base.name)")
            }
            return try load(.tarball(location), cacheDir: cacheDir, workDir: workDir, progress: progress, bytes: bytes)
        case .oci:
            guard FileManager.default.fileExists(atPath: location.appendingPathComponent("oci-layout").path) else {
                throw BaseError.ociNotCached(name: base.name, image: base.image ?? "?", path: location.path)
            }
            return try load(.ociLayout(location, tag: nil), cacheDir: cacheDir, workDir: workDir, progress: progress, bytes: bytes)
        case .tarball:
            guard let path = base.path else { throw BaseError.missingPath(name: base.name, kind: "tarball") }
            return try load(.tarball(URL(fileURLWithPath: path)), cacheDir: cacheDir, workDir: workDir, progress: progress, bytes: bytes)
        case .directory:
            guard let path = base.path else { throw BaseError.missingPath(name: base.name, kind: "directory") }
            return try load(.directory(URL(fileURLWithPath: path)), cacheDir: cacheDir, workDir: workDir, progress: progress, bytes: bytes)
        }
    }
}
