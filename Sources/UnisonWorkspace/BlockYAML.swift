import UnisonCore

/// A reader for the block-style YAML that Compose files and GitHub Actions workflows are
/// written in, keeping the 1-based line of every key and scalar so that findings can point at
/// `file:line`. YAML 1.2 §8 (block collections and block scalars) is what it follows; flow
/// collections (`[a, b]`, `{a: b}`) are kept as their source text, anchors are dropped,
/// aliases and tags are not resolved. It never fails: text it cannot read becomes scalars.
struct BlockYAML {
    indirect enum Node {
        case map([Entry])
        case seq([Node])
        case scalar(String, line: Int)
        /// A `|` or `>` block scalar: its lines with their numbers, indentation removed.
        case block([TextLine], line: Int)
        case empty(line: Int)

        subscript(key: String) -> Node? {
            guard case let .map(entries) = self else { return nil }
            return entries.first { $0.key == key }?.value
        }

        var entries: [Entry] {
            if case let .map(e) = self { return e }
            return []
        }

        var items: [Node] {
            if case let .seq(s) = self { return s }
            return []
        }

        /// The value of a scalar, with its line.
        var scalar: (text: String, line: Int)? {
            if case let .scalar(s, line) = self { return (s, line) }
            return nil
        }

        /// Lines of text a value spreads over: one for a scalar, each line for a block scalar,
        /// each scalar item for a sequence of scalars.
        var textLines: [TextLine] {
            switch self {
            case let .scalar(s, line): return [TextLine(number: line, text: s)]
            case let .block(lines, _): return lines
            case let .seq(items): return items.flatMap(\.textLines)
            default: return []
            }
        }

        /// The line the value starts on.
        var line: Int? {
            switch self {
            case let .scalar(_, line), let .block(_, line), let .empty(line): return line
            case let .map(entries): return entries.first?.line
            case let .seq(items): return items.first?.line
            }
        }
    }

    struct Entry {
        var key: String
        var line: Int
        var value: Node
    }

    struct TextLine: Equatable {
        var number: Int
        var text: String
    }

    let root: Node

    init(_ text: String) {
        let parser = Parser(text)
        root = parser.parseDocument()
    }

    // MARK: parsing

    private struct Raw {
        var number: Int
        /// Leading spaces of the original line (or of the remainder after a `- ` marker).
        var indent: Int
        /// Content after the indentation with any comment removed; empty for blank lines.
        var text: String
        /// The original line, for block scalars (where `#` is not a comment).
        var raw: String
        var isBlank: Bool { text.isEmpty }
    }

    private final class Parser {
        var lines: [Raw]
        var i = 0

        init(_ text: String) {
            let split = text.replacing("\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false)
            lines = split.enumerated().map { index, line in
                let raw = String(line)
                let indent = raw.prefix { $0 == " " }.count
                var content = BlockYAML.stripComment(String(raw.dropFirst(indent)))
                while content.last == " " || content.last == "\t" { content.removeLast() }
                if indent == 0, content == "---" || content == "..." || content.hasPrefix("%") { content = "" }
                return Raw(number: index + 1, indent: indent, text: content, raw: raw)
            }
        }

        func parseDocument() -> Node {
            skipBlank()
            guard i < lines.count else { return .empty(line: 1) }
            return parseNode(minIndent: 0)
        }

        func skipBlank() {
            while i < lines.count, lines[i].isBlank { i += 1 }
        }

        static func isSeqItem(_ text: String) -> Bool { text == "-" || text.hasPrefix("- ") }

        func parseNode(minIndent: Int) -> Node {
            skipBlank()
            guard i < lines.count, lines[i].indent >= minIndent else {
                return .empty(line: i < lines.count ? lines[i].number : (lines.last?.number ?? 1))
            }
            let line = lines[i]
            if Self.isSeqItem(line.text) { return parseSeq(indent: line.indent) }
            if BlockYAML.keyValue(line.text) != nil { return parseMap(indent: line.indent) }
            i += 1
            if line.text.hasPrefix("|") || line.text.hasPrefix(">") {
                return parseBlock(parentIndent: line.indent - 1, line: line.number)
            }
            skipContinuation(deeperThan: line.indent - 1)
            return .scalar(BlockYAML.unquote(line.text), line: line.number)
        }

        func parseSeq(indent: Int) -> Node {
            var items: [Node] = []
            while true {
                skipBlank()
                guard i < lines.count, lines[i].indent == indent, Self.isSeqItem(lines[i].text) else { break }
                let text = lines[i].text
                if text == "-" {
                    i += 1
                    items.append(parseNode(minIndent: indent + 1))
                } else {
                    // `- rest`: the rest is read as a line of its own, indented past the marker,
                    // which is where the following lines of a mapping item continue.
                    let rest = text.dropFirst()
                    let spaces = rest.prefix { $0 == " " }.count
                    lines[i].indent = indent + 1 + spaces
                    lines[i].text = String(rest.dropFirst(spaces))
                    items.append(parseNode(minIndent: lines[i].indent))
                }
            }
            return .seq(items)
        }

        func parseMap(indent: Int) -> Node {
            var entries: [Entry] = []
            while true {
                skipBlank()
                guard i < lines.count, lines[i].indent == indent, !Self.isSeqItem(lines[i].text),
                    let (key, rest) = BlockYAML.keyValue(lines[i].text)
                else { break }
                let number = lines[i].number
                i += 1
                let value: Node
                if rest.isEmpty {
                    skipBlank()
                    if i < lines.count, lines[i].indent > indent {
                        value = parseNode(minIndent: indent + 1)
                    } else if i < lines.count, lines[i].indent == indent, Self.isSeqItem(lines[i].text) {
                        value = parseSeq(indent: indent)
                    } else {
                        value = .empty(line: number)
                    }
                } else if rest.hasPrefix("|") || rest.hasPrefix(">") {
                    value = parseBlock(parentIndent: indent, line: number)
                } else {
                    value = .scalar(BlockYAML.unquote(rest), line: number)
                    skipContinuation(deeperThan: indent)
                }
                entries.append(Entry(key: key, line: number, value: value))
            }
            return .map(entries)
        }

        /// Lines of a multi-line plain or quoted scalar: everything indented deeper.
        func skipContinuation(deeperThan indent: Int) {
            while i < lines.count, lines[i].isBlank || lines[i].indent > indent {
                if lines[i].isBlank {
                    var j = i
                    while j < lines.count, lines[j].isBlank { j += 1 }
                    guard j < lines.count, lines[j].indent > indent else { return }
                }
                i += 1
            }
        }

        /// The lines of a block scalar: blank lines, or lines indented deeper than its parent.
        /// Comments inside are content, so the original lines are used.
        func parseBlock(parentIndent: Int, line: Int) -> Node {
            var collected: [(Int, String)] = []
            var contentIndent: Int?
            while i < lines.count {
                let raw = lines[i].raw
                let trimmed = raw.drop { $0 == " " }
                if trimmed.isEmpty {
                    collected.append((lines[i].number, ""))
                    i += 1
                    continue
                }
                let indent = raw.count - trimmed.count
                guard indent > parentIndent else { break }
                let ci = contentIndent ?? indent
                contentIndent = ci
                guard indent >= ci else { break }
                collected.append((lines[i].number, String(raw.dropFirst(ci))))
                i += 1
            }
            while let last = collected.last, last.1.isEmpty { collected.removeLast() }
            // Trailing blank lines were consumed; give them back to the outer level.
            if let lastNumber = collected.last?.0 {
                while i > 0, lines[i - 1].number > lastNumber { i -= 1 }
            }
            return .block(collected.map { TextLine(number: $0.0, text: $0.1) }, line: line)
        }
    }

    // MARK: lexical helpers

    /// Splits `key: value` (or `key:`), with plain or quoted keys. Nil when the text is not a
    /// mapping entry (a scalar, a flow collection, a sequence item).
    static func keyValue(_ text: String) -> (String, String)? {
        guard let first = text.first, first != "[", first != "{", first != "#" else { return nil }
        if first == "\"" || first == "'" {
            var index = text.index(after: text.startIndex)
            while index < text.endIndex {
                if text[index] == first {
                    let next = text.index(after: index)
                    if first == "'", next < text.endIndex, text[next] == "'" { index = text.index(after: next); continue }
                    guard next < text.endIndex, text[next] == ":" else { return nil }
                    let after = text.index(after: next)
                    guard after == text.endIndex || text[after] == " " else { return nil }
                    let key = unquote(String(text[..<next]))
                    return (key, String(text[after...]).trimmingSpaces)
                }
                if first == "\"", text[index] == "\\" { index = text.index(after: index) }
                if index < text.endIndex { index = text.index(after: index) }
            }
            return nil
        }
        var index = text.startIndex
        while index < text.endIndex {
            if text[index] == ":" {
                let next = text.index(after: index)
                if next == text.endIndex || text[next] == " " || text[next] == "\t" {
                    let key = String(text[..<index]).trimmingSpaces
                    guard !key.isEmpty else { return nil }
                    return (key, String(text[next...]).trimmingSpaces)
                }
            }
            index = text.index(after: index)
        }
        return nil
    }

    /// Removes a `#` comment (at the start, or after whitespace, outside quotes).
    static func stripComment(_ text: String) -> String {
        var quote: Character?
        var previous: Character = " "
        for (offset, c) in text.enumerated() {
            if let q = quote {
                if c == q { quote = nil }
            } else if c == "\"" || c == "'" {
                if previous == " " || previous == ":" || previous == "[" || previous == "," || previous == "-" || offset == 0 { quote = c }
            } else if c == "#", previous == " " || previous == "\t" || offset == 0 {
                return String(text.prefix(offset))
            }
            previous = c
        }
        return text
    }

    /// A scalar's value: quotes removed (with `''` and the common backslash escapes), an
    /// anchor (`&name`) dropped.
    static func unquote(_ text: String) -> String {
        var s = text.trimmingSpaces
        if s.hasPrefix("&"), let space = s.firstIndex(of: " ") { s = String(s[s.index(after: space)...]).trimmingSpaces }
        if s.hasPrefix("!"), !s.hasPrefix("!!"), let space = s.firstIndex(of: " ") { s = String(s[s.index(after: space)...]).trimmingSpaces }
        guard s.count >= 2, let first = s.first, let last = s.last, first == last, first == "\"" || first == "'" else { return s }
        let inner = String(s.dropFirst().dropLast())
        if first == "'" { return inner.replacing("''", with: "'") }
        var out = ""
        var escaping = false
        for c in inner {
            if escaping {
                switch c {
                case "n": out.append("\n")
                case "t": out.append("\t")
                default: out.append(c)
                }
                escaping = false
            } else if c == "\\" {
                escaping = true
            } else {
                out.append(c)
            }
        }
        return out
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }
}
