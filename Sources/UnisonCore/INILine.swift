import FoundationEssentials

/// One line of an INI-style file (`/etc/wsl.conf`, git's config and `.gitmodules`), the one
/// place that says what such a line is. Classified, not judged: callers decide what a section
/// or key means, and lines are edited in place by their index so that nothing else changes.
///
///   section := "[" name "]"             (name trimmed; `[remote "origin"]` keeps its quotes)
///   entry   := key "=" value            (both trimmed; the first `=` splits)
///   other   := blank line, comment (`#` or `;` first), or anything else
package enum INILine: Sendable, Equatable {
    case section(String)
    case entry(key: String, value: String)
    case other

    package init<S: StringProtocol>(_ line: S) {
        let t = line.trimming(.whitespaces)
        if t.hasPrefix("["), t.hasSuffix("]") {
            self = .section(String(t.dropFirst().dropLast()).trimming(.whitespaces))
        } else if !t.hasPrefix("#"), !t.hasPrefix(";"), let eq = t.firstIndex(of: "=") {
            self = .entry(key: t[..<eq].trimming(.whitespaces), value: t[t.index(after: eq)...].trimming(.whitespaces))
        } else {
            self = .other
        }
    }

    /// The lines of `text`, split at `\n`, without the empty piece after a final newline.
    package static func lines(_ text: String) -> [String] {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        return lines
    }

    /// `key = value` as an entry line. Newlines and other control characters in either would
    /// start a line of their own or be misread, so they are replaced by spaces.
    package static func entry(_ key: String, _ value: String, separator: String = " = ") -> String {
        flat(key) + separator + flat(value)
    }

    /// `[name]` as a section line, control characters replaced by spaces.
    package static func section(_ name: String) -> String { "[\(flat(name))]" }

    private static func flat(_ s: String) -> String {
        String(
            String.UnicodeScalarView(
                s.unicodeScalars.map {
                    $0.value < 0x20 || $0.value == 0x7f || $0.value == 0x85 || $0.value == 0x2028 || $0.value == 0x2029 ? " " : $0
                }))
    }
}
