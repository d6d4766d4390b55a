import Foundation
import Testing

@testable import UnisonCore

// The regular-expression engine that replaced the standard library's Regex in Sources. The
// tests may use Regex to compare against it.

/// The whole match and each group's text of the first match (nil: no match).
private func groups(_ pattern: String, _ text: String, _ options: Pattern.Options = []) throws -> [String?]? {
    guard let m = try Pattern(pattern, options: options).firstMatch(in: text) else { return nil }
    return (0...m.groups.count - 1).map { m[$0].map(String.init) }
}

private func first(_ pattern: String, _ text: String, _ options: Pattern.Options = []) throws -> String? {
    try Pattern(pattern, options: options).firstMatch(in: text).map { String($0.text) }
}

@Suite(.tags(.unit)) struct PatternTests {
    @Test(arguments: [
        // (pattern, text, first match)
        ("abc", "xxabcxx", "abc"),
        ("a.c", "xa\u{301}c", "a\u{301}c"),  // a combining mark is a scalar of its own
        ("\\d+", "ab 123 4", "123"),
        ("\\D+", "12ab3", "ab"),
        ("\\w+", "-- foo_1 bar", "foo_1"),
        ("\\W+", "foo -- bar", " -- "),
        ("\\s+", "a \t\n b", " \t\n "),
        ("\\S+", "  ab  ", "ab"),
        ("a\\nb", "a\nb", "a\nb"),
        ("\\t\\r\\f\\v\\0", "\t\r\u{0C}\u{0B}\0", "\t\r\u{0C}\u{0B}\0"),
        ("\\x41\\x{1F600}\\u00e9", "A\u{1F600}é", "A\u{1F600}é"),
        ("\\.\\*\\+\\?\\(\\)\\[\\]\\{\\}\\|\\\\\\^\\$\\/", ".*+?()[]{}|\\^$/", ".*+?()[]{}|\\^$/"),
        ("[a-c]+", "xxbcaz", "bca"),
        ("[^a-c]+", "abxyzc", "xyz"),
        ("[\\d.]+", "v1.2.3-rc", "1.2.3"),
        ("[\\]\\-]+", "a]-]b", "]-]"),
        ("[-a]+", "b-a-", "-a-"),
        ("[]a]+", "b]a", "]a"),
        ("[\\s\\S]+", "a\nb", "a\nb"),
        ("[\\x{1B}\\u0041]", "zA", "A"),
        ("a{2}", "aaaa", "aa"),
        ("a{2,}", "aaaa", "aaaa"),
        ("a{1,3}", "aaaa", "aaa"),
        ("a{1,3}?", "aaaa", "a"),
        ("a{,3}", "a{,3}", "a{,3}"),  // not a quantifier: literal braces
        ("x{a}", "x{a}", "x{a}"),
        ("a*?b", "aaab", "aaab"),
        ("<.+>", "<a><b>", "<a><b>"),
        ("<.+?>", "<a><b>", "<a>"),
        ("a+?", "aaa", "a"),
        ("(?:ab)+", "ababa", "abab"),
        ("cat|dog", "hotdog", "dog"),
        ("a(?=b)", "acab", "a"),
        ("a(?!b)\\w", "abac", "ac"),
        ("(?<=\\$)\\d+", "a1 $25", "25"),
        ("(?<!\\$)\\b\\d+", "$25 30", "30"),
        ("(?<=ab|c)d", "abd", "d"),
        ("\\bfoo\\b", "foobar foo", "foo"),
        ("\\Boo", "foo", "oo"),
        ("^ab", "ab", "ab"),
        ("\\Aab", "ab", "ab"),
        ("b\\z", "ab", "b"),
        ("b\\Z", "ab\n", "b"),
        ("b\\Z", "ab\r\n", "b"),
        ("(?i)HeLLo", "say hello", "hello"),
        ("(?i)[a-c]+", "xABCx", "ABC"),
        ("(?i)é", "É", "É"),
        ("(?i:a)b", "Ab AB", "Ab"),
        ("(?s).+", "a\nb", "a\nb"),
        (".+", "a\nb", "a"),
        ("(?m)^b$", "a\nb\nc", "b"),
        ("(a*)*b", "aab", "aab"),
        ("(a|)+b", "aab", "aab"),
        ("(?:)*x", "x", "x"),
        ("", "abc", ""),
    ])
    func constructs(_ c: (String, String, String)) throws {
        #expect(try first(c.0, c.1) == c.2)
    }

    @Test(arguments: [
        ("^b", "a\nb"), ("a$", "a\nb"), ("b\\Z", "ab\n\n"), ("b\\z", "ab\n"), ("b$", "ab\n"), ("\\Ab", "ab"),
        ("(?i)\u{212A}", "k"), ("(?i)k", "\u{212A}"), ("(?i)s", "\u{17F}"), ("[^\\d]", "123"), ("a(?=b)", "ac"),
        ("(?<=a)b", "cb"), ("\\bb", "ab"), ("(?-i:a)", "A"), ("a{3}", "aa"), ("x", ""),
    ])
    func nonMatches(_ c: (String, String)) throws {
        #expect(try first(c.0, c.1) == nil)
    }

    @Test func captures() throws {
        #expect(try groups("(\\d+)\\.(\\d+)(?:\\.(\\d+))?", "v1.22") == ["1.22", "1", "22", nil])
        #expect(try groups("(a)|(b)", "b") == ["b", nil, "b"])
        #expect(try groups("(a)*", "aaa") == ["aaa", "a"])
        #expect(try groups("(?=(\\w+))\\w", "abc") == ["a", "abc"])  // captures in a positive lookahead stay
        #expect(try groups("(?!(x))a", "a") == ["a", nil])
        #expect(try groups("(?<=(a))b", "ab") == ["b", "a"])
        #expect(try groups("(a(b(c)))", "abc") == ["abc", "abc", "bc", "c"])
        let m = try #require(try Pattern("(?<major>\\d+)\\.(?<minor>\\d+)").firstMatch(in: "release/0.5"))
        #expect(m["major"] == "0" && m["minor"] == "5" && m["patch"] == nil)
        #expect(try Pattern("(?<major>\\d+)(x)(?<minor>\\d+)").names == ["major": 1, "minor": 3])
        let s = "aé\u{301}b12"
        let d = try #require(try Pattern("\\d+").firstMatch(in: s))
        #expect(s[d.range] == "12" && d.scalarRange == 4..<6)
        // A match that starts inside a character (after its base scalar).
        let mark = try #require(try Pattern("\u{301}b").firstMatch(in: s))
        #expect(String(s.unicodeScalars[mark.range]) == "\u{301}b")
    }

    @Test func lazyVersusGreedy() throws {
        #expect(try groups("(a+)(a*)", "aaa") == ["aaa", "aaa", ""])
        #expect(try groups("(a+?)(a*)", "aaa") == ["aaa", "a", "aa"])
        #expect(try groups("(a??)(a)", "aa") == ["a", "", "a"])
        #expect(try groups("(a?)(a)", "aa") == ["aa", "a", "a"])
        #expect(try groups("(.*?),(.*)", "a,b,c") == ["a,b,c", "a", "b,c"])
        #expect(try groups("(.*),(.*)", "a,b,c") == ["a,b,c", "a,b", "c"])
        #expect(try groups("(a{1,3}?)(a*)", "aaaa") == ["aaaa", "a", "aaa"])
    }

    @Test func anchorsAndMultiline() throws {
        let text = "one\ntwo\r\nthree"
        #expect(try Pattern("^\\w+$").allMatches(in: text).isEmpty)
        #expect(try Pattern("^\\w+$", options: .multiline).allMatches(in: text).map { String($0.text) } == ["one", "two", "three"])
        #expect(try Pattern("(?m)^").allMatches(in: text).map(\.scalarRange.lowerBound) == [0, 4, 9])
        #expect(try Pattern("(?m)$").allMatches(in: "a\r\nb").map(\.scalarRange.lowerBound) == [1, 4])
        #expect(try Pattern("^a|b$").allMatches(in: "ab\nab").map(\.scalarRange.lowerBound) == [0, 4])
        #expect(try Pattern("\\Z").allMatches(in: "ab\n").map(\.scalarRange.lowerBound) == [2, 3])
        #expect(try Pattern("x$").wholeMatch(in: "x") != nil)
        #expect(try Pattern("x").wholeMatch(in: "xx") == nil)
        #expect(try Pattern("x+").wholeMatch(in: "xx") != nil)
        #expect(try Pattern(".", options: .dotAll).allMatches(in: "a\n\u{2028}").count == 3)
        #expect(try Pattern(".").allMatches(in: "a\n\u{2028}\r\u{85}b").count == 2)
    }

    @Test func caseFolding() throws {
        let i = Pattern.Options.caseInsensitive
        #expect(try first("straße", "STRAßE", i) == "STRAßE")
        #expect(try first("σ", "Σ", i) == "Σ")
        #expect(try first("[α-ω]+", "ΑΒΓ", i) == "ΑΒΓ")
        #expect(try first("[^a-z]", "Q1", i) == "1")
        #expect(try first("\\x41", "a", i) == "a")
        #expect(try first("(?-i)a", "Aa", i) == "a")
        #expect(try first("k", "\u{212A}", i) == nil)  // Kelvin sign: no non-ASCII to ASCII mapping
    }

    @Test(arguments: [
        ("(", 0, "missing ')'"), ("a)", 1, "unmatched ')'"), ("*a", 0, "nothing to repeat"), ("a**", 2, "nothing to repeat"),
        ("a{2}{3}", 4, "nothing to repeat"), ("a{3,2}", 1, "quantifier range out of order"), ("[b-a]", 3, "class range out of order"),
        ("[abc", 0, "missing ']'"), ("\\", 0, "'\\' at end of pattern"), ("a\\q", 1, "unknown escape '\\q'"),
        ("(a)\\1", 3, "backreferences are not supported"), ("\\x4", 2, "invalid hex escape"), ("(?<1a>x)", 3, "invalid group name"),
        ("(?<n>a)(?<n>b)", 10, "duplicate group name 'n'"), ("(?<=a+)b", 0, "lookbehind must have a bounded length"),
        ("(?x)a", 2, "unknown group syntax"), ("a*+", 2, "possessive quantifiers are not supported"), ("[\\d-z]", 1, "invalid class range"),
        ("ab(?:cd", 2, "missing ')'"),
    ])
    func syntaxErrors(_ c: (String, Int, String)) {
        #expect(throws: PatternError.syntax(offset: c.1, reason: c.2)) { try Pattern(c.0) }
    }

    @Test func hostilePatternsAreBounded() throws {
        // Catastrophic backtracking: 2^n ways to split the a's, none followed by the end.
        let text = String(repeating: "a", count: 40) + "b"
        let clock = ContinuousClock()
        let start = clock.now
        #expect(throws: PatternError.tooComplex(steps: Pattern.stepLimit(inputLength: 41))) {
            try Pattern("(a+)+$").firstMatch(in: text)
        }
        #expect(clock.now - start < .seconds(30))
        #expect(throws: PatternError.tooComplex(steps: Pattern.stepLimit(inputLength: 41))) {
            try Pattern("(?:a|aa)*c").allMatches(in: text)
        }
        // Program size: nested counted repetition cannot blow up.
        #expect(throws: PatternError.tooLarge(size: Pattern.maximumProgramSize)) { try Pattern("((a{1000}){1000}){1000}") }
        #expect(throws: PatternError.tooLarge(size: Pattern.maximumProgramSize)) { try Pattern("a{1000000}") }
        // Zero-width bodies repeated any number of times cost nothing.
        #expect(try Pattern("((?:){1000000}){1000000}x").firstMatch(in: "x") != nil)
        // Nesting depth is bounded, so the parser cannot overflow the stack.
        let deep = String(repeating: "(", count: 5000) + String(repeating: ")", count: 5000)
        #expect(throws: PatternError.syntax(offset: Pattern.maximumNesting, reason: "groups nested too deeply")) { try Pattern(deep) }
        // A long input needs no deep recursion: the backtracking stack is on the heap.
        let long = String(repeating: "ab", count: 200_000)
        #expect(try Pattern("(?:ab)*$").firstMatch(in: long)?.scalarRange == 0..<400_000)
        #expect(try Pattern("(a|b)*?$").firstMatch(in: long)?.scalarRange == 0..<400_000)
    }

    @Test func allMatchesAndReplacing() throws {
        #expect(try Pattern("a*").allMatches(in: "baac").map(\.scalarRange) == [0..<0, 1..<3, 3..<3, 4..<4])
        #expect(try Pattern("\u{1B}\\[[0-9;?]*[A-Za-z]").replacingMatches(in: "\u{1B}[1;31mred\u{1B}[0m!") { _ in "" } == "red!")
        #expect(try Pattern("(\\w)(\\d)").replacingMatches(in: "a1 b2 c") { "\($0[2]!)\($0[1]!)" } == "1a 2b c")
        let input = PatternInput("x=1 y=2")
        let p = try Pattern("(\\w)=(\\d)")
        #expect(try p.firstMatch(in: input, from: 1)?[1] == "y")
        #expect(try p.prefixMatch(in: input, at: 1) == nil)
        #expect(try p.prefixMatch(in: input, at: 4)?[2] == "2")
    }

    /// Random patterns over a small alphabet, matched by this engine and by the standard
    /// library's Regex with scalar semantics: the same first match and groups, without flags,
    /// case-insensitive and multiline. (`\b` is left out: Regex's differs from ICU's with scalar
    /// semantics, e.g. it finds one in "" and " ".)
    @Test func agreesWithRegex() throws {
        var rng = SplitMix(seed: 0x5eed_1234)
        let atoms = ["a", "b", "c", ".", "\\d", "\\w", "\\s", "[ab]", "[^a]", "[a-c1]", "^", "$", "x", "1", " "]
        let quantifiers = ["", "", "", "*", "+", "?", "*?", "+?", "??", "{2}", "{1,2}", "{0,}", "{1,}?"]
        func pattern(_ depth: Int) -> String {
            var out = ""
            for _ in 0..<(1 + rng.next(3)) {
                var atom = atoms[rng.next(atoms.count)]
                if depth < 2, rng.next(4) == 0 {
                    let inner = pattern(depth + 1) + (rng.next(3) == 0 ? "|" + pattern(depth + 1) : "")
                    atom = ["(", "(?:", "(?=", "(?!"][rng.next(4)] + inner + ")"
                }
                let q = atom.hasPrefix("(?=") || atom.hasPrefix("(?!") || atom == "^" || atom == "$" ? "" : quantifiers[rng.next(quantifiers.count)]
                out += atom + q
            }
            return out
        }
        let alphabet = Array("abc1x \nabABX")
        var compared = 0
        for round in 0..<900 {
            let p = pattern(0)
            let text = String((0..<rng.next(12)).map { _ in alphabet[rng.next(alphabet.count)] })
            var theirs = try Regex(p).matchingSemantics(.unicodeScalar)
            let options: Pattern.Options = [[], .caseInsensitive, .multiline][round % 3]
            if options == .caseInsensitive { theirs = theirs.ignoresCase() }
            if options == .multiline { theirs = theirs.anchorsMatchLineEndings() }
            let ours = try Pattern(p, options: options)
            let a: PatternMatch?
            do { a = try ours.firstMatch(in: text) } catch {
                Issue.record("\(p) on \(text.debugDescription): \(error)")
                continue
            }
            let b = try theirs.firstMatch(in: text)
            let scalars = text.unicodeScalars
            let theirRange = b.map {
                scalars.distance(from: text.startIndex, to: $0.range.lowerBound)..<scalars.distance(from: text.startIndex, to: $0.range.upperBound)
            }
            #expect(a?.scalarRange == theirRange, "\(p) \(options) on \(text.debugDescription)")
            if let a, let b {
                #expect(b.output.count == a.groups.count, "\(p)")
                for g in 1..<min(a.groups.count, b.output.count) {
                    #expect(a[g].map(String.init) == b.output[g].substring.map(String.init), "\(p) group \(g) on \(text.debugDescription)")
                }
            }
            compared += 1
        }
        #expect(compared == 900)
    }
}

/// A small deterministic generator, so a failure repeats.
private struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next(_ bound: Int) -> Int {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Int((z ^ (z >> 31)) % UInt64(bound))
    }
}
