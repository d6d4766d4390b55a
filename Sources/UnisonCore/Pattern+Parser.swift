/// A parsed pattern. Flags are resolved while parsing: each node carries what it needs.
indirect enum PatternNode: Sendable {
    case empty
    case scalar(Unicode.Scalar, fold: Bool)
    case set(PatternClass, fold: Bool)
    case any(dotAll: Bool)
    case concat([PatternNode])
    case alternation([PatternNode])
    /// `capture`: the group number (1…), nil for a non-capturing group.
    case group(PatternNode, capture: Int?)
    case quantified(PatternNode, min: Int, max: Int?, greedy: Bool)
    case anchor(PatternAnchor)
    case look(PatternNode, ahead: Bool, negated: Bool)

    /// The fewest and most scalars the node can match (nil: unbounded).
    var length: (min: Int, max: Int?) {
        switch self {
        case .empty, .anchor, .look: return (0, 0)
        case .scalar, .set, .any: return (1, 1)
        case let .group(n, _): return n.length
        case let .concat(items):
            var lo = 0
            var hi: Int? = 0
            for item in items {
                let l = item.length
                lo = lo &+ l.min
                hi = hi.flatMap { h in l.max.map { h &+ $0 } }
            }
            return (lo, hi)
        case let .alternation(items):
            let ls = items.map(\.length)
            let lo = ls.map(\.min).min() ?? 0
            let hi: Int? = ls.contains { $0.max == nil } ? nil : ls.compactMap(\.max).max() ?? 0
            return (lo, hi)
        case let .quantified(n, min, max, _):
            let l = n.length
            let hi: Int? =
                if l.max == 0 { 0 } else if let m = max, let lm = l.max { m.multipliedReportingOverflow(by: lm).overflow ? nil : m * lm } else { nil }
            return (min.multipliedReportingOverflow(by: l.min).overflow ? Int.max / 2 : min * l.min, hi)
        }
    }
}

enum PatternAnchor: Sendable, Equatable {
    case lineStart(multiline: Bool)
    case lineEnd(multiline: Bool)
    case inputStart, inputEnd, inputEndBeforeTerminator
    case wordBoundary(Bool)
}

/// A character class: items, maybe negated.
struct PatternClass: Sendable {
    enum Item: Sendable {
        case range(UInt32, UInt32)
        case digit(negated: Bool)
        case word(negated: Bool)
        case space(negated: Bool)

        func contains(_ c: Unicode.Scalar) -> Bool {
            switch self {
            case let .range(lo, hi): return c.value >= lo && c.value <= hi
            case let .digit(n): return PatternScalars.isDigit(c) != n
            case let .word(n): return PatternScalars.isWord(c) != n
            case let .space(n): return c.properties.isWhitespace != n
            }
        }
    }

    var items: [Item]
    var negated: Bool

    func contains(_ c: Unicode.Scalar, fold: Bool) -> Bool {
        var hit = items.contains { $0.contains(c) }
        if !hit, fold {
            let lower = PatternScalars.fold(c)
            let upper = PatternScalars.upper(c)
            hit = items.contains { (lower != c && $0.contains(lower)) || (upper != c && $0.contains(upper)) }
        }
        return hit != negated
    }
}

/// Scalar properties shared by the parser and the matcher (ICU's definitions).
enum PatternScalars {
    static func isDigit(_ c: Unicode.Scalar) -> Bool {
        c.isASCII ? (c.value >= 0x30 && c.value <= 0x39) : c.properties.generalCategory == .decimalNumber
    }

    /// ICU's `\w`: letters, marks, decimal digits, connector punctuation, ZWNJ and ZWJ.
    static func isWord(_ c: Unicode.Scalar) -> Bool {
        if c.isASCII {
            let v = c.value
            return (v >= 0x30 && v <= 0x39) || (v | 0x20 >= 0x61 && v | 0x20 <= 0x7A) || v == 0x5F
        }
        let p = c.properties
        switch p.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .connectorPunctuation: return true
        default: return p.isAlphabetic || c.value == 0x200C || c.value == 0x200D
        }
    }

    static func isLineTerminator(_ c: Unicode.Scalar) -> Bool {
        switch c.value {
        case 0x0A, 0x0B, 0x0C, 0x0D, 0x85, 0x2028, 0x2029: return true
        default: return false
        }
    }

    /// The simple lowercase mapping when it is one scalar and does not map non-ASCII to ASCII.
    static func fold(_ c: Unicode.Scalar) -> Unicode.Scalar {
        if c.isASCII { return c.value >= 0x41 && c.value <= 0x5A ? Unicode.Scalar(c.value + 32)! : c }
        return single(c.properties.lowercaseMapping, of: c)
    }

    static func upper(_ c: Unicode.Scalar) -> Unicode.Scalar {
        if c.isASCII { return c.value >= 0x61 && c.value <= 0x7A ? Unicode.Scalar(c.value - 32)! : c }
        return single(c.properties.uppercaseMapping, of: c)
    }

    private static func single(_ mapped: String, of c: Unicode.Scalar) -> Unicode.Scalar {
        let s = mapped.unicodeScalars
        guard let first = s.first, s.index(after: s.startIndex) == s.endIndex, !first.isASCII else { return c }
        return first
    }
}

/// Recursive descent over the pattern's scalars; nesting is bounded by `Pattern.maximumNesting`.
struct PatternParser {
    let p: [Unicode.Scalar]
    var i = 0
    var captures = 0
    var names: [String: Int] = [:]
    var depth = 0

    /// The tree, the number of capture groups and the named ones.
    typealias Parsed = (node: PatternNode, captures: Int, names: [String: Int])

    static func parse(_ p: [Unicode.Scalar], options: Pattern.Options) throws(PatternError) -> Parsed {
        var parser = PatternParser(p: p)
        let node = try parser.alternation(options)
        if parser.i < p.count { throw parser.error("unmatched ')'") }
        return (node, parser.captures, parser.names)
    }

    func error(_ reason: String, at offset: Int? = nil) -> PatternError { .syntax(offset: offset ?? i, reason: reason) }

    var peek: Unicode.Scalar? { i < p.count ? p[i] : nil }
    func peek(_ k: Int) -> Unicode.Scalar? { i + k < p.count ? p[i + k] : nil }

    mutating func alternation(_ start: Pattern.Options) throws(PatternError) -> PatternNode {
        var options = start
        var branches: [PatternNode] = [try concatenation(&options)]
        while peek == "|" {
            i += 1
            branches.append(try concatenation(&options))
        }
        return branches.count == 1 ? branches[0] : .alternation(branches)
    }

    mutating func concatenation(_ options: inout Pattern.Options) throws(PatternError) -> PatternNode {
        var items: [PatternNode] = []
        while let c = peek, c != "|", c != ")" {
            let atomStart = i
            guard let atom = try atom(&options) else { continue }  // an inline flag group
            items.append(try quantifier(on: atom, at: atomStart))
        }
        return items.count == 1 ? items[0] : items.isEmpty ? .empty : .concat(items)
    }

    /// `{n}`, `{n,}` or `{n,m}` at `i`: the bounds and the offset after `}`.
    func braces(at k: Int) -> (min: Int, max: Int?, end: Int)? {
        guard k < p.count, p[k] == "{" else { return nil }
        var j = k + 1
        func number() -> Int? {
            let start = j
            var v = 0
            while j < p.count, p[j].isASCII, p[j].properties.numericType == .decimal {
                v = min(v * 10 + Int(p[j].value - 0x30), 1_000_000)
                j += 1
            }
            return j > start ? v : nil
        }
        guard let lo = number() else { return nil }
        var hi: Int? = lo
        if j < p.count, p[j] == "," {
            j += 1
            hi = number()
        }
        guard j < p.count, p[j] == "}" else { return nil }
        return (lo, hi, j + 1)
    }

    mutating func quantifier(on atom: PatternNode, at atomStart: Int) throws(PatternError) -> PatternNode {
        let start = i
        var bounds: (min: Int, max: Int?)
        switch peek {
        case "*": bounds = (0, nil); i += 1
        case "+": bounds = (1, nil); i += 1
        case "?": bounds = (0, 1); i += 1
        case "{":
            guard let b = braces(at: i) else { return atom }
            if let hi = b.max, hi < b.min { throw error("quantifier range out of order", at: start) }
            bounds = (b.min, b.max)
            i = b.end
        default: return atom
        }
        if case .empty = atom { throw error("nothing to repeat", at: start) }
        var greedy = true
        if peek == "?" {
            greedy = false
            i += 1
        } else if peek == "+" {
            throw error("possessive quantifiers are not supported")
        }
        if let c = peek, c == "*" || c == "+" || c == "?" || braces(at: i) != nil { throw error("nothing to repeat") }
        return .quantified(atom, min: bounds.min, max: bounds.max, greedy: greedy)
    }

    /// One atom, or nil for an inline flag group `(?i)` (which changes `options`).
    mutating func atom(_ options: inout Pattern.Options) throws(PatternError) -> PatternNode? {
        let c = p[i]
        let fold = options.contains(.caseInsensitive)
        switch c {
        case "(": return try group(&options)
        case "[":
            i += 1
            return .set(try characterClass(), fold: fold)
        case ".":
            i += 1
            return .any(dotAll: options.contains(.dotAll))
        case "^":
            i += 1
            return .anchor(.lineStart(multiline: options.contains(.multiline)))
        case "$":
            i += 1
            return .anchor(.lineEnd(multiline: options.contains(.multiline)))
        case "\\": return try escape(fold: fold)
        case "*", "+", "?": throw error("nothing to repeat")
        case "{" where braces(at: i) != nil: throw error("nothing to repeat")
        default:
            i += 1
            return .scalar(fold ? PatternScalars.fold(c) : c, fold: fold)
        }
    }

    mutating func group(_ options: inout Pattern.Options) throws(PatternError) -> PatternNode? {
        let open = i
        i += 1
        depth += 1
        defer { depth -= 1 }
        if depth > Pattern.maximumNesting { throw error("groups nested too deeply", at: open) }
        var capture: Int?
        var look: (ahead: Bool, negated: Bool)?
        var inner = options
        if peek == "?" {
            i += 1
            switch peek {
            case ":": i += 1
            case "=": i += 1; look = (true, false)
            case "!": i += 1; look = (true, true)
            case "<" where peek(1) == "=": i += 2; look = (false, false)
            case "<" where peek(1) == "!": i += 2; look = (false, true)
            case "<",
                "P" where peek(1) == "<":
                i += peek == "P" ? 2 : 1
                let nameStart = i
                var name = ""
                while let c = peek, c != ">" {
                    guard c.isASCII, PatternScalars.isWord(c), !(name.isEmpty && PatternScalars.isDigit(c)) else {
                        throw error("invalid group name")
                    }
                    name.unicodeScalars.append(c)
                    i += 1
                }
                guard peek == ">", !name.isEmpty else { throw error("invalid group name", at: nameStart) }
                i += 1
                captures += 1
                guard names[name] == nil else { throw error("duplicate group name '\(name)'", at: nameStart) }
                names[name] = captures
                capture = captures
            default:
                // Inline flags: (?ims-ims) for the rest of the enclosing group, (?ims-ims:…) for this one.
                var on = true
                var flags = options
                while let c = peek, c != ")", c != ":" {
                    let flag: Pattern.Options
                    switch c {
                    case "i": flag = .caseInsensitive
                    case "m": flag = .multiline
                    case "s": flag = .dotAll
                    case "-" where on: on = false; i += 1; continue
                    default: throw error("unknown group syntax")
                    }
                    if on { flags.insert(flag) } else { flags.remove(flag) }
                    i += 1
                }
                guard let c = peek else { throw error("missing ')'", at: open) }
                i += 1
                if c == ")" {
                    options = flags
                    return nil
                }
                inner = flags
            }
        } else {
            captures += 1
            capture = captures
        }
        let body = try alternation(inner)
        guard peek == ")" else { throw error("missing ')'", at: open) }
        i += 1
        if let look {
            if !look.ahead, body.length.max == nil { throw error("lookbehind must have a bounded length", at: open) }
            return .look(body, ahead: look.ahead, negated: look.negated)
        }
        return .group(body, capture: capture)
    }

    /// Hex digits: exactly `count`, or `{…}` when `count` is nil.
    mutating func hex(count: Int?) throws(PatternError) -> Unicode.Scalar {
        let start = i
        var v: UInt32 = 0
        var digits = 0
        func digit(_ c: Unicode.Scalar?) -> UInt32? {
            guard let c, c.isASCII, let d = Int(String(c), radix: 16) else { return nil }
            return UInt32(d)
        }
        if let count {
            while digits < count, let d = digit(peek) {
                v = v * 16 + d; digits += 1; i += 1
            }
            guard digits == count else { throw error("invalid hex escape", at: start) }
        } else {
            i += 1  // {
            while let d = digit(peek), digits < 8 {
                v = v * 16 + d; digits += 1; i += 1
            }
            guard digits > 0, peek == "}" else { throw error("invalid hex escape", at: start) }
            i += 1
        }
        guard let s = Unicode.Scalar(v) else { throw error("invalid scalar value", at: start) }
        return s
    }

    /// An escape that stands for one scalar (outside or inside a class), or nil.
    mutating func scalarEscape(_ c: Unicode.Scalar) throws(PatternError) -> Unicode.Scalar? {
        switch c {
        case "n": return "\n"
        case "r": return "\r"
        case "t": return "\t"
        case "f": return "\u{0C}"
        case "v": return "\u{0B}"
        case "a": return "\u{07}"
        case "e": return "\u{1B}"
        case "0":
            if let d = peek, PatternScalars.isDigit(d), d.isASCII { throw error("octal escapes are not supported") }
            return "\0"
        case "x": return try hex(count: peek == "{" ? nil : 2)
        case "u": return try hex(count: peek == "{" ? nil : 4)
        default:
            if !c.isASCII || !PatternScalars.isWord(c) { return c }
            return nil
        }
    }

    func classItem(_ c: Unicode.Scalar) -> PatternClass.Item? {
        switch c {
        case "d": .digit(negated: false)
        case "D": .digit(negated: true)
        case "w": .word(negated: false)
        case "W": .word(negated: true)
        case "s": .space(negated: false)
        case "S": .space(negated: true)
        default: nil
        }
    }

    mutating func escape(fold: Bool) throws(PatternError) -> PatternNode {
        let start = i
        i += 1
        guard let c = peek else { throw error("'\\' at end of pattern", at: start) }
        i += 1
        if let item = classItem(c) { return .set(PatternClass(items: [item], negated: false), fold: false) }
        switch c {
        case "b": return .anchor(.wordBoundary(true))
        case "B": return .anchor(.wordBoundary(false))
        case "A": return .anchor(.inputStart)
        case "z": return .anchor(.inputEnd)
        case "Z": return .anchor(.inputEndBeforeTerminator)
        case "1"..."9", "k": throw error("backreferences are not supported", at: start)
        default: break
        }
        guard let s = try scalarEscape(c) else { throw error("unknown escape '\\\(c)'", at: start) }
        return .scalar(fold ? PatternScalars.fold(s) : s, fold: fold)
    }

    /// After `[`, up to and including `]`.
    mutating func characterClass() throws(PatternError) -> PatternClass {
        let open = i - 1
        var set = PatternClass(items: [], negated: false)
        if peek == "^" {
            set.negated = true
            i += 1
        }
        var first = true
        // One endpoint: a scalar, or a class escape (which cannot start or end a range).
        enum Element { case scalar(Unicode.Scalar), item(PatternClass.Item) }
        func element(_ parser: inout PatternParser) throws(PatternError) -> Element {
            let c = parser.p[parser.i]
            parser.i += 1
            guard c == "\\" else { return .scalar(c) }
            guard let e = parser.peek else { throw parser.error("'\\' at end of pattern", at: parser.i - 1) }
            parser.i += 1
            if let item = parser.classItem(e) { return .item(item) }
            if e == "b" { return .scalar("\u{08}") }
            if e == "-" { return .scalar("-") }
            guard let s = try parser.scalarEscape(e) else { throw parser.error("unknown escape '\\\(e)'", at: parser.i - 2) }
            return .scalar(s)
        }
        while true {
            guard let c = peek else { throw error("missing ']'", at: open) }
            if c == "]", !first { i += 1; break }
            first = false
            let start = i
            let lo = try element(&self)
            if peek == "-", let next = peek(1), next != "]" {
                i += 1
                let hiStart = i
                let hi = try element(&self)
                guard case let .scalar(a) = lo, case let .scalar(b) = hi else { throw error("invalid class range", at: start) }
                guard a.value <= b.value else { throw error("class range out of order", at: hiStart) }
                set.items.append(.range(a.value, b.value))
                continue
            }
            switch lo {
            case let .scalar(s): set.items.append(.range(s.value, s.value))
            case let .item(item): set.items.append(item)
            }
        }
        return set
    }
}
