import FoundationEssentials

/// How archives are read into a `FileTree`.
package struct TarReadOptions: Sendable, Equatable {
    /// Accept absolute member names (`/etc/passwd`), placing them at the tree's root. For
    /// rootfs tarballs made with `tar --absolute-names`; refused otherwise.
    package var allowAbsoluteNames: Bool
    /// Where the uncompressed tar of a compressed archive is kept so that file contents can
    /// refer to ranges of it. Nil reads contents into memory. Must outlive the tree.
    package var spoolDirectory: URL?

    package init(allowAbsoluteNames: Bool = false, spoolDirectory: URL? = nil) {
        self.allowAbsoluteNames = allowAbsoluteNames
        self.spoolDirectory = spoolDirectory
    }
}

extension FileTree {
    /// A tree holding the members of a tarball (`.tar`, `.tar.gz`, `.tar.zst`, `.tar.xz`,
    /// recognized by content). Later members replace earlier ones, as extraction would.
    /// Hostile members are refused with `TarError.hostile` naming them.
    /// `progress` receives the uncompressed bytes read so far.
    package init(
        tarball url: URL, options: TarReadOptions = TarReadOptions(),
        progress: ((Int64) -> Void)? = nil
    ) throws {
        self.init()
        try apply(archive: url, options: options, ociLayer: false, progress: progress)
    }

    /// Applies an OCI image layer (image-spec `layer.md`): whiteouts (`.wh.NAME`) and opaque
    /// directories (`.wh..wh..opq`) remove what lower layers put there, then the layer's own
    /// entries are added. Whiteouts never hide entries of their own layer.
    package mutating func applyLayer(
        _ url: URL, options: TarReadOptions = TarReadOptions(),
        progress: ((Int64) -> Void)? = nil
    ) throws {
        try apply(archive: url, options: options, ociLayer: true, progress: progress)
    }

    private mutating func apply(
        archive url: URL, options: TarReadOptions, ociLayer: Bool,
        progress: ((Int64) -> Void)?
    ) throws {
        let compression = try ArchiveCompression.detect(url)
        let source: ByteSource
        // Where regular file contents live: ranges of an uncompressed file, or memory.
        let contentFile: URL?
        if compression == .none {
            source = try FileSource(url)
            contentFile = url
        } else if let spool = options.spoolDirectory {
            try FileManager.default.createDirectory(at: spool, withIntermediateDirectories: true)
            let spooled = spool.appendingPathComponent("\(url.lastPathComponent)-\(UUID().uuidString.prefix(8)).tar")
            let sink = try FileSink(spooled)
            try ArchiveCompression.openDecompressing(url).copy(to: sink)
            try sink.finish()
            source = try FileSource(spooled)
            contentFile = spooled
        } else {
            source = try ArchiveCompression.openDecompressing(url)
            contentFile = nil
        }
        let reader = TarReader(source: source, archiveName: url.path)

        var pending: [Entry] = []
        var pendingMembers: [TarMember] = []
        var whiteouts: [(path: String, member: TarMember)] = []
        var opaque: [(path: String, member: TarMember)] = []

        while let member = try reader.next() {
            progress?(reader.offset)
            func hostile(_ reason: TreeError) -> TarError {
                TarError.hostile(archive: url.path, member: member.name, offset: member.headerOffset, reason: reason)
            }
            let path: String
            do { path = try Self.normalize(member.name, allowAbsolute: options.allowAbsoluteNames) } catch let e as TreeError {
                throw hostile(e)
            }
            if ociLayer {
                let base = path.split(separator: "/").last.map(String.init) ?? ""
                if base == ".wh..wh..opq" {
                    opaque.append((Self.parent(of: path), member))
                    continue
                }
                if base.hasPrefix(".wh..wh.") { continue }  // other AUFS metadata
                if base.hasPrefix(".wh.") {
                    let parent = Self.parent(of: path)
                    let hidden = String(base.dropFirst(4))
                    guard !hidden.isEmpty, hidden != ".", hidden != ".." else { throw hostile(.escapesRoot(member.name)) }
                    whiteouts.append((parent.isEmpty ? hidden : parent + "/" + hidden, member))
                    continue
                }
            }
            let kind: Kind
            switch member.kind {
            case .regular:
                if let contentFile {
                    kind = .regular(.range(contentFile, offset: member.dataOffset, length: member.size))
                } else {
                    kind = .regular(.bytes(try reader.readContent(member: member)))
                }
            case .directory: kind = .directory
            case let .symlink(target): kind = .symlink(target: target)
            case let .hardlink(target):
                do {
                    kind = .hardlink(target: try Self.normalize(target, allowAbsolute: options.allowAbsoluteNames))
                } catch let e as TreeError {
                    throw hostile(e == .absolutePath(target) ? e : .escapesRoot(target))
                }
            case let .characterDevice(major, minor): kind = .characterDevice(major: major, minor: minor)
            case let .blockDevice(major, minor): kind = .blockDevice(major: major, minor: minor)
            case .fifo: kind = .fifo
            }
            if path.isEmpty, kind != .directory {
                throw hostile(.notADirectory(path: member.name, parent: ""))
            }
            let entry = Entry(
                path: path, kind: kind, mode: member.mode, uid: member.uid, gid: member.gid,
                mtime: member.mtime, xattrs: member.xattrs)
            if ociLayer {
                pending.append(entry)
                pendingMembers.append(member)
            } else {
                do { try insert(entry) } catch let e as TreeError { throw hostile(e) }
            }
        }
        progress?(reader.offset)
        guard ociLayer else { return }
        for (dir, _) in opaque {
            if let entry = self[dir], entry.isDirectory { removeChildren(of: dir) }
        }
        for (hidden, _) in whiteouts { remove(hidden) }
        for (entry, member) in zip(pending, pendingMembers) {
            do { try insert(entry) } catch let e as TreeError {
                throw TarError.hostile(archive: url.path, member: member.name, offset: member.headerOffset, reason: e)
            }
        }
    }
}
