import FoundationEssentials
import UnisonCore

/// One member of a tar archive after PAX and GNU extensions have been applied.
package struct TarMember: Sendable, Equatable {
    package enum Kind: Sendable, Equatable {
        case regular
        case directory
        case symlink(target: String)
        case hardlink(target: String)
        case characterDevice(major: UInt32, minor: UInt32)
        case blockDevice(major: UInt32, minor: UInt32)
        case fifo
    }

    /// The name as stored (PAX `path`, GNU long name, or prefix + name), not normalized.
    package var name: String
    package var kind: Kind
    package var mode: UInt32
    package var uid: UInt32
    package var gid: UInt32
    package var mtime: Int64
    /// Content bytes (regular files only).
    package var size: Int64
    package var xattrs: [String: Data]
    /// Offset of the member's first header block (the PAX/GNU one when there is one).
    package var headerOffset: Int64
    /// Offset of the content in the uncompressed stream.
    package var dataOffset: Int64
}

/// Errors reading an archive, each naming the archive, the member and the offset.
package enum TarError: Error, CustomStringConvertible, Sendable, Equatable, ExitCoded {
    case badHeader(archive: String, offset: Int64, detail: String)
    case truncated(archive: String, member: String, offset: Int64)
    case unsupportedType(archive: String, member: String, offset: Int64, typeflag: String)
    case badPAX(archive: String, member: String, offset: Int64, detail: String)
    /// An entry that would leave the root or cross a symlink: refused, nothing written.
    case hostile(archive: String, member: String, offset: Int64, reason: FileTree.TreeError)
    case badMember(archive: String, member: String, offset: Int64, detail: String)

    package var description: String {
        switch self {
        case let .badHeader(a, o, d): return "\(a): bad tar header at offset \(o): \(d)"
        case let .truncated(a, m, o): return "\(a): archive ends inside member '\(m)' (header at offset \(o))"
        case let .unsupportedType(a, m, o, t):
            return "\(a): member '\(m)' at offset \(o) has tar type '\(t)', which unisonctl does not read"
        case let .badPAX(a, m, o, d): return "\(a): bad PAX header for member '\(m)' at offset \(o): \(d)"
        case let .hostile(a, m, o, r): return "\(a): refused member '\(m)' at offset \(o): \(r)"
        case let .badMember(a, m, o, d): return "\(a): member '\(m)' at offset \(o): \(d)"
        }
    }

    /// Archives are input: a bad one is exit status 2.
    package var exitStatus: ExitStatus { .badInput }

    /// The member name the error is about, when there is one.
    package var member: String? {
        switch self {
        case .badHeader: return nil
        case let .truncated(_, m, _), let .unsupportedType(_, m, _, _), let .badPAX(_, m, _, _),
            let .hostile(_, m, _, _), let .badMember(_, m, _, _):
            return m
        }
    }
}

/// Reads tar members in order: POSIX ustar, pax (local `x` and global `g` headers), GNU
/// (`L`/`K` long names, base-256 numbers, the old "ustar  " magic), v7.
///
/// Call `next()` for each member; its content can be read with `readContent()` before the
/// next call, or is skipped (by seeking when the source is a file).
package final class TarReader {
    /// The largest member accepted (1 PiB). Far above any real layer, and far enough below
    /// Int64.max that offsets plus sizes plus padding cannot overflow.
    package static let maxMemberSize: Int64 = 1 << 50

    private let source: ByteSource
    private let archiveName: String
    private var position: Int64 = 0
    private var pendingData: Int64 = 0
    private var pendingPadding: Int = 0
    private var globals: [(key: String, value: [UInt8])] = []
    private let block = UnsafeMutableRawBufferPointer.allocate(byteCount: TarBlock.size, alignment: 16)
    private var ended = false
    /// The member whose content is pending, for errors.
    private var current: (name: String, offset: Int64) = ("", 0)

    /// `archiveName` is used in errors (usually the file's path).
    package init(source: ByteSource, archiveName: String) {
        self.source = source
        self.archiveName = archiveName
    }

    deinit { block.deallocate() }

    /// The offset of the next unread byte of the uncompressed stream.
    package var offset: Int64 { position }

    package func next() throws -> TarMember? {
        guard !ended else { return nil }
        try skipPending()
        var locals: [(key: String, value: [UInt8])] = []
        var gnuLongName: [UInt8]?
        var gnuLongLink: [UInt8]?
        var firstHeader: Int64?
        while true {
            let headerOffset = position
            guard try readBlock() else {
                if firstHeader != nil {
                    throw TarError.truncated(archive: archiveName, member: describe(gnuLongName, locals), offset: headerOffset)
                }
                // A missing end-of-archive marker is tolerated, as GNU tar and bsdtar do.
                ended = true
                return nil
            }
            if block.allSatisfy({ $0 == 0 }) {
                if firstHeader != nil {
                    throw TarError.badHeader(archive: archiveName, offset: headerOffset, detail: "zero block after an extended header")
                }
                ended = true
                return nil
            }
            let header: TarHeader
            do {
                header = try TarHeader.decode(UnsafeRawBufferPointer(block))
            } catch let TarHeader.DecodeError.checksum(stored, computed) {
                throw TarError.badHeader(
                    archive: archiveName, offset: headerOffset,
                    detail: "checksum \(stored) does not match the header's sum \(computed)")
            } catch let TarHeader.DecodeError.badNumber(field) {
                throw TarError.badHeader(archive: archiveName, offset: headerOffset, detail: "field '\(field)' is not a number")
            }
            if firstHeader == nil { firstHeader = headerOffset }
            let rawName = String(decoding: header.fullName, as: UTF8.self)
            guard header.size >= 0 else {
                throw TarError.badMember(archive: archiveName, member: rawName, offset: headerOffset, detail: "negative size")
            }
            guard header.size <= Self.maxMemberSize else {
                throw TarError.badMember(
                    archive: archiveName, member: rawName, offset: headerOffset,
                    detail: "size \(header.size) is above the 2^50-byte limit")
            }
            switch header.typeflag {
            case UInt8(ascii: "x"), UInt8(ascii: "g"):
                guard header.size <= 64 << 20 else {
                    throw TarError.badPAX(archive: archiveName, member: rawName, offset: headerOffset, detail: "larger than 64 MiB")
                }
                let body = try readBody(header.size, member: rawName, headerOffset: headerOffset)
                let records: [(key: String, value: [UInt8])]
                do { records = try PAX.parse(body) } catch let PAX.ParseError.malformed(at) {
                    throw TarError.badPAX(
                        archive: archiveName, member: rawName, offset: headerOffset,
                        detail: "malformed record at byte \(at)")
                }
                if header.typeflag == UInt8(ascii: "g") {
                    globals += records
                    firstHeader = nil
                } else {
                    locals += records
                }
                continue
            case UInt8(ascii: "L"), UInt8(ascii: "K"):
                guard header.size <= 1 << 20 else {
                    throw TarError.badMember(
                        archive: archiveName, member: rawName, offset: headerOffset,
                        detail: "GNU long name larger than 1 MiB")
                }
                var body = try readBody(header.size, member: rawName, headerOffset: headerOffset)
                if let nul = body.firstIndex(of: 0) { body.removeSubrange(nul...) }
                if header.typeflag == UInt8(ascii: "L") { gnuLongName = body } else { gnuLongLink = body }
                continue
            case UInt8(ascii: "V"):
                // A GNU volume label carries no file.
                current = (rawName, headerOffset)
                try skip(header.size)
                firstHeader = nil
                continue
            default:
                break
            }
            return try member(
                header, headerOffset: firstHeader ?? headerOffset, locals: locals,
                longName: gnuLongName, longLink: gnuLongLink)
        }
    }

    private func describe(_ longName: [UInt8]?, _ locals: [(key: String, value: [UInt8])]) -> String {
        if let path = locals.last(where: { $0.key == "path" }) { return String(decoding: path.value, as: UTF8.self) }
        if let longName { return String(decoding: longName, as: UTF8.self) }
        return "(extended header)"
    }

    private func member(
        _ header: TarHeader, headerOffset: Int64, locals: [(key: String, value: [UInt8])],
        longName: [UInt8]?, longLink: [UInt8]?
    ) throws -> TarMember {
        var nameBytes = longName ?? header.fullName
        var linkBytes = longLink ?? header.linkname
        var size = header.size
        var uid = header.uid
        var gid = header.gid
        var mtime = header.mtime
        var xattrs: [String: Data] = [:]
        let fallbackName = String(decoding: nameBytes, as: UTF8.self)
        for (key, value) in globals + locals {
            let text = String(decoding: value, as: UTF8.self)
            func number<T: FixedWidthInteger>(_: T.Type) throws -> T {
                // PAX times may carry a fraction; whole seconds are kept.
                let whole = key == "mtime" ? String(text.prefix { $0 != "." }) : text
                guard let v = T(whole) else {
                    throw TarError.badPAX(
                        archive: archiveName, member: fallbackName, offset: headerOffset,
                        detail: "\(key)=\(text) is not a number")
                }
                return v
            }
            switch key {
            case "path": nameBytes = value
            case "linkpath": linkBytes = value
            case "size":
                // Checked here, before any arithmetic: a PAX size is free text (negative,
                // 2^63-1, or beyond Int64 are all possible in hostile input).
                size = try number(Int64.self)
                guard size >= 0, size <= Self.maxMemberSize else {
                    throw TarError.badPAX(
                        archive: archiveName, member: fallbackName, offset: headerOffset,
                        detail: "size=\(text) is outside 0...2^50")
                }
            case "uid": uid = try number(UInt64.self)
            case "gid": gid = try number(UInt64.self)
            case "mtime": mtime = try number(Int64.self)
            default:
                if key.hasPrefix("SCHILY.xattr.") {
                    xattrs[String(key.dropFirst("SCHILY.xattr.".count))] = Data(value)
                } else if key.hasPrefix("GNU.sparse.") {
                    throw TarError.unsupportedType(
                        archive: archiveName, member: fallbackName, offset: headerOffset,
                        typeflag: "GNU sparse (PAX)")
                }
            // atime, ctime, uname, gname, charset, comment, …: not part of a FileTree.
            }
        }
        let name = String(decoding: nameBytes, as: UTF8.self)
        let link = String(decoding: linkBytes, as: UTF8.self)
        guard uid <= UInt64(UInt32.max), gid <= UInt64(UInt32.max) else {
            throw TarError.badMember(archive: archiveName, member: name, offset: headerOffset, detail: "uid or gid above 2^32-1")
        }
        let kind: TarMember.Kind
        var dataSize: Int64 = 0
        switch header.typeflag {
        case UInt8(ascii: "0"), 0, UInt8(ascii: "7"):
            // v7 archives mark directories only by a trailing slash.
            if header.typeflag == 0 && name.hasSuffix("/") { kind = .directory } else { kind = .regular; dataSize = size }
        case UInt8(ascii: "1"): kind = .hardlink(target: link)
        case UInt8(ascii: "2"): kind = .symlink(target: link)
        case UInt8(ascii: "3"): kind = .characterDevice(major: header.devmajor, minor: header.devminor)
        case UInt8(ascii: "4"): kind = .blockDevice(major: header.devmajor, minor: header.devminor)
        case UInt8(ascii: "5"): kind = .directory
        case UInt8(ascii: "6"): kind = .fifo
        case UInt8(ascii: "D"):
            // GNU dump directory: a directory followed by a listing we do not need.
            kind = .directory
            dataSize = size
        default:
            let flag =
                header.typeflag >= 0x20 && header.typeflag < 0x7f
                ? String(UnicodeScalar(header.typeflag)) : "\\x" + String(header.typeflag, radix: 16)
            throw TarError.unsupportedType(archive: archiveName, member: name, offset: headerOffset, typeflag: flag)
        }
        pendingData = dataSize
        pendingPadding = TarBlock.padding(dataSize)
        current = (name, headerOffset)
        return TarMember(
            name: name, kind: kind, mode: header.mode & 0o7777, uid: UInt32(uid), gid: UInt32(gid),
            mtime: mtime, size: kind == .regular ? dataSize : 0, xattrs: xattrs,
            headerOffset: headerOffset, dataOffset: position)
    }

    /// Reads the current member's content (call at most once, before `next()`).
    package func readContent(member: TarMember) throws -> Data {
        let data = try source.readFully(Int(pendingData))
        position += Int64(data.count)
        guard data.count == pendingData else {
            throw TarError.truncated(archive: archiveName, member: member.name, offset: member.headerOffset)
        }
        pendingData = 0
        return data
    }

    /// Streams the current member's content into `sink`.
    package func copyContent(member: TarMember, to sink: ByteSink) throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        while pendingData > 0 {
            let want = Int(min(Int64(buffer.count), pendingData))
            let n = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<want]))
            if n == 0 { throw TarError.truncated(archive: archiveName, member: member.name, offset: member.headerOffset) }
            try sink.write(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            position += Int64(n)
            pendingData -= Int64(n)
        }
    }

    private func skipPending() throws {
        if pendingData > 0 || pendingPadding > 0 {
            try skip(pendingData, padding: pendingPadding)
        }
        pendingData = 0
        pendingPadding = 0
    }

    /// Skips `length` content bytes and their padding.
    private func skip(_ length: Int64, padding: Int? = nil) throws {
        let total = length + Int64(padding ?? TarBlock.padding(length))
        guard total > 0 else { return }
        if let file = source as? FileSource {
            // Content must be there even when it is skipped (padding may be cut short).
            if file.position + length > (try file.size()) {
                throw TarError.truncated(archive: archiveName, member: current.name, offset: current.offset)
            }
            try file.seek(to: file.position + total)
            position += total
            return
        }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        defer { buffer.deallocate() }
        var left = total
        while left > 0 {
            let n = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<Int(min(Int64(buffer.count), left))]))
            if n == 0 {
                if total - left < length {
                    throw TarError.truncated(archive: archiveName, member: current.name, offset: current.offset)
                }
                break
            }
            left -= Int64(n)
            position += Int64(n)
        }
    }

    private func readBody(_ size: Int64, member: String, headerOffset: Int64) throws -> [UInt8] {
        let data = try source.readFully(Int(size))
        guard data.count == Int(size) else { throw TarError.truncated(archive: archiveName, member: member, offset: headerOffset) }
        position += size
        let pad = TarBlock.padding(size)
        if pad > 0 {
            let p = try source.readFully(pad)
            guard p.count == pad else { throw TarError.truncated(archive: archiveName, member: member, offset: headerOffset) }
            position += Int64(pad)
        }
        return [UInt8](data)
    }

    /// Reads one header block; false at a clean end of stream, error on a partial block.
    private func readBlock() throws -> Bool {
        var filled = 0
        while filled < TarBlock.size {
            let n = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: block[filled...]))
            if n == 0 { break }
            filled += n
        }
        position += Int64(filled)
        if filled == 0 { return false }
        guard filled == TarBlock.size else {
            throw TarError.badHeader(archive: archiveName, offset: position - Int64(filled), detail: "archive ends inside a header block")
        }
        return true
    }
}
