import FoundationEssentials
import Glibc
import UnisonCore

/// Path string operations with NSString's rules (`deletingLastPathComponent`,
/// `lastPathComponent`), for paths that are not URLs; full Foundation's NSString is not linked.
enum PathText {
    /// Repeated slashes as one, no trailing slash (except for "/" itself).
    static func fixed(_ path: String) -> String {
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
    static func parent(_ path: String) -> String {
        let p = fixed(path)
        guard p != "/", !p.isEmpty else { return p }
        guard let slash = p.lastIndex(of: "/") else { return "" }
        return slash == p.startIndex ? "/" : String(p[..<slash])
    }

    /// The last component: "/a/b/" → "b", "/" → "/", "" → "".
    static func lastComponent(_ path: String) -> String {
        let p = fixed(path)
        guard p != "/", let slash = p.lastIndex(of: "/") else { return p }
        return String(p[p.index(after: slash)...])
    }
}

/// A date's UTC calendar fields (seconds cut off, as the date formatters did), for fixed
/// formats without DateFormatter.
struct UTCTime {
    var year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0

    init(_ date: Date) {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        year = Int(parts.tm_year) + 1900
        month = Int(parts.tm_mon) + 1
        day = Int(parts.tm_mday)
        hour = Int(parts.tm_hour)
        minute = Int(parts.tm_min)
        second = Int(parts.tm_sec)
    }

    func digits(_ value: Int, _ width: Int = 2) -> String { NumberText.decimal(value, width: width) }

    /// `yyyy-MM-dd'T'HH:mm:ss'Z'` (ISO8601DateFormatter's `.withInternetDateTime` in UTC).
    var internetDateTime: String {
        "\(digits(year, 4))-\(digits(month))-\(digits(day))T\(digits(hour)):\(digits(minute)):\(digits(second))Z"
    }
}

extension StringProtocol {
    /// The pieces between `separator`s, split scalar by scalar like full Foundation's
    /// `components(separatedBy:)` (so "a\r\nb" splits at the "\n" and keeps the "\r").
    func scalarComponents(separatedBy separator: Unicode.Scalar) -> [String] {
        String(self).unicodeScalars.split(separator: separator, omittingEmptySubsequences: false)
            .map { String(String.UnicodeScalarView($0)) }
    }
}
