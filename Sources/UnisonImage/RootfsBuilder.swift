import FoundationEssentials
import UnisonArchive
import UnisonCore

/// Something that adds the platform to a root filesystem: the installer's plan (`InstallPlan`)
/// in production, a small closure in tests. Applied after the base and before the target's
/// own changes (WSL configuration, boot loader, …).
package protocol RootfsOverlay: Sendable {
    func apply(to tree: inout FileTree) throws
}

/// An overlay from a closure.
package struct ClosureOverlay: RootfsOverlay {
    private let body: @Sendable (inout FileTree) throws -> Void
    package init(_ body: @escaping @Sendable (inout FileTree) throws -> Void) { self.body = body }
    package func apply(to tree: inout FileTree) throws { try body(&tree) }
}

/// Helpers of the image pipeline's head (`ImagePipeline`): its work directory, tree lookups.
package enum RootfsBuilder {
    /// A private working directory for one build (spooled layers), removed by the caller.
    package static func makeWorkDir(label: String) throws -> URL {
        try TempPaths.makeDirectory(prefix: "unisonctl-\(label)")
    }

    /// Paths of the tree whose last component matches a shell-style `*` pattern, below `dir`.
    package static func entries(of tree: FileTree, in dir: String, matching pattern: String) -> [String] {
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
            name.count >= parts[0].count + parts[parts.count - 1].count
        else { return false }
        var rest = Substring(name.dropFirst(parts[0].count).dropLast(parts[parts.count - 1].count))
        for middle in parts.dropFirst().dropLast() where !middle.isEmpty {
            guard let r = rest.firstRange(of: middle) else { return false }
            rest = rest[r.upperBound...]
        }
        return true
    }
}
