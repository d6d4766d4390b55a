import FoundationEssentials
import UnisonCore

// FAT directory entries, fatgen103 §6 (short entries), §7 (long names).
//
// Short entry (32 bytes): 0 Name (8+3, space padded)  11 Attr  12 NTRes  13 CrtTimeTenth
//   14 CrtTime  16 CrtDate  18 LstAccDate  20 FstClusHI  22 WrtTime  24 WrtDate  26 FstClusLO
//   28 FileSize
// Long entry: 0 Ord (0x40 on the last)  1 Name1 (5 UCS-2)  11 Attr 0x0F  12 Type 0
//   13 Chksum (of the short name)  14 Name2 (6 UCS-2)  26 FstClusLO 0  28 Name3 (2 UCS-2)
// Long entries precede their short entry, last part first. The name ends with 0x0000 unless
// it fills the last entry exactly; the rest is 0xFFFF.

enum FATAttribute {
    static let readOnly: UInt8 = 0x01
    static let volumeID: UInt8 = 0x08
    static let directory: UInt8 = 0x10
    static let archive: UInt8 = 0x20
    static let longName: UInt8 = 0x0F
}

enum FATNames {
    /// Characters a short name may hold besides upper-case letters and digits.
    static let shortSpecials = Set("$%'-_@~`!(){}^#&".unicodeScalars)
    /// Characters no FAT name may hold.
    static let forbidden = Set("\"*/:<>?\\|".unicodeScalars)

    static func isShortChar(_ s: Unicode.Scalar) -> Bool {
        (s >= "A" && s <= "Z") || (s >= "0" && s <= "9") || shortSpecials.contains(s)
    }

    /// Checks a long name: 1-255 UTF-16 units, no control or forbidden characters, not `.`/`..`.
    static func validate(_ name: String, path: String) throws {
        guard !name.isEmpty, name != ".", name != "..", name.utf16.count <= 255 else {
            throw DiskError.unsupportedEntry(path: path, filesystem: "FAT32", detail: "the name is empty or longer than 255 characters")
        }
        for s in name.unicodeScalars where s.value < 0x20 || forbidden.contains(s) {
            throw DiskError.unsupportedEntry(
                path: path, filesystem: "FAT32", detail: "the name holds the character U+\(NumberText.hex(s.value, width: 4, uppercase: true))")
        }
        guard !name.hasSuffix(" "), !name.hasSuffix(".") else {
            throw DiskError.unsupportedEntry(path: path, filesystem: "FAT32", detail: "the name ends with a space or a dot")
        }
    }

    /// The 11-byte short name when `name` is already a valid upper-case 8.3 name.
    static func exactShortName(_ name: String) -> [UInt8]? {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, let base = parts.first, (1...8).contains(base.count) else { return nil }
        let ext = parts.count == 2 ? parts[1] : ""
        guard ext.count <= 3, parts.count == 1 || !ext.isEmpty else { return nil }
        guard (base + ext).unicodeScalars.allSatisfy(isShortChar) else { return nil }
        return pad(Array(base.utf8), 8) + pad(Array(ext.utf8), 3)
    }

    /// A `BASIS~N.EXT` short name for a long name, unique among `taken` (fatgen103 §7, the
    /// "numeric-tail" generation).
    static func generatedShortName(_ name: String, taken: Set<[UInt8]>) -> [UInt8] {
        var stripped = Substring(name.uppercased())
        while stripped.hasPrefix(".") { stripped = stripped.dropFirst() }
        let lastDot = stripped.lastIndex(of: ".")
        let baseText = lastDot.map { stripped[..<$0] } ?? stripped
        let extText = lastDot.map { stripped[stripped.index(after: $0)...] } ?? ""
        func clean(_ s: Substring) -> [UInt8] {
            s.unicodeScalars.compactMap { u -> UInt8? in
                if u == " " || u == "." { return nil }
                return isShortChar(u) ? UInt8(u.value) : UInt8(ascii: "_")
            }
        }
        var base = clean(baseText)
        if base.isEmpty { base = Array("_".utf8) }
        let ext = Array(clean(extText).prefix(3))
        for n in 1...999_999 {
            let tail = Array("~\(n)".utf8)
            let candidate = pad(Array(base.prefix(8 - tail.count)) + tail, 8) + pad(ext, 3)
            if !taken.contains(candidate) { return candidate }
        }
        preconditionFailure("a directory cannot hold a million colliding names")
    }

    static func pad(_ bytes: [UInt8], _ width: Int) -> [UInt8] {
        bytes + [UInt8](repeating: 0x20, count: max(0, width - bytes.count))
    }

    /// fatgen103 §7.2: the checksum long entries carry of their short name.
    static func checksum(_ shortName: [UInt8]) -> UInt8 {
        var sum: UInt8 = 0
        for b in shortName { sum = ((sum & 1) << 7) &+ (sum >> 1) &+ b }
        return sum
    }

    /// Long-name entries for `name`, in on-disk order (last part first).
    static func longEntries(_ name: String, shortName: [UInt8]) -> [[UInt8]] {
        var units = Array(name.utf16)
        let count = (units.count + 12) / 13
        if units.count % 13 != 0 { units.append(0) }
        while units.count < count * 13 { units.append(0xFFFF) }
        let sum = checksum(shortName)
        var out: [[UInt8]] = []
        for part in stride(from: count, through: 1, by: -1) {
            var r = BinaryRecord(size: 32)
            r.u8(UInt8(part) | (part == count ? 0x40 : 0), at: 0)
            r.u8(FATAttribute.longName, at: 11)
            r.u8(sum, at: 13)
            let chunk = Array(units[((part - 1) * 13)..<(part * 13)])
            for i in 0..<5 { r.le16(chunk[i], at: 1 + 2 * i) }
            for i in 0..<6 { r.le16(chunk[5 + i], at: 14 + 2 * i) }
            for i in 0..<2 { r.le16(chunk[11 + i], at: 28 + 2 * i) }
            out.append(r.bytes)
        }
        return out
    }

    /// A short directory entry.
    static func shortEntry(
        _ shortName: [UInt8], attributes: UInt8, cluster: UInt32, size: UInt32,
        time: DOSTime
    ) -> [UInt8] {
        var r = BinaryRecord(size: 32)
        r.put(shortName, at: 0)
        r.u8(attributes, at: 11)
        r.le16(time.time, at: 14)
        r.le16(time.date, at: 16)
        r.le16(time.date, at: 18)
        r.le16(UInt16(cluster >> 16), at: 20)
        r.le16(time.time, at: 22)
        r.le16(time.date, at: 24)
        r.le16(UInt16(cluster & 0xFFFF), at: 26)
        r.le32(size, at: 28)
        return r.bytes
    }
}

/// A FAT date and time (2-second resolution, 1980-2107, no zone: written as UTC).
struct DOSTime: Sendable, Equatable {
    var date: UInt16
    var time: UInt16

    init(epochSeconds: Int64) {
        let minimum: Int64 = 315_532_800  // 1980-01-01T00:00:00Z
        let maximum: Int64 = 4_354_819_198  // 2107-12-31T23:59:58Z
        let t = min(max(epochSeconds, minimum), maximum)
        let days = t / 86_400
        let secs = t % 86_400
        // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
        let z = days + 719_468
        let era = z / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        date = UInt16((year - 1980) << 9 | month << 5 | day)
        time = UInt16((secs / 3600) << 11 | ((secs % 3600) / 60) << 5 | (secs % 60) / 2)
    }
}
