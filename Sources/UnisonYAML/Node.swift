// The composed YAML tree: what UnisonSpec reads from unison.yaml and answers files. Aliases are
// expanded into copies of their anchored node (the copy keeps the anchored node's marks), so a
// reader never meets an alias.

/// A position in the text: 1-based line, and 1-based column counted in Unicode scalars (libyaml's count).
package struct Mark: Sendable, Hashable, CustomStringConvertible {
    package var line: Int
    package var column: Int

    package init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    package var description: String { "\(line):\(column)" }
}

/// A node's tag, resolved: explicit tags as written (after libyaml's `!!` expansion), implicit
/// ones from the node kind and, for plain scalars, from the text (YAML 1.1 rules, see `YAMLTag.resolve`).
package struct YAMLTag: Sendable, Hashable, RawRepresentable, CustomStringConvertible {
    package var rawValue: String
    package init(rawValue: String) { self.rawValue = rawValue }
    package init(_ rawValue: String) { self.rawValue = rawValue }

    package static let str = YAMLTag("tag:yaml.org,2002:str")
    package static let null = YAMLTag("tag:yaml.org,2002:null")
    package static let bool = YAMLTag("tag:yaml.org,2002:bool")
    package static let int = YAMLTag("tag:yaml.org,2002:int")
    package static let float = YAMLTag("tag:yaml.org,2002:float")
    package static let merge = YAMLTag("tag:yaml.org,2002:merge")
    package static let seq = YAMLTag("tag:yaml.org,2002:seq")
    package static let map = YAMLTag("tag:yaml.org,2002:map")

    package var description: String { rawValue }
}

package enum Node: Sendable, Hashable {
    case scalar(Scalar)
    case mapping(Mapping)
    case sequence(List)

    package struct Scalar: Sendable, Hashable {
        package enum Style: Sendable, Hashable {
            case plain, singleQuoted, doubleQuoted, literal, folded
        }

        package var string: String
        package var tag: YAMLTag
        package var style: Style
        package var mark: Mark

        package init(_ string: String, tag: YAMLTag = .str, style: Style = .plain, mark: Mark = Mark(line: 1, column: 1)) {
            self.string = string
            self.tag = tag
            self.style = style
            self.mark = mark
        }

        /// Equal text and tag (marks and styles aside), as keys compare for duplicates.
        package static func == (a: Scalar, b: Scalar) -> Bool { a.string == b.string && a.tag == b.tag }
        package func hash(into hasher: inout Hasher) {
            hasher.combine(string)
            hasher.combine(tag)
        }
    }

    /// Block (indented) or flow (`[a, b]`, `{a: 1}`) collection style.
    package enum CollectionStyle: Sendable, Hashable { case block, flow }

    /// A mapping's pairs in document order (duplicate keys are refused when composing).
    package struct Mapping: Sendable, Hashable, RandomAccessCollection {
        package typealias Pair = (key: Node, value: Node)
        package var pairs: [Pair]
        package var tag: YAMLTag
        package var style: CollectionStyle
        package var mark: Mark

        package init(_ pairs: [Pair], tag: YAMLTag = .map, style: CollectionStyle = .block, mark: Mark = Mark(line: 1, column: 1)) {
            self.pairs = pairs
            self.tag = tag
            self.style = style
            self.mark = mark
        }

        package var startIndex: Int { pairs.startIndex }
        package var endIndex: Int { pairs.endIndex }
        package subscript(position: Int) -> Pair { pairs[position] }

        /// The value of the first key whose scalar text is `key`.
        package subscript(key: String) -> Node? { pairs.first { $0.key.scalar?.string == key }?.value }

        package static func == (a: Mapping, b: Mapping) -> Bool {
            a.tag == b.tag && a.pairs.count == b.pairs.count
                && zip(a.pairs, b.pairs).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        }

        package func hash(into hasher: inout Hasher) {
            hasher.combine(tag)
            hasher.combine(pairs.count)
            for pair in pairs {
                hasher.combine(pair.key)
                hasher.combine(pair.value)
            }
        }
    }

    package struct List: Sendable, Hashable, RandomAccessCollection {
        package var items: [Node]
        package var tag: YAMLTag
        package var style: CollectionStyle
        package var mark: Mark

        package init(_ items: [Node], tag: YAMLTag = .seq, style: CollectionStyle = .block, mark: Mark = Mark(line: 1, column: 1)) {
            self.items = items
            self.tag = tag
            self.style = style
            self.mark = mark
        }

        package var startIndex: Int { items.startIndex }
        package var endIndex: Int { items.endIndex }
        package subscript(position: Int) -> Node { items[position] }

        package static func == (a: List, b: List) -> Bool { a.tag == b.tag && a.items == b.items }
        package func hash(into hasher: inout Hasher) {
            hasher.combine(tag)
            hasher.combine(items)
        }
    }

    /// Where the node starts (for a node reached through an alias: where its anchored node starts).
    package var mark: Mark {
        switch self {
        case let .scalar(s): return s.mark
        case let .mapping(m): return m.mark
        case let .sequence(l): return l.mark
        }
    }

    package var tag: YAMLTag {
        switch self {
        case let .scalar(s): return s.tag
        case let .mapping(m): return m.tag
        case let .sequence(l): return l.tag
        }
    }

    package var scalar: Scalar? {
        if case let .scalar(s) = self { return s }
        return nil
    }

    package var mapping: Mapping? {
        if case let .mapping(m) = self { return m }
        return nil
    }

    package var sequence: List? {
        if case let .sequence(l) = self { return l }
        return nil
    }

    /// The scalar's text; nil for a collection.
    package var string: String? { scalar?.string }
}

extension YAMLTag {
    /// The tag of a plain scalar without an explicit tag: the YAML 1.1 core rules Yams's default
    /// resolver applied (bool, int, float, merge, null, in that order), else str. Timestamps and
    /// `=` stay str: nothing here reads them.
    package static func resolve(plain text: String) -> YAMLTag {
        if isBool(text) { return .bool }
        if isInt(text) { return .int }
        if isFloat(text) { return .float }
        if text == "<<" { return .merge }
        if ["", "~", "null", "Null", "NULL"].contains(text) { return .null }
        return .str
    }

    private static let bools: Set<String> = [
        "yes", "Yes", "YES", "no", "No", "NO", "true", "True", "TRUE", "false", "False", "FALSE",
        "on", "On", "ON", "off", "Off", "OFF",
    ]

    static func isBool(_ text: String) -> Bool { bools.contains(text) }

    /// `[-+]?` then 0b binary, 0o?/0 octal, decimal without leading zeros, 0x hex, or base-60
    /// (`1:30`); underscores allowed where YAML 1.1 allows them.
    static func isInt(_ text: String) -> Bool {
        var s = Substring(text)
        if s.first == "-" || s.first == "+" { s = s.dropFirst() }
        func all(_ t: Substring, _ ok: (Character) -> Bool) -> Bool { !t.isEmpty && t.allSatisfy(ok) }
        if s.hasPrefix("0b") { return all(s.dropFirst(2)) { $0 == "0" || $0 == "1" || $0 == "_" } }
        if s.hasPrefix("0x") { return all(s.dropFirst(2)) { ($0.isASCII && $0.isHexDigit) || $0 == "_" } }
        if s == "0" { return true }
        if s.hasPrefix("0") {
            let rest = s.hasPrefix("0o") ? s.dropFirst(2) : s.dropFirst()
            return all(rest) { ("0"..."7").contains($0) || $0 == "_" }
        }
        guard let first = s.first, ("1"..."9").contains(first) else { return false }
        if !s.contains(":") { return s.allSatisfy { $0.isASCII && ($0.isNumber || $0 == "_") } }
        let parts = s.split(separator: ":", omittingEmptySubsequences: false)
        return parts[0].allSatisfy { $0.isASCII && ($0.isNumber || $0 == "_") } && parts.dropFirst().allSatisfy(isSexagesimalDigits)
    }

    /// `[0-5]?[0-9]`
    private static func isSexagesimalDigits(_ part: Substring) -> Bool {
        let digits = Array(part)
        guard digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return false }
        if digits.count == 1 { return true }
        return digits.count == 2 && ("0"..."5").contains(digits[0])
    }

    /// Decimal with optional fraction and exponent, `.5`, base-60 with a fraction, `.inf`, `.nan`.
    static func isFloat(_ text: String) -> Bool {
        if [".nan", ".NaN", ".NAN"].contains(text) { return true }
        var s = Substring(text)
        let signed = s.first == "-" || s.first == "+"
        if signed { s = s.dropFirst() }
        if [".inf", ".Inf", ".INF"].contains(s) { return true }
        func digits(_ t: Substring, underscores: Bool = true) -> Bool {
            t.allSatisfy { $0.isASCII && ($0.isNumber || (underscores && $0 == "_")) }
        }
        func exponentOK(_ e: Substring, signRequired: Bool) -> Bool {
            var e = e
            if e.first == "-" || e.first == "+" { e = e.dropFirst() } else if signRequired { return false }
            return !e.isEmpty && digits(e, underscores: false)
        }
        if s.first == "." {
            // `\.[0-9_]+(?:[eE][-+][0-9]+)?`, unsigned only
            guard !signed else { return false }
            let body = s.dropFirst()
            let (mantissa, exponent) = split(body)
            return !mantissa.isEmpty && digits(mantissa) && exponent.map { exponentOK($0, signRequired: true) } ?? true
        }
        guard let first = s.first, first.isASCII, first.isNumber else { return false }
        if s.contains(":") {
            // `[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*`
            guard let dot = s.lastIndex(of: ".") else { return false }
            let parts = s[..<dot].split(separator: ":", omittingEmptySubsequences: false)
            return parts.count > 1 && digits(parts[0]) && parts.dropFirst().allSatisfy(isSexagesimalDigits)
                && digits(s[s.index(after: dot)...])
        }
        // `[0-9][0-9_]*(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?`
        let (mantissa, exponent) = split(s)
        if let exponent, !exponentOK(exponent, signRequired: false) { return false }
        let pieces = mantissa.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        return digits(pieces[0]) && (pieces.count == 1 || digits(pieces[1]))
    }

    private static func split(_ s: Substring) -> (Substring, Substring?) {
        guard let e = s.firstIndex(where: { $0 == "e" || $0 == "E" }) else { return (s, nil) }
        return (s[..<e], s[s.index(after: e)...])
    }
}
