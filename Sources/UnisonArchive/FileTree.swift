import FoundationEssentials
import UnisonCore

/// An in-memory description of a root filesystem: what an image will contain, with ownership,
/// modes, times and xattrs recorded but never applied to the build host (builds are rootless).
///
/// Paths are relative to the root, `/`-separated, without a leading slash, normalized (no `.`,
/// `..` or empty components); the root itself is `""`. Every insertion checks that the path
/// neither escapes the root nor walks through a symlink, so hostile archives cannot place a
/// file outside the tree.
package struct FileTree: Sendable {
    /// Where a regular file's bytes come from.
    package enum Content: Sendable, Equatable {
        case bytes(Data)
        /// A whole file on the build host.
        case file(URL)
        /// `length` bytes at `offset` of a file on the build host (a tar member, a blob).
        case range(URL, offset: Int64, length: Int64)

        package var size: Int64 {
            switch self {
            case let .bytes(d): return Int64(d.count)
            case let .file(url):
                let attrs = try? FileManager.default.attributesOfItem(atPath: url.path)
                return (attrs?[.size] as? UInt).map(Int64.init) ?? 0
            case let .range(_, _, length): return length
            }
        }

        /// Reads the whole content (for small files and tests; encoders stream instead).
        package func data() throws -> Data {
            switch self {
            case let .bytes(d): return d
            case let .file(url): return try Data(contentsOf: url)
            case let .range(url, offset, length):
                let h = try FileIO(forReadingFrom: url)
                defer { try? h.close() }
                try h.seek(toOffset: UInt64(offset))
                return try h.read(upToCount: Int(length)) ?? Data()
            }
        }
    }

    package enum Kind: Sendable, Equatable {
        case regular(Content)
        case directory
        case symlink(target: String)
        /// A hard link to another regular file of the tree, by its tree path.
        case hardlink(target: String)
        case characterDevice(major: UInt32, minor: UInt32)
        case blockDevice(major: UInt32, minor: UInt32)
        case fifo
    }

    package struct Entry: Sendable, Equatable {
        package var path: String
        package var kind: Kind
        /// Permission bits including setuid/setgid/sticky (`0o7777`), no file type bits.
        package var mode: UInt32
        package var uid: UInt32
        package var gid: UInt32
        /// Seconds since the epoch.
        package var mtime: Int64
        package var xattrs: [String: Data]

        package init(
            path: String, kind: Kind, mode: UInt32, uid: UInt32 = 0, gid: UInt32 = 0, mtime: Int64 = 0,
            xattrs: [String: Data] = [:]
        ) {
            self.path = path
            self.kind = kind
            self.mode = mode & 0o7777
            self.uid = uid
            self.gid = gid
            self.mtime = mtime
            self.xattrs = xattrs
        }

        package var isDirectory: Bool { if case .directory = kind { return true } else { return false } }
    }

    package enum TreeError: Error, CustomStringConvertible, Sendable, Equatable {
        case escapesRoot(String)
        case absolutePath(String)
        case throughSymlink(path: String, symlink: String)
        case notADirectory(path: String, parent: String)
        case hardlinkTargetMissing(path: String, target: String)
        case hardlinkTargetNotRegular(path: String, target: String)
        case symlinkEscapes(path: String, target: String)

        package var description: String {
            switch self {
            case let .escapesRoot(p): return "entry '\(p)' leads outside the root"
            case let .absolutePath(p): return "entry '\(p)' has an absolute name"
            case let .throughSymlink(p, l): return "entry '\(p)' walks through the symlink '\(l)'"
            case let .notADirectory(p, parent): return "entry '\(p)' needs '\(parent)' to be a directory"
            case let .hardlinkTargetMissing(p, t): return "hard link '\(p)' points to '\(t)', which is not in the tree"
            case let .hardlinkTargetNotRegular(p, t): return "hard link '\(p)' points to '\(t)', which is not a regular file"
            case let .symlinkEscapes(p, t): return "symlink '\(p)' -> '\(t)' leads outside the root"
            }
        }
    }

    private var entries: [String: Entry] = [:]
    /// Children of each directory, so removal and listing do not scan the whole tree.
    private var children: [String: Set<String>] = [:]
    /// Hard links of each regular file, so removing a file finds its links without a scan.
    private var hardlinks: [String: Set<String>] = [:]

    /// An empty tree holding only the root directory (0755, root:root).
    package init(rootMtime: Int64 = 0) {
        entries[""] = Entry(path: "", kind: .directory, mode: 0o755, mtime: rootMtime)
        children[""] = []
    }

    package var count: Int { entries.count }
    package subscript(path: String) -> Entry? { entries[path] }
    package func contains(_ path: String) -> Bool { entries[path] != nil }

    /// Normalizes an archive name (`./etc//passwd`, `etc/passwd/`) into a tree path.
    /// Absolute names are refused unless `allowAbsolute` (rootfs tarballs rooted at `/`).
    package static func normalize(_ name: String, allowAbsolute: Bool = false) throws -> String {
        if name.hasPrefix("/") && !allowAbsolute { throw TreeError.absolutePath(name) }
        var parts: [Substring] = []
        for part in name.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." { throw TreeError.escapesRoot(name) }
            parts.append(part)
        }
        return parts.joined(separator: "/")
    }

    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        return String(path[..<slash])
    }

    /// Inserts or replaces an entry. Missing parent directories are created (0755, root,
    /// `mtime` of the entry). Throws when a parent is a symlink or a non-directory, or when
    /// a hard link's target is absent.
    package mutating func insert(_ entry: Entry) throws {
        var entry = entry
        entry.path = try Self.normalize(entry.path)
        let path = entry.path
        if path.isEmpty {
            guard entry.isDirectory else { throw TreeError.notADirectory(path: path, parent: "") }
            entries[""] = entry
            return
        }
        try ensureParents(of: path, mtime: entry.mtime)
        switch entry.kind {
        case let .hardlink(target):
            var t = try Self.normalize(target, allowAbsolute: true)
            // A link to a link is a link to the file (tar writers may name either).
            if let targetEntry = entries[t], case let .hardlink(first) = targetEntry.kind { t = first }
            guard let targetEntry = entries[t] else { throw TreeError.hardlinkTargetMissing(path: path, target: target) }
            guard case .regular = targetEntry.kind, t != path else {
                throw TreeError.hardlinkTargetNotRegular(path: path, target: target)
            }
            entry.kind = .hardlink(target: t)
        case let .symlink(target):
            // Absolute targets resolve inside the root (as in a chroot); relative ones must not
            // climb above it, or a naive extraction would follow them out.
            if Self.resolveLinkTarget(target, from: path).escapes {
                throw TreeError.symlinkEscapes(path: path, target: target)
            }
        default:
            break
        }
        if let existing = entries[path], existing.isDirectory, entry.isDirectory {
            // Re-declaring a directory updates its metadata and keeps its children.
            entries[path] = entry
            return
        }
        if entries[path] != nil { remove(path) }
        entries[path] = entry
        children[Self.parent(of: path), default: []].insert(path)
        if entry.isDirectory { children[path] = children[path] ?? [] }
        if case let .hardlink(target) = entry.kind { hardlinks[target, default: []].insert(path) }
    }

    private mutating func ensureParents(of path: String, mtime: Int64) throws {
        var prefix = ""
        let components = path.split(separator: "/").dropLast()
        for component in components {
            prefix = prefix.isEmpty ? String(component) : prefix + "/" + component
            if let existing = entries[prefix] {
                switch existing.kind {
                case .directory: continue
                case .symlink: throw TreeError.throughSymlink(path: path, symlink: prefix)
                default: throw TreeError.notADirectory(path: path, parent: prefix)
                }
            }
            let dir = Entry(path: prefix, kind: .directory, mode: 0o755, mtime: mtime)
            entries[prefix] = dir
            children[Self.parent(of: prefix), default: []].insert(prefix)
            children[prefix] = []
        }
    }

    /// Removes an entry and, for a directory, everything below it. Hard links to a removed
    /// file are removed as well, since their content would dangle.
    package mutating func remove(_ path: String) {
        guard !path.isEmpty, let entry = entries[path] else { return }
        if entry.isDirectory { removeChildren(of: path); children[path] = nil }
        entries[path] = nil
        children[Self.parent(of: path)]?.remove(path)
        switch entry.kind {
        case .regular:
            for link in hardlinks.removeValue(forKey: path) ?? [] { remove(link) }
        case let .hardlink(target):
            hardlinks[target]?.remove(path)
        default:
            break
        }
    }

    /// Changes an entry in place: its metadata, or a regular file's content. The path and the
    /// kind of entry must stay the same, so hard links and children stay valid.
    package mutating func update(_ path: String, _ body: (inout Entry) throws -> Void) throws {
        guard var entry = entries[path] else { return }
        let before = entry
        try body(&entry)
        entry.path = before.path
        entry.mode &= 0o7777
        switch (before.kind, entry.kind) {
        case (.regular, .regular), (.directory, .directory), (.fifo, .fifo),
            (.characterDevice, .characterDevice), (.blockDevice, .blockDevice):
            break
        case let (.symlink, .symlink(target)):
            if Self.resolveLinkTarget(target, from: path).escapes { throw TreeError.symlinkEscapes(path: path, target: target) }
        default:
            entry.kind = before.kind
        }
        entries[path] = entry
    }

    /// Empties a directory but keeps it (an OCI opaque whiteout).
    package mutating func removeChildren(of path: String) {
        for child in children[path] ?? [] { remove(child) }
        children[path] = []
    }

    /// Direct children of a directory, sorted by name.
    package func children(of path: String) -> [Entry] {
        (children[path] ?? []).sorted().compactMap { entries[$0] }
    }

    /// Every entry in depth-first order, each directory before its children and children by
    /// byte order of their names: a deterministic order in which hard-link targets come before
    /// links whenever the target sorts first. `orderedForArchive` fixes the other case.
    package func walk() -> [Entry] {
        var out: [Entry] = []
        out.reserveCapacity(entries.count)
        func visit(_ path: String) {
            guard let entry = entries[path] else { return }
            out.append(entry)
            if entry.isDirectory {
                for child in (children[path] ?? []).sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }) {
                    visit(child)
                }
            }
        }
        visit("")
        return out
    }

    /// `walk()` arranged for an archive: in each group of hard-linked names, the first name in
    /// walk order carries the content and the others link to it. Targets therefore always come
    /// before their links (WSL's importer, microsoft/WSL#4457, and GNU tar need that), and the
    /// output does not depend on which name the tree happened to record as the file (a tar's
    /// member order, a directory's readdir order). Every name of a group gets the file's
    /// metadata, as they share one inode.
    package func orderedForArchive() -> [Entry] {
        let all = walk()
        guard !hardlinks.isEmpty else { return all }
        var position: [String: Int] = [:]
        for (i, e) in all.enumerated() { position[e.path] = i }
        // name -> (the file's entry, the group's first name in walk order)
        var group: [String: (file: Entry, primary: String)] = [:]
        for (target, links) in hardlinks where !links.isEmpty {
            guard let file = entries[target] else { continue }
            let names = [target] + Array(links)
            let primary = names.min { (position[$0] ?? .max) < (position[$1] ?? .max) }!
            for name in names { group[name] = (file, primary) }
        }
        return all.map { e in
            guard let (file, primary) = group[e.path] else { return e }
            var out = file
            out.path = e.path
            if e.path != primary { out.kind = .hardlink(target: primary) }
            return out
        }
    }

    /// Resolves a symlink target relative to the link's directory, as the kernel would inside
    /// a chroot: `..` stops at the root, absolute targets start at the root. Returns the tree
    /// path (which may not exist). Used to refuse links that lead out when the caller demands it.
    package static func resolveLinkTarget(_ target: String, from linkPath: String) -> (path: String, escapes: Bool) {
        var stack: [Substring] = target.hasPrefix("/") ? [] : parent(of: linkPath).split(separator: "/")
        var escapes = false
        for part in target.split(separator: "/") {
            if part == "." { continue }
            if part == ".." {
                if stack.isEmpty { escapes = true } else { stack.removeLast() }
                continue
            }
            stack.append(part)
        }
        return (stack.joined(separator: "/"), escapes)
    }

    /// The tree path `path` designates once symlinks in its directory components (and, with
    /// `followFinal`, its last component) are followed inside the tree, as in a chroot:
    /// `lib/modules` is `usr/lib/modules` when `lib -> usr/lib`. Nil for a symlink loop or a
    /// component that is not a directory. The result may not exist.
    package func resolvingSymlinks(_ path: String, followFinal: Bool = false) -> String? {
        guard var pending = try? Self.normalize(path, allowAbsolute: true).split(separator: "/").map(String.init) else { return nil }
        var resolved: [String] = []
        var hops = 0
        while !pending.isEmpty {
            let component = pending.removeFirst()
            let candidate = (resolved + [component]).joined(separator: "/")
            guard let entry = entries[candidate] else {
                resolved.append(component)
                continue
            }
            if case let .symlink(target) = entry.kind, !pending.isEmpty || followFinal {
                hops += 1
                if hops > 40 { return nil }
                let resolvedTarget = Self.resolveLinkTarget(target, from: candidate).path
                pending = resolvedTarget.split(separator: "/").map(String.init) + pending
                resolved = []
                continue
            }
            if !pending.isEmpty, !entry.isDirectory { return nil }
            resolved.append(component)
        }
        return resolved.joined(separator: "/")
    }

    /// Sets every timestamp later than `epoch` to `epoch` (SOURCE_DATE_EPOCH clamping).
    package mutating func clampTimes(to epoch: Int64) {
        for key in entries.keys where entries[key]!.mtime > epoch { entries[key]!.mtime = epoch }
    }

    /// Total bytes of regular file content (hard links counted once).
    package var contentSize: Int64 {
        entries.values.reduce(0) { sum, e in
            if case let .regular(c) = e.kind { return sum + c.size } else { return sum }
        }
    }
}

extension FileTree {
    /// Convenience builders for overlays and tests.
    package mutating func addDirectory(_ path: String, mode: UInt32 = 0o755, uid: UInt32 = 0, gid: UInt32 = 0, mtime: Int64 = 0) throws {
        try insert(Entry(path: path, kind: .directory, mode: mode, uid: uid, gid: gid, mtime: mtime))
    }

    package mutating func addFile(_ path: String, _ data: Data, mode: UInt32 = 0o644, uid: UInt32 = 0, gid: UInt32 = 0, mtime: Int64 = 0) throws {
        try insert(Entry(path: path, kind: .regular(.bytes(data)), mode: mode, uid: uid, gid: gid, mtime: mtime))
    }

    package mutating func addFile(_ path: String, _ text: String, mode: UInt32 = 0o644, uid: UInt32 = 0, gid: UInt32 = 0, mtime: Int64 = 0) throws {
        try addFile(path, Data(text.utf8), mode: mode, uid: uid, gid: gid, mtime: mtime)
    }

    package mutating func addSymlink(_ path: String, target: String, uid: UInt32 = 0, gid: UInt32 = 0, mtime: Int64 = 0) throws {
        try insert(Entry(path: path, kind: .symlink(target: target), mode: 0o777, uid: uid, gid: gid, mtime: mtime))
    }
}
