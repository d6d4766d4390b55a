// Text helpers that FoundationEssentials does not have. They replace the string methods of full
// Foundation (swift-corelibs-foundation), whose first use links CoreFoundation and ICU with its
// data (+44 MB, docs/performance.md), so that no module of unisonctl needs more than Essentials.
// Every helper is locale-independent: the output is the same on every host.
import Glibc

/// A set of Unicode scalars to trim or test against; the named sets match Foundation's
/// `CharacterSet` of the same name.
package struct ScalarSet: Sendable {
    private let test: @Sendable (Unicode.Scalar) -> Bool

    package init(_ test: @escaping @Sendable (Unicode.Scalar) -> Bool) { self.test = test }

    package init(charactersIn characters: String) {
        let set = Set(characters.unicodeScalars)
        self.test = { set.contains($0) }
    }

    package func contains(_ scalar: Unicode.Scalar) -> Bool { test(scalar) }

    /// General category Zs and the tab (U+0009).
    package static let whitespaces = ScalarSet { $0 == "\t" || $0.properties.generalCategory == .spaceSeparator }
    /// U+000A to U+000D, U+0085, U+2028 and U+2029.
    package static let newlines = ScalarSet { s in
        (0x0A...0x0D).contains(s.value) || s.value == 0x85 || s.value == 0x2028 || s.value == 0x2029
    }
    package static let whitespacesAndNewlines = ScalarSet { whitespaces.contains($0) || newlines.contains($0) }
    /// ASCII letters and digits only; the platform's names, tags and keys are ASCII.
    package static let asciiAlphanumerics = ScalarSet { s in
        s.isASCII && (("a"..."z").contains(s) || ("A"..."Z").contains(s) || ("0"..."9").contains(s))
    }
}

extension StringProtocol {
    /// The string without leading and trailing scalars in `set`, compared scalar by scalar (as
    /// Foundation's `trimmingCharacters(in:)` does), so "\r\n" loses both scalars.
    package func trimming(_ set: ScalarSet) -> String {
        let scalars = String(self).unicodeScalars
        guard let first = scalars.firstIndex(where: { !set.contains($0) }) else { return "" }
        let last = scalars.lastIndex(where: { !set.contains($0) })!
        return String(String.UnicodeScalarView(scalars[first...last]))
    }

    /// The string with every `%XX` replaced by its byte, read as UTF-8; nil when a `%` is not
    /// followed by two hex digits or the bytes are not UTF-8 (full Foundation's
    /// `removingPercentEncoding`).
    package func percentDecoded() -> String? {
        func hexValue(_ b: UInt8) -> UInt8? {
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): b - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): b - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): b - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var bytes: [UInt8] = []
        var rest = Array(utf8)[...]
        while let b = rest.popFirst() {
            guard b == UInt8(ascii: "%") else {
                bytes.append(b)
                continue
            }
            guard rest.count >= 2, let high = hexValue(rest[rest.startIndex]), let low = hexValue(rest[rest.startIndex + 1]) else {
                return nil
            }
            bytes.append(high << 4 | low)
            rest = rest.dropFirst(2)
        }
        return String(validating: bytes, as: UTF8.self)
    }

    /// The string cut or padded on the right with `pad` to exactly `length` characters.
    package func padded(to length: Int, with pad: Character = " ") -> String {
        let text = String(self)
        if text.count >= length { return String(text.prefix(length)) }
        return text + String(repeating: pad, count: length - text.count)
    }

    /// Whether `other` occurs in the string as a run of scalars (a literal search, like full
    /// Foundation's `contains`). The standard library's `contains` compares characters, so
    /// "a\r\nb" would not contain "\n" (CR LF is one character): a newline check on hostile
    /// input must not pass a CR LF. Being non-generic, this overload wins for `String` arguments.
    package func contains(_ other: String) -> Bool {
        other.isEmpty || firstRange(of: other) != nil
    }

    /// The first occurrence of `other` as a run of scalars (see `contains(_:)`), found in the UTF-8
    /// bytes: in valid UTF-8 a match of a whole encoded string can only start on a scalar
    /// boundary, so a byte match is a scalar match. This and `replacing(_:with:)` stand in for the
    /// standard library's `_StringProcessing` algorithms, whose first use links that module and
    /// the regex parser into the binary (docs/performance.md); shipped modules do not import it.
    package func firstRange(of other: String) -> Range<String.Index>? {
        let utf8 = self.utf8
        guard let offset = TextSearch.firstOffset(of: other, in: utf8, from: 0) else { return nil }
        let lower = utf8.index(utf8.startIndex, offsetBy: offset)
        return lower..<utf8.index(lower, offsetBy: other.utf8.count)
    }

    /// Every occurrence of `target` replaced, scalar by scalar (full Foundation's
    /// `replacingOccurrences(of:with:)`); see `contains(_:)` for why not by characters.
    package func replacing(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return String(self) }
        let bytes = Array(self.utf8)
        let needle = target.utf8.count
        var out: [UInt8] = []
        var copied = 0
        while let found = TextSearch.firstOffset(of: target, in: bytes, from: copied) {
            if out.isEmpty { out.reserveCapacity(bytes.count) }
            out.append(contentsOf: bytes[copied..<found])
            out.append(contentsOf: replacement.utf8)
            copied = found + needle
        }
        guard copied > 0 else { return String(self) }
        out.append(contentsOf: bytes[copied...])
        return String(decoding: out, as: UTF8.self)
    }
}

/// Byte-level substring search over any UTF-8 view or byte array: `memchr` finds each candidate
/// first byte, `memcmp` checks the rest.
enum TextSearch {
    /// The byte offset of the first occurrence of `needle` in `haystack` at or after `start`.
    static func firstOffset(of needle: String, in haystack: some Collection<UInt8>, from start: Int) -> Int? {
        var needle = needle
        return needle.withUTF8 { n -> Int? in
            let search = { (h: UnsafeBufferPointer<UInt8>) -> Int? in
                guard start <= h.count, n.count <= h.count - start else { return nil }
                guard let first = n.first, let base = h.baseAddress, let nb = n.baseAddress else { return start }
                var at = start
                let last = h.count - n.count
                while at <= last {
                    guard let hit = memchr(base + at, Int32(first), last - at + 1) else { return nil }
                    at = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
                    if n.count == 1 || memcmp(base + at + 1, nb + 1, n.count - 1) == 0 { return at }
                    at += 1
                }
                return nil
            }
            if let found = haystack.withContiguousStorageIfAvailable(search) { return found }
            return Array(haystack).withUnsafeBufferPointer(search)
        }
    }
}

/// Fixed-width number formatting without `String(format:)` (which needs full Foundation).
package enum NumberText {
    /// `value` in hexadecimal, zero-padded to `width` digits (`%0<width>x` / `%0<width>X`).
    package static func hex(_ value: some BinaryInteger, width: Int = 0, uppercase: Bool = false) -> String {
        let digits = String(value, radix: 16, uppercase: uppercase)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }

    /// Bytes as lowercase hex, two digits each.
    package static func hex(bytes: some Sequence<UInt8>) -> String {
        let table = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        for b in bytes {
            out.append(table[Int(b >> 4)])
            out.append(table[Int(b & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// A decimal integer zero-padded to `width` digits (`%0<width>d`).
    package static func decimal(_ value: some BinaryInteger, width: Int) -> String {
        let digits = String(value.magnitude)
        let padded = digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
        return value < 0 ? "-" + padded : padded
    }

    /// `value` with exactly `digits` decimals, rounded half away from zero (`%.<digits>f` for
    /// the values we print: durations, sizes, versions).
    package static func fixed(_ value: Double, digits: Int) -> String {
        guard value.isFinite else { return "\(value)" }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let scaled = (abs(value) * scale).rounded(.toNearestOrAwayFromZero)
        guard scaled < 9.0e18 else { return "\(value)" }
        let units = UInt64(scaled)
        let whole = units / UInt64(scale)
        let sign = value < 0 && units != 0 ? "-" : ""
        guard digits > 0 else { return "\(sign)\(whole)" }
        let fraction = decimal(units % UInt64(scale), width: digits)
        return "\(sign)\(whole).\(fraction)"
    }
}

/// Path string operations with NSString's rules (`deletingLastPathComponent`,
/// `lastPathComponent`), for paths that are not URLs; full Foundation's NSString is not linked.
package enum PathText {
    /// Repeated slashes as one, no trailing slash (except for "/" itself).
    package static func fixed(_ path: String) -> String {
        var out = ""
        var lastWasSlash = false
        for c in path {
            if c == "/" {
                if lastWasSlash { continue }
                lastWasSlash = true
            } else {
                lastWasSlash = false
            }
            out.append(c)
        }
        while out.count > 1, out.hasSuffix("/") { out.removeLast() }
        return out
    }

    /// The path without its last component: "/a/b" → "/a", "/a" → "/", "a" → "", "/" → "/".
    package static func parent(_ path: String) -> String {
        let p = fixed(path)
        guard p != "/", !p.isEmpty else { return p }
        guard let slash = p.lastIndex(of: "/") else { return "" }
        return slash == p.startIndex ? "/" : String(p[..<slash])
    }

    /// The last component: "/a/b/" → "b", "/" → "/", "" → "".
    package static func lastComponent(_ path: String) -> String {
        let p = fixed(path)
        guard p != "/", let slash = p.lastIndex(of: "/") else { return p }
        return String(p[p.index(after: slash)...])
    }
}
