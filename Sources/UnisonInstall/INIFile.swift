/// Line-level edits of INI files such as `/etc/wsl.conf`: one key of one section is set and
/// every other line (comments, other keys, spacing) is left exactly as it was.
public enum INIFile {
    /// The value of `key` in `[section]`, if any.
    public static func value(_ text: String, section: String, key: String) -> String? {
        var current: String?
        var found: String?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let t = line.trimmingCharacters(in: .whitespaces)
            if t.hasPrefix("["), t.hasSuffix("]") { current = String(t.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces); continue }
            guard current == section, let eq = t.firstIndex(of: "="), !t.hasPrefix("#"), !t.hasPrefix(";") else { continue }
            if t[..<eq].trimmingCharacters(in: .whitespaces) == key {
                found = t[t.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            }
        }
        return found
    }

    /// `text` with `key = value` in `[section]`: the key's line replaced when present with
    /// another value, else added after the section's last line, else a new section appended.
    public static func set(_ text: String, section: String, key: String, value: String) -> String {
        if Self.value(text, section: section, key: key) == value { return text }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        var current: String?
        var keyLine: Int?
        var sectionEnd: Int?
        for (i, line) in lines.enumerated() {
            let t = line.trimmingCharacters(in: .whitespaces)
            if t.hasPrefix("["), t.hasSuffix("]") {
                current = String(t.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces)
                if current == section { sectionEnd = i }
                continue
            }
            guard current == section else { continue }
            if !t.isEmpty { sectionEnd = i }
            if let eq = t.firstIndex(of: "="), !t.hasPrefix("#"), !t.hasPrefix(";"),
               t[..<eq].trimmingCharacters(in: .whitespaces) == key {
                keyLine = i
            }
        }
        let newLine = "\(key) = \(value)"
        if let keyLine {
            lines[keyLine] = newLine
        } else if let sectionEnd {
            lines.insert(newLine, at: sectionEnd + 1)
        } else {
            if let last = lines.last, !last.trimmingCharacters(in: .whitespaces).isEmpty { lines.append("") }
            lines.append("[\(section)]")
            lines.append(newLine)
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
