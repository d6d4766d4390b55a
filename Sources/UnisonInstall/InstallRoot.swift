import FoundationEssentials
import UnisonArchive

/// What is at a path of a root, without following a final symlink.
package struct RootItem: Sendable, Equatable {
    package enum Kind: Sendable, Equatable {
        case directory
        case file
        case symlink(target: String)
        case other
    }

    package var kind: Kind
    package var mode: UInt32
    package var owner: FileOwner

    package init(kind: Kind, mode: UInt32, owner: FileOwner) {
        self.kind = kind
        self.mode = mode & 0o7777
        self.owner = owner
    }

    var kindName: String {
        switch kind {
        case .directory: return "directory"
        case .file: return "file"
        case .symlink: return "symlink"
        case .other: return "special file"
        }
    }
}

/// The file system an install is applied to: a directory of the host (`/` or `--root DIR`)
/// or an image's in-memory `FileTree`. Paths are absolute as seen on the installed system.
package protocol InstallRoot {
    /// Printed in reports and errors (`/`, `/tmp/root`, `image`).
    var label: String { get }
    /// False where ownership cannot be applied (a rootless host root): it is recorded instead.
    var appliesOwnership: Bool { get }
    func item(at path: String) throws -> RootItem?
    /// A regular file's bytes.
    func contents(of path: String) throws -> Data
    /// Creates one directory; its parent exists.
    mutating func makeDirectory(_ path: String, mode: UInt32, owner: FileOwner) throws
    /// Writes a regular file in one step (no reader sees a partial file), replacing a file.
    mutating func writeFile(_ path: String, _ data: Data, mode: UInt32, owner: FileOwner) throws
    /// Copies a file of the build host (an executable) in one step, replacing a file.
    mutating func copyFile(_ path: String, from source: URL, mode: UInt32, owner: FileOwner) throws
    mutating func setAttributes(_ path: String, mode: UInt32, owner: FileOwner) throws
    /// Creates a symlink, replacing a symlink already there.
    mutating func makeSymlink(_ path: String, target: String) throws
    /// Removes a file, a symlink or an empty directory.
    mutating func remove(_ path: String) throws
    /// Removes a directory with everything below it (`uninstall --purge`).
    mutating func removeTree(_ path: String) throws
    /// Names in a directory.
    func list(_ path: String) throws -> [String]
}

/// An image being built: operations become entries of its `FileTree`, with ownership and
/// `mtime` recorded (images are built rootless; the archive writer applies them).
package struct FileTreeRoot: InstallRoot {
    package var tree: FileTree
    package var mtime: Int64

    package init(tree: FileTree, mtime: Int64) {
        self.tree = tree
        self.mtime = mtime
    }

    package var label: String { "image" }
    package var appliesOwnership: Bool { true }

    static func key(_ path: String) throws -> String {
        do { return try FileTree.normalize(path, allowAbsolute: true) } catch { throw InstallError.badPath(path) }
    }

    package func item(at path: String) throws -> RootItem? {
        guard let e = tree[try Self.key(path)] else { return nil }
        let kind: RootItem.Kind
        switch e.kind {
        case .directory: kind = .directory
        case .regular, .hardlink: kind = .file
        case let .symlink(target): kind = .symlink(target: target)
        default: kind = .other
        }
        return RootItem(kind: kind, mode: e.mode, owner: FileOwner(uid: e.uid, gid: e.gid))
    }

    package func contents(of path: String) throws -> Data {
        var key = try Self.key(path)
        if let e = tree[key], case let .hardlink(target) = e.kind { key = target }
        guard let e = tree[key], case let .regular(content) = e.kind else {
            throw InstallError.ioFailed(path: path, operation: "read", reason: "not a regular file in the image")
        }
        return try content.data()
    }

    private mutating func insert(_ path: String, _ kind: FileTree.Kind, mode: UInt32, owner: FileOwner) throws {
        do {
            try tree.insert(FileTree.Entry(path: try Self.key(path), kind: kind, mode: mode, uid: owner.uid, gid: owner.gid, mtime: mtime))
        } catch let error as FileTree.TreeError {
            throw InstallError.ioFailed(path: path, operation: "add to the image", reason: error.description)
        }
    }

    package mutating func makeDirectory(_ path: String, mode: UInt32, owner: FileOwner) throws {
        try insert(path, .directory, mode: mode, owner: owner)
    }

    package mutating func writeFile(_ path: String, _ data: Data, mode: UInt32, owner: FileOwner) throws {
        try insert(path, .regular(.bytes(data)), mode: mode, owner: owner)
    }

    package mutating func copyFile(_ path: String, from source: URL, mode: UInt32, owner: FileOwner) throws {
        guard FileManager.default.isReadableFile(atPath: source.path) else { throw InstallError.missingBinary(path: source.path) }
        try insert(path, .regular(.file(source)), mode: mode, owner: owner)
    }

    package mutating func setAttributes(_ path: String, mode: UInt32, owner: FileOwner) throws {
        try tree.update(try Self.key(path)) {
            $0.mode = mode
            $0.uid = owner.uid
            $0.gid = owner.gid
        }
    }

    package mutating func makeSymlink(_ path: String, target: String) throws {
        try insert(path, .symlink(target: target), mode: 0o777, owner: .root)
    }

    package mutating func remove(_ path: String) throws {
        let key = try Self.key(path)
        if let e = tree[key], e.isDirectory, !tree.children(of: key).isEmpty {
            throw InstallError.ioFailed(path: path, operation: "remove", reason: "directory not empty")
        }
        tree.remove(key)
    }

    package mutating func removeTree(_ path: String) throws { tree.remove(try Self.key(path)) }

    package func list(_ path: String) throws -> [String] {
        tree.children(of: try Self.key(path)).map { $0.path.split(separator: "/").last.map(String.init) ?? $0.path }
    }
}
