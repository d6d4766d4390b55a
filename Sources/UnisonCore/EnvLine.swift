import FoundationEssentials

/// One line of a `KEY=VALUE` file: Docker Compose's env files, `.env`, `/etc/os-release`. The one
/// place that reads and writes the format; comments and other lines are kept as written so a
/// file can be edited line by line.
///
///   assignment := [ "export" blank ] key "=" value     (key `[A-Za-z0-9_]+`, trimmed)
///   value      := raw text | '"' escaped text '"' | "'" literal text "'"
///   other      := blank line, `#` comment, or anything else
package enum EnvLine: Sendable, Equatable {
    /// `value` is the raw text after `=` (quotes, spaces and all); `unquote` gives its value.
    case assignment(key: String, value: String)
    case other(String)

    package init(_ line: String) {
        let trimmed = line.drop { $0 == " " || $0 == "\t" }
        guard !trimmed.hasPrefix("#"), let eq = line.firstIndex(of: "=") else { self = .other(line); return }
        var key = line[..<eq].trimming(.whitespaces)
        if key.hasPrefix("export ") { key = String(key.dropFirst(7)).trimming(.whitespaces) }
        guard !key.isEmpty, key.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else { self = .other(line); return }
        self = .assignment(key: key, value: String(line[line.index(after: eq)...]))
    }

    /// The lines of `text`, split at `\n`, without the empty piece after a final newline.
    package static func parse(_ text: String) -> [EnvLine] {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        return lines.map(EnvLine.init)
    }

    /// Every key's value (the last assignment wins, as in Compose), unquoted.
    package static func values(_ text: String) -> [String: String] {
        var out: [String: String] = [:]
        for case let .assignment(k, v) in parse(text) { out[k] = unquote(v) }
        return out
    }

    /// A raw value as its value: trimmed, and one pair of matching quotes around it removed.
    /// Escapes are left as written (`"a\nb"` reads as `a\nb`): a value `quote` escaped comes
    /// back in its escaped, one-line form, never as several lines.
    package static func unquote(_ raw: String) -> String {
        let t = raw.trimming(.whitespaces)
        if t.count >= 2, let f = t.first, let l = t.last, f == l, f == "\"" || f == "'" {
            return String(t.dropFirst().dropLast())
        }
        return t
    }

    /// `value` as it is written after `KEY=`: as is, or double-quoted with `\n`, `\r`, `\t`,
    /// `\\` and `\"` escapes (Compose's env-file syntax) when it holds a control character, so
    /// that it stays one line. Other control characters (and U+2028/2029) become spaces.
    package static func quote(_ value: String) -> String {
        guard value.unicodeScalars.contains(where: isControl) else { return value }
        var out = "\""
        for s in value.unicodeScalars {
            switch s {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            default: if isControl(s) { out += " " } else { out.unicodeScalars.append(s) }
            }
        }
        return out + "\""
    }

    private static func isControl(_ s: Unicode.Scalar) -> Bool {
        s.value < 0x20 || s.value == 0x7f || s.value == 0x2028 || s.value == 0x2029
    }
}
