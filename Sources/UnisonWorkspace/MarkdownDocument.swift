import UnisonCore

/// The parts of a Markdown file the README rules need, following CommonMark 0.31 where it
/// matters: ATX headings (`## Run`, up to three spaces of indentation, optional closing `#`s),
/// setext headings (a paragraph underlined with `===` or `---`), HTML headings on a line of
/// their own (`<h2>Run</h2>`), fenced code blocks (``` or ~~~, whose content is never a
/// heading), YAML front matter, and paragraphs.
struct MarkdownDocument {
    struct Heading: Equatable {
        var level: Int
        var text: String
        /// 1-based line of the heading (of its text line for a setext heading).
        var line: Int
        /// Lowercased letters and digits of the text, words separated by one space.
        var normalized: String { MarkdownDocument.normalize(text) }
    }

    let lines: [String]
    private(set) var headings: [Heading] = []
    /// For each line (0-based): true inside a fenced code block (fences included).
    private(set) var inCode: [Bool] = []

    init(_ text: String) {
        lines = text.replacing("\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        scan()
    }

    private mutating func scan() {
        inCode = Array(repeating: false, count: lines.count)
        var index = 0
        // Front matter: a first line `---` closed by `---` or `...`.
        if lines.first == "---", let close = lines.dropFirst().firstIndex(where: { $0 == "---" || $0 == "..." }) {
            for i in 0...close { inCode[i] = true }
            index = close + 1
        }
        var fence: (char: Character, count: Int)?
        var paragraphStart: Int?
        while index < lines.count {
            let line = lines[index]
            let stripped = Self.dropIndent(line)
            if let open = fence {
                inCode[index] = true
                if let stripped, let f = Self.fenceMarker(stripped), f.char == open.char, f.count >= open.count,
                    stripped.drop(while: { $0 == open.char }).allSatisfy({ $0 == " " || $0 == "\t" })
                {
                    fence = nil
                }
                index += 1
                continue
            }
            if let f = Self.fenceMarker(stripped), stripped != nil {
                fence = f
                inCode[index] = true
                paragraphStart = nil
                index += 1
                continue
            }
            let blank = line.allSatisfy { $0 == " " || $0 == "\t" }
            if let stripped, let atx = Self.atx(stripped) {
                headings.append(Heading(level: atx.level, text: atx.text, line: index + 1))
                paragraphStart = nil
            } else if let html = Self.htmlHeading(line.trimmingSpaces) {
                headings.append(Heading(level: html.level, text: html.text, line: index + 1))
                paragraphStart = nil
            } else if let start = paragraphStart, let stripped, let level = Self.setextLevel(stripped) {
                let text = lines[start..<index].map { $0.trimmingSpaces }.joined(separator: " ")
                headings.append(Heading(level: level, text: text, line: start + 1))
                paragraphStart = nil
            } else if blank {
                paragraphStart = nil
            } else if paragraphStart == nil, !line.hasPrefix("    "), !line.hasPrefix("\t") {
                paragraphStart = index
            }
            index += 1
        }
    }

    /// The line without up to three spaces of indentation; nil when indented four or more
    /// (an indented code block line).
    private static func dropIndent(_ line: String) -> String? {
        let spaces = line.prefix { $0 == " " }.count
        if spaces > 3 || line.hasPrefix("\t") { return nil }
        return String(line.dropFirst(spaces))
    }

    private static func fenceMarker(_ stripped: String?) -> (char: Character, count: Int)? {
        guard let stripped, let first = stripped.first, first == "`" || first == "~" else { return nil }
        let count = stripped.prefix { $0 == first }.count
        guard count >= 3 else { return nil }
        if first == "`", stripped.dropFirst(count).contains("`") { return nil }
        return (first, count)
    }

    private static func atx(_ stripped: String) -> (level: Int, text: String)? {
        let hashes = stripped.prefix { $0 == "#" }.count
        guard (1...6).contains(hashes) else { return nil }
        let rest = stripped.dropFirst(hashes)
        guard rest.isEmpty || rest.first == " " || rest.first == "\t" else { return nil }
        var text = String(rest).trimmingSpaces
        // A closing sequence of `#`s preceded by a space is not part of the text.
        if let lastNonHash = text.lastIndex(where: { $0 != "#" }) {
            let tail = text[text.index(after: lastNonHash)...]
            if !tail.isEmpty, text[lastNonHash] == " " { text = String(text[..<lastNonHash]).trimmingSpaces }
        } else {
            text = ""
        }
        return (hashes, text)
    }

    private static func setextLevel(_ stripped: String) -> Int? {
        let body = stripped.trimmingSpaces
        guard let first = body.first, first == "=" || first == "-", body.allSatisfy({ $0 == first }) else { return nil }
        return first == "=" ? 1 : 2
    }

    private static func htmlHeading(_ text: String) -> (level: Int, text: String)? {
        let lower = text.lowercased()
        guard lower.hasPrefix("<h"), lower.count > 3 else { return nil }
        let digit = lower[lower.index(lower.startIndex, offsetBy: 2)]
        guard let level = Int(String(digit)), (1...6).contains(level), lower.hasSuffix("</h\(level)>"),
            let close = text.firstIndex(of: ">")
        else { return nil }
        let inner = text[text.index(after: close)..<text.index(text.endIndex, offsetBy: -5)]
        return (level, Self.stripTags(String(inner)))
    }

    static func stripTags(_ text: String) -> String {
        var out = ""
        var inTag = false
        for c in text {
            if c == "<" { inTag = true } else if c == ">" { inTag = false } else if !inTag { out.append(c) }
        }
        return out.trimmingSpaces
    }

    // MARK: sections and paragraphs

    /// The body of `heading`: the lines after it up to the next heading of the same or a
    /// higher level (0-based line indices).
    func bodyRange(of heading: Heading) -> Range<Int> {
        let start = heading.line  // the line after the heading (heading.line is 1-based)
        let next = headings.first { $0.line > heading.line && $0.level <= heading.level }
        // A setext heading's underline is one line further down.
        let end = next.map { $0.line - 1 } ?? lines.count
        return min(start, end)..<end
    }

    func text(of range: Range<Int>) -> String {
        lines[range].joined(separator: "\n")
    }

    /// The first paragraph of prose: the first run of non-blank lines outside code blocks that
    /// is not a heading, a setext underline, an HTML comment or a line of badges and images.
    func firstParagraph() -> (text: String, line: Int)? {
        let headingLines = Set(headings.map { $0.line - 1 })
        var start: Int?
        var collected: [String] = []
        for (index, line) in lines.enumerated() {
            let trimmed = line.trimmingSpaces
            let skip =
                inCode[index] || headingLines.contains(index) || Self.isDecoration(trimmed)
                || (index > 0 && headingLines.contains(index - 1) && Self.setextLevel(trimmed) != nil)
            if trimmed.isEmpty || skip {
                if start != nil { break }
                continue
            }
            if start == nil { start = index }
            collected.append(trimmed)
        }
        guard let start else { return nil }
        return (collected.joined(separator: " "), start + 1)
    }

    /// Badge rows, images, HTML comments and bare HTML tags carry no prose.
    private static func isDecoration(_ line: String) -> Bool {
        if line.hasPrefix("<!--") || line.hasPrefix("<img") || line.hasPrefix("<p") || line.hasPrefix("</p") || line.hasPrefix("<div")
            || line.hasPrefix("</div") || line.hasPrefix("<br")
        {
            return true
        }
        // Only images and image links: `[![alt](badge)](link)`, `![alt](img)`.
        var rest = Substring(line)
        var sawImage = false
        while !rest.isEmpty {
            rest = rest.drop { $0 == " " }
            if rest.isEmpty { break }
            if rest.hasPrefix("[![") || rest.hasPrefix("![") {
                guard let end = Self.endOfImage(rest) else { return false }
                rest = rest[end...]
                sawImage = true
            } else {
                return false
            }
        }
        return sawImage
    }

    private static func endOfImage(_ text: Substring) -> Substring.Index? {
        // Skip to the closing parenthesis that ends the (outer) link.
        var depth = 0
        var closedAny = false
        var index = text.startIndex
        while index < text.endIndex {
            let c = text[index]
            if c == "(" { depth += 1 }
            if c == ")" {
                depth -= 1
                if depth == 0 {
                    closedAny = true
                    let next = text.index(after: index)
                    if text.hasPrefix("[![") {
                        // an image inside a link: the link's own target follows
                        if next < text.endIndex, text[next] == "]" { index = next; continue }
                        if next < text.endIndex, text[next] == "(" { index = next; continue }
                    }
                    return next
                }
            }
            index = text.index(after: index)
        }
        return closedAny ? text.endIndex : nil
    }

    // MARK: normalization

    /// Heading text as the section rules compare it: inline markup (code spans, emphasis,
    /// links, HTML tags) removed, leading numbering (`1.`, `2)`, `3.1`) removed, then only
    /// letters and digits kept, lowercased, words separated by single spaces.
    static func normalize(_ text: String) -> String {
        var s = stripTags(text)
        s = stripLinks(s)
        var words: [String] = []
        var current = ""
        for c in s.lowercased() {
            if c.isLetter || c.isNumber { current.append(c) } else if !current.isEmpty { words.append(current); current = "" }
        }
        if !current.isEmpty { words.append(current) }
        // Leading section numbers: `1.`, `2)`, `3.1`.
        while let first = words.first, first.allSatisfy(\.isNumber), words.count > 1 { words.removeFirst() }
        return words.joined(separator: " ")
    }

    /// `[text](url)` → `text`, `![alt](src)` → `alt`.
    static func stripLinks(_ text: String) -> String {
        var out = ""
        var index = text.startIndex
        while index < text.endIndex {
            let c = text[index]
            if c == "]", text.index(after: index) < text.endIndex, text[text.index(after: index)] == "(",
                let close = text[index...].firstIndex(of: ")")
            {
                index = text.index(after: close)
                continue
            }
            if c != "[" && c != "!" || (c == "!" && text.index(after: index) < text.endIndex && text[text.index(after: index)] != "[") {
                out.append(c)
            }
            index = text.index(after: index)
        }
        return out
    }
}
