// The POSIX ustar header block (IEEE Std 1003.1-2017, pax, "ustar Interchange Format"), with
// the GNU extensions a reader meets in Debian tarballs (base-256 numbers, 'L'/'K' long names).
//
//   offset size field        encoding
//   ------ ---- ------------ -----------------------------------------------------------
//        0  100 name         bytes, NUL-padded (NUL-terminated only when shorter)
//      100    8 mode         octal, NUL-terminated
//      108    8 uid          octal (GNU: base-256 when the first byte has bit 7 set)
//      116    8 gid          octal (idem)
//      124   12 size         octal (idem)
//      136   12 mtime        octal (idem)
//      148    8 chksum       octal sum of all header bytes, this field counted as spaces
//      156    1 typeflag     '0' file, '1' hard link, '2' symlink, '3' char, '4' block,
//                            '5' directory, '6' fifo, 'x' pax, 'g' global pax, 'L'/'K' GNU
//      157  100 linkname     bytes, NUL-padded
//      257    6 magic        "ustar\0" (GNU's old format: "ustar " + " \0")
//      263    2 version      "00"
//      265   32 uname        NUL-terminated
//      297   32 gname        NUL-terminated
//      329    8 devmajor     octal
//      337    8 devminor     octal
//      345  155 prefix       bytes, joined to name with '/'
//      500   12 (padding)
//
// Every header and every file body is padded to a 512-byte block; the archive ends with two
// zero blocks.
import FoundationEssentials

package enum TarBlock {
    package static let size = 512

    /// Bytes of padding after `length` bytes of content.
    package static func padding(_ length: Int64) -> Int {
        let rem = Int(length % Int64(size))
        return rem == 0 ? 0 : size - rem
    }
}

/// A ustar header as fields; `encode()` writes each at its documented offset.
struct TarHeader: Equatable {
    enum Offset {
        static let name = 0, mode = 100, uid = 108, gid = 116, size = 124, mtime = 136, checksum = 148
        static let typeflag = 156, linkname = 157, magic = 257, version = 263, uname = 265, gname = 297
        static let devmajor = 329, devminor = 337, prefix = 345
    }

    var name: [UInt8] = []
    var mode: UInt32 = 0
    var uid: UInt64 = 0
    var gid: UInt64 = 0
    var size: Int64 = 0
    var mtime: Int64 = 0
    var typeflag: UInt8 = UInt8(ascii: "0")
    var linkname: [UInt8] = []
    var uname: [UInt8] = []
    var gname: [UInt8] = []
    var devmajor: UInt32 = 0
    var devminor: UInt32 = 0
    var prefix: [UInt8] = []
    /// True when the block carries the POSIX magic ("ustar\0" "00") rather than GNU's.
    var isPOSIX = true

    /// Largest values that fit the octal fields (with their terminating NUL).
    static let maxOctal7: UInt64 = 0o7777777  // uid, gid: 2097151
    static let maxOctal11: Int64 = 0o77777777777  // size, mtime: 8 GiB - 1

    /// The 512-byte block. Numbers must fit their octal fields (callers move larger ones to
    /// PAX records); byte strings longer than their field are truncated.
    func encode() -> [UInt8] {
        var block = [UInt8](repeating: 0, count: TarBlock.size)
        func put(_ bytes: [UInt8], at offset: Int, width: Int) {
            for (i, b) in bytes.prefix(width).enumerated() { block[offset + i] = b }
        }
        func octal(_ value: UInt64, at offset: Int, width: Int) {
            // width - 1 digits, zero-padded, then NUL.
            var digits = Array(String(value, radix: 8).utf8)
            let room = width - 1
            if digits.count < room { digits = [UInt8](repeating: UInt8(ascii: "0"), count: room - digits.count) + digits }
            put(Array(digits.suffix(room)), at: offset, width: room)
        }
        put(name, at: Offset.name, width: 100)
        octal(UInt64(mode), at: Offset.mode, width: 8)
        octal(uid, at: Offset.uid, width: 8)
        octal(gid, at: Offset.gid, width: 8)
        octal(UInt64(max(0, size)), at: Offset.size, width: 12)
        octal(UInt64(max(0, mtime)), at: Offset.mtime, width: 12)
        block[Offset.typeflag] = typeflag
        put(linkname, at: Offset.linkname, width: 100)
        put(Array("ustar\0".utf8), at: Offset.magic, width: 6)
        put(Array("00".utf8), at: Offset.version, width: 2)
        put(uname, at: Offset.uname, width: 31)
        put(gname, at: Offset.gname, width: 31)
        octal(UInt64(devmajor), at: Offset.devmajor, width: 8)
        octal(UInt64(devminor), at: Offset.devminor, width: 8)
        put(prefix, at: Offset.prefix, width: 155)
        // Checksum: computed with the field as eight spaces, stored as six digits, NUL, space.
        for i in 0..<8 { block[Offset.checksum + i] = UInt8(ascii: " ") }
        let sum = block.reduce(0) { $0 + Int($1) }
        var digits = Array(String(sum, radix: 8).utf8)
        if digits.count < 6 { digits = [UInt8](repeating: UInt8(ascii: "0"), count: 6 - digits.count) + digits }
        put(digits, at: Offset.checksum, width: 6)
        block[Offset.checksum + 6] = 0
        block[Offset.checksum + 7] = UInt8(ascii: " ")
        return block
    }

    enum DecodeError: Error, Equatable {
        case checksum(stored: Int64, computed: Int)
        case badNumber(field: String)
    }

    /// Parses a header block (not an all-zero one). Checks the checksum, accepting the
    /// historical signed-byte sum as well.
    static func decode(_ block: UnsafeRawBufferPointer) throws -> TarHeader {
        precondition(block.count >= TarBlock.size)
        func bytes(_ offset: Int, _ width: Int) -> [UInt8] {
            let slice = block[offset..<(offset + width)]
            if let nul = slice.firstIndex(of: 0) { return Array(block[offset..<nul]) }
            return Array(slice)
        }
        func number(_ offset: Int, _ width: Int, _ field: String) throws -> Int64 {
            let first = block[offset]
            if first & 0x80 != 0 {
                // GNU base-256: big-endian two's complement in the remaining bits.
                var value: Int64 = first & 0x40 != 0 ? -1 : 0
                value = (value << 6) | Int64(first & 0x3f)
                for i in 1..<width {
                    guard value <= (Int64.max >> 8), value >= (Int64.min >> 8) else { throw DecodeError.badNumber(field: field) }
                    value = (value << 8) | Int64(block[offset + i])
                }
                return value
            }
            var value: Int64 = 0
            var seenDigit = false
            for i in 0..<width {
                let c = block[offset + i]
                if c == 0 { break }
                if c == UInt8(ascii: " ") { if seenDigit { break } else { continue } }
                guard c >= UInt8(ascii: "0"), c <= UInt8(ascii: "7") else { throw DecodeError.badNumber(field: field) }
                guard value < (Int64.max >> 3) else { throw DecodeError.badNumber(field: field) }
                value = value * 8 + Int64(c - UInt8(ascii: "0"))
                seenDigit = true
            }
            return value
        }
        let stored = try number(Offset.checksum, 8, "chksum")
        var unsigned = 0
        var signed = 0
        for i in 0..<TarBlock.size {
            let b = (Offset.checksum..<(Offset.checksum + 8)).contains(i) ? UInt8(ascii: " ") : block[i]
            unsigned += Int(b)
            signed += Int(Int8(bitPattern: b))
        }
        guard stored == Int64(unsigned) || stored == Int64(signed) else {
            throw DecodeError.checksum(stored: stored, computed: unsigned)
        }
        var h = TarHeader()
        h.name = bytes(Offset.name, 100)
        h.mode = UInt32(truncatingIfNeeded: try number(Offset.mode, 8, "mode"))
        h.uid = UInt64(truncatingIfNeeded: try number(Offset.uid, 8, "uid"))
        h.gid = UInt64(truncatingIfNeeded: try number(Offset.gid, 8, "gid"))
        h.size = try number(Offset.size, 12, "size")
        h.mtime = try number(Offset.mtime, 12, "mtime")
        h.typeflag = block[Offset.typeflag]
        h.linkname = bytes(Offset.linkname, 100)
        let magic = Array(block[Offset.magic..<(Offset.magic + 6)])
        h.isPOSIX = magic == Array("ustar\0".utf8)
        let isGNU = magic == Array("ustar ".utf8)
        if h.isPOSIX || isGNU {
            h.uname = bytes(Offset.uname, 32)
            h.gname = bytes(Offset.gname, 32)
            h.devmajor = UInt32(truncatingIfNeeded: try number(Offset.devmajor, 8, "devmajor"))
            h.devminor = UInt32(truncatingIfNeeded: try number(Offset.devminor, 8, "devminor"))
            // GNU's old format keeps atime/ctime where POSIX has the prefix.
            if h.isPOSIX { h.prefix = bytes(Offset.prefix, 155) }
        }
        return h
    }

    /// name, or prefix/name when a POSIX prefix is present.
    var fullName: [UInt8] {
        prefix.isEmpty ? name : prefix + [UInt8(ascii: "/")] + name
    }

    /// Splits a path into ustar's prefix and name fields; nil when it does not fit.
    static func split(_ path: [UInt8]) -> (prefix: [UInt8], name: [UInt8])? {
        if path.count <= 100 { return ([], path) }
        guard path.count <= 256 else { return nil }
        // The prefix is as long as possible (<= 155) while the rest still fits in 100.
        let slashes = path.indices.filter { path[$0] == UInt8(ascii: "/") }
        for i in slashes.reversed() where i <= 155 {
            let name = Array(path[(i + 1)...])
            if name.isEmpty || name.count > 100 { continue }
            return (Array(path[..<i]), name)
        }
        return nil
    }
}
