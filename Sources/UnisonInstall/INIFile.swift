import FoundationEssentials
import UnisonCore

/// Line-level edits of INI files such as `/etc/wsl.conf`: one key of one section is set and
/// every other line (comments, other keys, spacing) is left exactly as it was. Lines are read
/// by UnisonCore's `INILine`.
package enum INIFile {
    /// The value of `key` in `[section]`, if any.
    package static func value(_ text: String, section: String, key: String) -> String? {
        var current: String?
        var found: String?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            switch INILine(line) {
            case let .section(name): current = name
            case let .entry(k, v) where current == section && k == key: found = v
            default: break
            }
        }
        return found
    }

    /// `text` with `key = value` in `[section]`: the key's line replaced when present with
    /// another value, else added after the section's last line, else a new section appended.
    package static func set(_ text: String, section: String, key: String, value: String) -> String {
        if Self.value(text, section: section, key: key) == value { return text }
        var lines = INILine.lines(text)
        var current: String?
        var keyLine: Int?
        var sectionEnd: Int?
        for (i, line) in lines.enumerated() {
            let parsed = INILine(line)
            if case let .section(name) = parsed {
                current = name
                if current == section { sectionEnd = i }
                continue
            }
            guard current == section else { continue }
            if !line.trimming(.whitespaces).isEmpty { sectionEnd = i }
            if case let .entry(k, _) = parsed, k == key { keyLine = i }
        }
        let newLine = INILine.entry(key, value)
        if let keyLine {
            lines[keyLine] = newLine
        } else if let sectionEnd {
            lines.insert(newLine, at: sectionEnd + 1)
        } else {
            if let last = lines.last, !last.trimming(.whitespaces).isEmpty { lines.append("") }
            lines.append(INILine.section(section))
            lines.append(newLine)
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
