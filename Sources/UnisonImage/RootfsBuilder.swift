import Foundation
import UnisonArchive
import UnisonCore

/// Something that adds the platform to a root filesystem: the installer's plan (`InstallPlan`)
/// in production, a small closure in tests. Applied after the base and before the target's
/// own changes (WSL configuration, boot loader, …).
public protocol RootfsOverlay: Sendable {
    func apply(to tree: inout FileTree) throws
}

/// An overlay from a closure.
public struct ClosureOverlay: RootfsOverlay {
    private let body: @Sendable (inout FileTree) throws -> Void
    public init(_ body: @escaping @Sendable (inout FileTree) throws -> Void) { self.body = body }
    public func apply(to tree: inout FileTree) throws { try body(&tree) }
}

/// Overlays applied one after the other.
public struct ComposedOverlay: RootfsOverlay {
    public let overlays: [any RootfsOverlay]
    public init(_ overlays: [any RootfsOverlay]) { self.overlays = overlays }
    public func apply(to tree: inout FileTree) throws { for o in overlays { try o.apply(to: &tree) } }
}

/// The common first half of every image target: base, then overlay, then timestamps clamped.
public enum RootfsBuilder {
    /// Loads `base`, applies `overlay`, clamps every mtime to `epoch` (SOURCE_DATE_EPOCH).
    public static func assemble(base: BaseSource, overlay: any RootfsOverlay, epoch: Int64, cacheDir: URL,
                                workDir: URL, progress: (@Sendable (String) -> Void)? = nil,
                                bytes: ((Int64) -> Void)? = nil) throws -> FileTree {
        var tree = try BaseSource.load(base, cacheDir: cacheDir, workDir: workDir, progress: progress, bytes: bytes)
        progress?("base: \(tree.count) entries, \(ProgressReporter.formatBytes(tree.contentSize))")
        try overlay.apply(to: &tree)
        tree.clampTimes(to: epoch)
        return tree
    }

    /// A private working directory for one build (spooled layers), removed by the caller.
    public static func makeWorkDir(label: String) throws -> URL {
        try TempPaths.makeDirectory(prefix: "unisonctl-\(label)")
    }

    /// Paths of the tree whose last component matches a shell-style `*` pattern, below `dir`.
    public static func entries(of tree: FileTree, in dir: String, matching pattern: String) -> [String] {
        tree.children(of: dir).map(\.path).filter { path in
            let name = path.split(separator: "/").last.map(String.init) ?? path
            return glob(pattern, name)
        }
    }

    /// `*`-only glob, enough for kernel file names (`vmlinuz-*`).
    static func glob(_ pattern: String, _ name: String) -> Bool {
        let parts = pattern.split(separator: "*", omittingEmptySubsequences: false).map(String.init)
        if parts.count == 1 { return pattern == name }
        guard name.hasPrefix(parts[0]), name.hasSuffix(parts[parts.count - 1]),
              name.count >= parts[0].count + parts[parts.count - 1].count else { return false }
        var rest = Substring(name.dropFirst(parts[0].count).dropLast(parts[parts.count - 1].count))
        for middle in parts.dropFirst().dropLast() where !middle.isEmpty {
            guard let r = rest.range(of: middle) else { return false }
            rest = rest[r.upperBound...]
        }
        return true
    }
}
