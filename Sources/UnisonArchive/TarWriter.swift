import FoundationEssentials

/// How a `FileTree` becomes tar members.
package struct TarWriteOptions: Sendable, Equatable {
    /// How member names are spelled.
    package enum NameStyle: Sendable, Equatable {
        /// `etc/passwd`: what `tar -c *` run inside the root writes (Microsoft's WSL guide).
        case plain
        /// `./etc/passwd`, with a `./` member for the root: what `tar -C root -c .` writes
        /// (OCI layers, mmdebstrap).
        case dotSlash
    }

    package var nameStyle: NameStyle
    /// Timestamps later than this are written as this (SOURCE_DATE_EPOCH clamping); nil keeps them.
    package var clampMtime: Int64?

    package init(nameStyle: NameStyle = .plain, clampMtime: Int64? = nil) {
        self.nameStyle = nameStyle
        self.clampMtime = clampMtime
    }
}

/// Writes POSIX pax-format tar members to a sink.
///
/// Deterministic by construction: fields are derived only from the entry (no host user names,
/// no PIDs in PAX header names, no atime/ctime), numbers that fit ustar stay there, and PAX
/// records are written only when a value does not fit, in a fixed key order.
package final class TarWriter {
    private let sink: ByteSink
    private let options: TarWriteOptions
    private let contents = ContentReader()
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
    private var finished = false
    /// Content bytes written so far, for progress.
    package private(set) var contentBytes: Int64 = 0

    package init(sink: ByteSink, options: TarWriteOptions = TarWriteOptions()) {
        self.sink = sink
        self.options = options
    }

    deinit { buffer.deallocate() }

    /// The member name of a tree path in this writer's style (directories end with `/`).
    package func memberName(_ path: String, isDirectory: Bool) -> String {
        switch options.nameStyle {
        case .plain:
            return isDirectory ? path + "/" : path
        case .dotSlash:
            if path.isEmpty { return "./" }
            return "./" + path + (isDirectory ? "/" : "")
        }
    }

    /// Appends one entry (and its content). The root entry is written only in `.dotSlash` style.
    package func append(_ entry: FileTree.Entry) throws {
        if entry.path.isEmpty && options.nameStyle == .plain { return }
        let name = Array(memberName(entry.path, isDirectory: entry.isDirectory).utf8)
        var header = TarHeader()
        header.mode = entry.mode & 0o7777
        header.mtime = options.clampMtime.map { min($0, entry.mtime) } ?? entry.mtime
        var size: Int64 = 0
        var linkname: [UInt8] = []
        switch entry.kind {
        case let .regular(content):
            header.typeflag = UInt8(ascii: "0")
            size = content.size
        case .directory:
            header.typeflag = UInt8(ascii: "5")
        case let .symlink(target):
            header.typeflag = UInt8(ascii: "2")
            linkname = Array(target.utf8)
        case let .hardlink(target):
            header.typeflag = UInt8(ascii: "1")
            linkname = Array(memberName(target, isDirectory: false).utf8)
        case let .characterDevice(major, minor):
            header.typeflag = UInt8(ascii: "3")
            header.devmajor = major
            header.devminor = minor
        case let .blockDevice(major, minor):
            header.typeflag = UInt8(ascii: "4")
            header.devmajor = major
            header.devminor = minor
        case .fifo:
            header.typeflag = UInt8(ascii: "6")
        }
        header.size = size

        // Values that do not fit ustar go to a PAX header, in a fixed order.
        var records: [UInt8] = []
        if let split = TarHeader.split(name) {
            header.prefix = split.prefix
            header.name = split.name
        } else {
            records += PAX.record("path", name)
            header.name = Array(name.prefix(100))
        }
        if linkname.count > 100 {
            records += PAX.record("linkpath", linkname)
            header.linkname = Array(linkname.prefix(100))
        } else {
            header.linkname = linkname
        }
        if size > TarHeader.maxOctal11 {
            records += PAX.record("size", String(size))
            header.size = 0
        }
        if header.mtime < 0 || header.mtime > TarHeader.maxOctal11 {
            records += PAX.record("mtime", String(header.mtime))
            header.mtime = header.mtime < 0 ? 0 : TarHeader.maxOctal11
        }
        if UInt64(entry.uid) > TarHeader.maxOctal7 {
            records += PAX.record("uid", String(entry.uid))
        } else {
            header.uid = UInt64(entry.uid)
        }
        if UInt64(entry.gid) > TarHeader.maxOctal7 {
            records += PAX.record("gid", String(entry.gid))
        } else {
            header.gid = UInt64(entry.gid)
        }
        for key in entry.xattrs.keys.sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }) {
            records += PAX.record("SCHILY.xattr." + key, [UInt8](entry.xattrs[key]!))
        }
        if !records.isEmpty {
            var pax = TarHeader()
            pax.typeflag = UInt8(ascii: "x")
            pax.mode = 0o644
            pax.mtime = max(0, min(header.mtime, TarHeader.maxOctal11))
            pax.size = Int64(records.count)
            let paxName = Array(paxHeaderName(entry.path).utf8)
            if let split = TarHeader.split(paxName) {
                pax.prefix = split.prefix
                pax.name = split.name
            } else {
                pax.name = Array(paxName.suffix(100))
            }
            try sink.write(pax.encode())
            try sink.write(records)
            try pad(Int64(records.count))
        }
        try sink.write(header.encode())

        if case let .regular(content) = entry.kind, size > 0 {
            try writeContent(content, size: size)
            try pad(size)
        }
    }

    /// `dir/PaxHeaders/name`: GNU tar's layout without its process id, so it is reproducible.
    private func paxHeaderName(_ path: String) -> String {
        let parent = FileTree.parent(of: path)
        let base = path.isEmpty ? "." : String(path[(path.lastIndex(of: "/").map { path.index(after: $0) } ?? path.startIndex)...])
        let dir = parent.isEmpty ? "PaxHeaders" : parent + "/PaxHeaders"
        return options.nameStyle == .dotSlash ? "./\(dir)/\(base)" : "\(dir)/\(base)"
    }

    private func writeContent(_ content: FileTree.Content, size: Int64) throws {
        switch content {
        case let .bytes(data):
            try sink.write(data)
            contentBytes += Int64(data.count)
        case let .file(url):
            try contents.stream(url, offset: 0, length: size, buffer: buffer) { chunk in
                try sink.write(chunk)
                contentBytes += Int64(chunk.count)
            }
        case let .range(url, offset, length):
            try contents.stream(url, offset: offset, length: length, buffer: buffer) { chunk in
                try sink.write(chunk)
                contentBytes += Int64(chunk.count)
            }
        }
    }

    private static let zeros = [UInt8](repeating: 0, count: TarBlock.size * 2)

    private func pad(_ length: Int64) throws {
        let n = TarBlock.padding(length)
        if n > 0 { try Self.zeros.withUnsafeBytes { try sink.write(UnsafeRawBufferPointer(rebasing: $0[0..<n])) } }
    }

    /// Writes the end-of-archive marker (two zero blocks) and finishes the sink.
    package func finish() throws {
        guard !finished else { return }
        finished = true
        try sink.write(Self.zeros)
        try sink.finish()
    }
}

extension FileTree {
    /// Writes the whole tree as a tar stream in `orderedForArchive()` order and finishes the
    /// sink. `progress` receives the content bytes written so far.
    package func writeTar(
        to sink: ByteSink, options: TarWriteOptions = TarWriteOptions(),
        progress: ((Int64) -> Void)? = nil
    ) throws {
        let writer = TarWriter(sink: sink, options: options)
        for entry in orderedForArchive() {
            try writer.append(entry)
            progress?(writer.contentBytes)
        }
        try writer.finish()
    }
}
