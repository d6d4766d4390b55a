/// A regular expression compiled once and matched scalar by scalar (ICU's and JavaScript's
/// unit, not grapheme clusters), without the standard library's `Regex` (which links all of
/// `_StringProcessing` and `_RegexParser` into the binary).
///
/// Syntax: literals and escapes (`\d \D \w \W \s \S \b \B \n \r \t \f \v \a \e \0 \xHH \x{H…}
/// \uHHHH \u{H…}`, an escaped non-alphanumeric scalar is itself), `.`, classes `[…]` with
/// ranges, `^` negation and escapes, anchors `^ $ \A \z \Z`, groups `(…)`, `(?<name>…)`,
/// `(?:…)`, lookahead `(?=…)` `(?!…)`, bounded lookbehind `(?<=…)` `(?<!…)`, alternation,
/// greedy and lazy quantifiers `* + ? {n} {n,} {n,m}`, inline flags `(?ims-ims)` and
/// `(?ims-ims:…)`. A `{` that does not start a quantifier is a literal brace, as are `}` and
/// `]` outside a class. Backreferences, `\p{…}` and possessive quantifiers are syntax errors.
///
/// Semantics (ICU's): `\d` is a decimal digit (Nd), `\w` a letter, mark, decimal digit,
/// connector punctuation, ZWNJ or ZWJ, `\s` White_Space, `\b` a `\w` on one side only. Line
/// terminators (for `.`, multiline `^`/`$`, `\Z`) are `\n \v \f \r U+0085 U+2028 U+2029` and
/// the pair `\r\n`. `$` without multiline is the end of the input (JavaScript's and Swift's);
/// `\Z` is the end or before one final line terminator (ICU's `$`). Case-insensitive matching
/// compares simple lowercase mappings of one scalar, never mapping a non-ASCII scalar to ASCII
/// (so U+212A KELVIN SIGN matches only itself, U+017F LONG S only itself, as in JavaScript).
///
/// Hostile patterns are bounded: a pattern compiles to at most `maximumProgramSize`
/// instructions with groups nested at most `maximumNesting` deep, and one search runs at most
/// `stepLimit(inputLength:)` steps, then throws `PatternError.tooComplex`. Nothing recurses
/// in proportion to the input.
package struct Pattern: Sendable {
    package struct Options: OptionSet, Sendable, Hashable {
        package let rawValue: Int
        package init(rawValue: Int) { self.rawValue = rawValue }
        /// `i`: ASCII and simple Unicode lowercase folding.
        package static let caseInsensitive = Options(rawValue: 1)
        /// `m`: `^` and `$` also match at line starts and ends.
        package static let multiline = Options(rawValue: 2)
        /// `s`: `.` also matches line terminators.
        package static let dotAll = Options(rawValue: 4)
    }

    package static let maximumProgramSize = 20_000
    package static let maximumNesting = 100
    /// The most steps one search may take: proportional to the input, with a hard cap.
    package static func stepLimit(inputLength n: Int) -> Int { min(10_000_000, 200_000 + 200 * n) }

    /// The source, as given.
    package let source: String
    let program: PatternProgram
    /// Capture groups, not counting the whole match (group 0).
    package var captureCount: Int { program.captureCount }
    /// Named groups and their numbers.
    package var names: [String: Int] { program.names }

    /// Compiles `source`; a syntax error throws `PatternError.syntax` with the scalar offset.
    package init(_ source: String, options: Options = []) throws(PatternError) {
        self.source = source
        let tree = try PatternParser.parse(Array(source.unicodeScalars), options: options)
        program = try PatternCompiler.compile(tree)
    }

    /// The first match starting at or after scalar offset `from`.
    package func firstMatch(in input: PatternInput, from: Int = 0) throws(PatternError) -> PatternMatch? {
        var budget = Self.stepLimit(inputLength: input.scalars.count)
        return try firstMatch(in: input, from: from, budget: &budget)
    }

    package func firstMatch(in text: String) throws(PatternError) -> PatternMatch? {
        try firstMatch(in: PatternInput(text))
    }

    /// A match that starts exactly at scalar offset `at`.
    package func prefixMatch(in input: PatternInput, at: Int) throws(PatternError) -> PatternMatch? {
        var budget = Self.stepLimit(inputLength: input.scalars.count)
        return try PatternMatcher(program: program, input: input).attempt(at: at, budget: &budget)
    }

    /// A match of the whole of `text`.
    package func wholeMatch(in text: String) throws(PatternError) -> PatternMatch? {
        let input = PatternInput(text)
        var budget = Self.stepLimit(inputLength: input.scalars.count)
        return try PatternMatcher(program: program, input: input)
            .attempt(at: 0, requiredEnd: input.scalars.count, budget: &budget)
    }

    /// Every match left to right, not overlapping; after an empty match the search resumes one
    /// scalar later. One step budget covers the whole scan.
    package func allMatches(in input: PatternInput) throws(PatternError) -> [PatternMatch] {
        var budget = Self.stepLimit(inputLength: input.scalars.count)
        var found: [PatternMatch] = []
        var from = 0
        while from <= input.scalars.count, let m = try firstMatch(in: input, from: from, budget: &budget) {
            found.append(m)
            from = m.scalarRange.isEmpty ? m.scalarRange.upperBound + 1 : m.scalarRange.upperBound
        }
        return found
    }

    package func allMatches(in text: String) throws(PatternError) -> [PatternMatch] {
        try allMatches(in: PatternInput(text))
    }

    /// `text` with each match (as `allMatches` finds them) replaced by what `replacement`
    /// makes of it.
    package func replacingMatches(in text: String, with replacement: (PatternMatch) -> String) throws(PatternError) -> String {
        let input = PatternInput(text)
        var out = ""
        var last = 0
        for m in try allMatches(in: input) {
            out += input.slice(last..<m.scalarRange.lowerBound)
            out += replacement(m)
            last = m.scalarRange.upperBound
        }
        return out + input.slice(last..<input.scalars.count)
    }

    func firstMatch(in input: PatternInput, from: Int, budget: inout Int) throws(PatternError) -> PatternMatch? {
        let matcher = PatternMatcher(program: program, input: input)
        var start = max(0, from)
        let n = input.scalars.count
        while start <= n {
            if let first = program.firstScalars {
                while start < n, !first.contains(input.scalars[start], fold: program.firstFold) { start += 1 }
                if start == n { return nil }  // the pattern cannot match empty
            }
            if let m = try matcher.attempt(at: start, budget: &budget) { return m }
            if program.anchoredAtStart { return nil }
            start += 1
        }
        return nil
    }
}

/// Why a pattern did not compile or a search gave up.
package enum PatternError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `reason` at scalar offset `offset` of the pattern.
    case syntax(offset: Int, reason: String)
    /// The pattern compiles to more than `Pattern.maximumProgramSize` instructions.
    case tooLarge(size: Int)
    /// A search took more than its step budget (catastrophic backtracking).
    case tooComplex(steps: Int)

    package var description: String {
        switch self {
        case let .syntax(offset, reason): "\(reason) at offset \(offset)"
        case let .tooLarge(size): "pattern too large (over \(size) instructions)"
        case let .tooComplex(steps): "pattern needs more than \(steps) steps on this input (catastrophic backtracking?)"
        }
    }
}

/// A text prepared for matching: its scalars and their indices, built once (reuse it for
/// many searches of the same text).
package final class PatternInput: Sendable {
    package let text: String
    package let scalars: [Unicode.Scalar]
    /// `indices[k]`: the String.Index of scalar `k`; `indices[scalars.count]` is the end.
    let indices: [String.Index]

    package init(_ text: String) {
        self.text = text
        var scalars: [Unicode.Scalar] = []
        var indices: [String.Index] = []
        let view = text.unicodeScalars
        scalars.reserveCapacity(text.utf8.count)
        indices.reserveCapacity(text.utf8.count + 1)
        var i = view.startIndex
        while i < view.endIndex {
            scalars.append(view[i])
            indices.append(i)
            i = view.index(after: i)
        }
        indices.append(view.endIndex)
        self.scalars = scalars
        self.indices = indices
    }

    /// The String.Index of scalar offset `k` (`0...scalars.count`).
    package func index(_ k: Int) -> String.Index { indices[k] }

    /// The text between two scalar offsets.
    package func slice(_ r: Range<Int>) -> Substring { Substring(text.unicodeScalars[indices[r.lowerBound]..<indices[r.upperBound]]) }
}

/// One match: the whole range and each group's, as scalar offsets or String indices.
package struct PatternMatch: Sendable {
    package let input: PatternInput
    /// Group 0 (the whole match) then each capture group; nil for a group that took no part.
    package let groups: [Range<Int>?]
    let names: [String: Int]

    package var scalarRange: Range<Int> { groups[0]! }
    package var range: Range<String.Index> { input.index(scalarRange.lowerBound)..<input.index(scalarRange.upperBound) }
    /// The matched text.
    package var text: Substring { input.slice(scalarRange) }
    /// Group `i`'s text (0 is the whole match); nil when it took no part or does not exist.
    package subscript(_ i: Int) -> Substring? {
        guard i >= 0, i < groups.count, let r = groups[i] else { return nil }
        return input.slice(r)
    }
    package subscript(_ name: String) -> Substring? { names[name].flatMap { self[$0] } }
    /// Group `i`'s range in the text.
    package func range(_ i: Int) -> Range<String.Index>? {
        guard i >= 0, i < groups.count, let r = groups[i] else { return nil }
        return input.index(r.lowerBound)..<input.index(r.upperBound)
    }
}
