import FoundationEssentials

/// GitHub-flavoured markdown table rows (`| a | b |`), the one place that reads and writes them:
/// the compatibility matrix, the pilot section folded into it, the role map and findings reports.
///
///   row       := [ "|" ] cell ( "|" cell )* [ "|" ]
///   cell      := text with `|` written as `\|`, trimmed; one line
///   delimiter := a row whose every cell is `-` and `:` only (`|---|:--:|`)
package enum MarkdownTable {
    /// Cells of a row, trimmed, `\|` unescaped, and backticks around a whole cell removed.
    /// Other backslashes are kept for the inline markdown they belong to.
    package static func cells(_ line: String) -> [String] {
        var body = Substring(line)
        if body.hasPrefix("|") { body = body.dropFirst() }
        if body.hasSuffix("|"), !body.hasSuffix("\\|") { body = body.dropLast() }
        var out: [String] = []
        var current = ""
        var rest = body[...]
        while let c = rest.first {
            rest = rest.dropFirst()
            if c == "\\", rest.first == "|" { current.append("|"); rest = rest.dropFirst(); continue }
            if c == "|" { out.append(current); current = ""; continue }
            current.append(c)
        }
        out.append(current)
        return out.map { cell in
            var t = cell.trimming(.whitespaces)
            if t.count >= 2, t.hasPrefix("`"), t.hasSuffix("`") { t = String(t.dropFirst().dropLast()) }
            return t
        }
    }

    /// `|---|:--:|`
    package static func isDelimiterRow(_ line: String) -> Bool {
        let parts = cells(line.trimming(.whitespaces))
        return !parts.isEmpty && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy { $0 == "-" || $0 == ":" } }
    }

    /// Text made safe for one cell: `|` escaped, line breaks and other control characters
    /// (which would end the row or the table) turned into spaces.
    package static func escape(_ text: String) -> String {
        var out = ""
        for s in text.unicodeScalars {
            if s == "|" {
                out += "\\|"
            } else if s.value < 0x20 || s.value == 0x7f || s.value == 0x2028 || s.value == 0x2029 {
                out += " "
            } else {
                out.unicodeScalars.append(s)
            }
        }
        return out
    }

    /// `| a | b |` from cells already written as markdown (escape plain text with `escape`).
    package static func row(_ cells: [String]) -> String {
        "| " + cells.joined(separator: " | ") + " |"
    }
}
