import FoundationEssentials
import UnisonCore
import UnisonInstall
import UnisonSpec

/// Keeps secrets out of a support bundle, by value and by pattern.
///
/// By value: every secret the install knows — the env file's secret keys (the spec's
/// `installer.secrets` and any key named like a secret), passwords inside URLs in it, secret
/// literals written in the spec — is learned, and each value is removed from everything the
/// bundle collects: values of 6 characters or more wherever they appear, shorter ones (3 to 5)
/// where they stand as a whole word. Multi-line (quoted) values are learned line by line.
///
/// By pattern, whatever the source (logs, compose.yaml, the spec, tool output), also when the
/// env file could not be read:
///   - `scheme://user:PASSWORD@host` — the password;
///   - `Authorization:`/`Bearer`/`Basic`/`Token` followed by a credential;
///   - GitHub tokens (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`, `github_pat_`), GitLab `glpat-`,
///     Slack `xox?-`, AWS `AKIA…` access key ids, `sk-…` API keys;
///   - PEM blocks (`-----BEGIN … KEY-----` … `-----END …-----`), certificates excepted;
///   - `NAME=value`, `NAME: value` and `"NAME": "value"` where NAME looks like a secret
///     (PASSWORD, PASS, PWD, SECRET, TOKEN, KEY, AUTH, CREDENTIAL, PRIVATE, SIGNING, PAT,
///     SALT, COOKIE, DSN as a word of the name).
package struct DiagRedaction: Sendable {
    package static let mask = "<redacted>"
    /// Words of a key name that mark it as secret (`DB_PASS`, `SMTP_AUTH`, `GH_PAT`, `JWT_SIGNING`).
    package static let secretWords: Set<String> = [
        "PASS", "PASSWD", "PASSWORD", "PASSWORDS", "PWD", "PASSPHRASE", "SECRET", "SECRETS", "TOKEN", "TOKENS", "KEY", "KEYS",
        "APIKEY", "CREDENTIAL", "CREDENTIALS", "CREDS", "PRIVATE", "AUTH", "SIGNING", "PAT", "SALT", "COOKIE", "DSN",
    ]
    /// Fragments that mark a key as secret wherever they appear in it (`DBPASSWORD`, `APISECRET`).
    package static let secretFragments = ["PASSWORD", "PASSWD", "SECRET", "TOKEN", "CREDENTIAL", "PRIVATE"]
    /// Values at least this long are scrubbed wherever they appear in free text.
    package static let minimumScrubLength = 6
    /// Values from this length up to `minimumScrubLength` are scrubbed where they are a whole
    /// word; shorter ones (1–2 characters) only in the env file itself, where they are masked.
    package static let minimumWordLength = 3

    package var secretNames: Set<String>
    /// Values to scrub, longest first (so a value containing another is replaced whole).
    package private(set) var values: [String] = []
    /// Short values, scrubbed as whole words.
    package private(set) var words: [String] = []

    package init(spec: PlatformSpec) {
        secretNames = Set(spec.installer.secrets.map(\.name))
        // Literal secrets written in the spec (env of the installer or of a service).
        var literals: [String] = []
        for env in [spec.installer.env] + spec.allServices.map(\.env) {
            for (key, value) in env where isSecret(key) { literals.append(value) }
            for value in env.values { literals += Self.urlPasswords(in: value) }
        }
        learn(values: literals)
    }

    /// Whether `key` names a secret: a spec secret, a secret word in its name, or a fragment.
    package func isSecret(_ key: String) -> Bool {
        if secretNames.contains(key) { return true }
        let upper = key.uppercased()
        if Self.secretFragments.contains(where: { upper.contains($0) }) { return true }
        return upper.split(whereSeparator: { !$0.isLetter && !$0.isNumber }).contains { Self.secretWords.contains(String($0)) }
    }

    /// Adds values to scrub (placeholders and empty values are not secrets).
    package mutating func learn(values new: [String]) {
        var long = Set(values)
        var short = Set(words)
        for raw in new {
            for v in Set([raw, raw.trimming(.whitespaces), Self.unquote(raw)]) {
                guard !v.isEmpty, !v.hasPrefix(EnvFile.placeholder), v != Self.mask else { continue }
                if v.count >= Self.minimumScrubLength { long.insert(v) } else if v.count >= Self.minimumWordLength { short.insert(v) }
            }
        }
        values = long.sorted { $0.count != $1.count ? $0.count > $1.count : $0 < $1 }
        words = short.sorted { $0.count != $1.count ? $0.count > $1.count : $0 < $1 }
    }

    /// Learns the secret values of an env file, so `scrub` removes them from free text:
    /// values of secret keys (every line of a multi-line quoted value) and URL passwords.
    package mutating func learn(envText: String) {
        var found: [String] = []
        for entry in Self.entries(envText) {
            if isSecret(entry.key) {
                found.append(entry.value)
                found += entry.continuation.map { $0.trimming(.whitespaces) }
                if let last = entry.continuation.last { found.append(String(last.dropLast())) }  // without the closing quote
            }
            found += Self.urlPasswords(in: ([entry.value] + entry.continuation).joined(separator: "\n"))
        }
        learn(values: found)
    }

    /// One assignment of an env file with the lines a quoted value runs on to.
    struct Entry {
        var key: String
        var value: String
        var line: Int
        var continuation: [String]
    }

    /// Assignments in order, multi-line quoted values (`KEY="…` up to the closing quote) kept
    /// together, as Compose reads them.
    static func entries(_ text: String) -> [Entry] {
        let lines = EnvFile.parse(text)
        var out: [Entry] = []
        var i = 0
        while i < lines.count {
            defer { i += 1 }
            guard case let .assignment(key, value) = lines[i] else { continue }
            var entry = Entry(key: key, value: value, line: i, continuation: [])
            let t = value.trimming(.whitespaces)
            if let q = t.first, q == "\"" || q == "'", !closes(t.dropFirst(), quote: q) {
                var j = i + 1
                while j < lines.count {
                    let raw: String
                    switch lines[j] {
                    case let .other(s): raw = s
                    case let .assignment(k, v): raw = "\(k)=\(v)"
                    }
                    entry.continuation.append(raw)
                    if closes(Substring(raw), quote: q) { break }
                    j += 1
                }
                i = min(j, lines.count - 1)
            }
            out.append(entry)
        }
        return out
    }

    private static func closes(_ s: Substring, quote: Character) -> Bool {
        var escaped = false
        for c in s {
            if escaped { escaped = false; continue }
            if c == "\\" && quote == "\"" { escaped = true; continue }
            if c == quote { return true }
        }
        return false
    }

    static func unquote(_ v: String) -> String {
        let t = v.trimming(.whitespaces)
        if t.count >= 2, let f = t.first, f == t.last, f == "\"" || f == "'" { return String(t.dropFirst().dropLast()) }
        return t
    }

    /// The passwords of `scheme://user:password@` URLs in `text`.
    static func urlPasswords(in text: String) -> [String] {
        Patterns.matches(Patterns.urlPassword, in: PatternInput(text), startingAt: Patterns.urlStart).compactMap { m in
            m[2].map { String($0).percentDecoded() ?? String($0) }
        }
    }

    /// The env file with each secret's value masked (a multi-line one whole); comments, order
    /// and other values kept. A placeholder (`CHANGE_ME`) is kept, since it is no secret and
    /// tells support the secret was never generated; an empty value stays empty likewise.
    package func redactEnv(_ text: String) -> String {
        var out: [String] = []
        let parsed = EnvFile.parse(text)
        let entries = Dictionary(Self.entries(text).map { ($0.line, $0) }, uniquingKeysWith: { a, _ in a })
        var i = 0
        while i < parsed.count {
            defer { i += 1 }
            if let entry = entries[i] {
                let bare = Self.unquote(entry.value)
                if isSecret(entry.key) {
                    let keep = entry.continuation.isEmpty && (bare.isEmpty || bare.hasPrefix(EnvFile.placeholder))
                    out.append(keep ? "\(entry.key)=\(entry.value)" : "\(entry.key)=\(Self.mask)")
                    if !entry.continuation.isEmpty {
                        out.append("# (\(entry.continuation.count) more line(s) of \(entry.key) left out)")
                    }
                } else {
                    out.append("\(entry.key)=\(scrub(entry.value))")
                    out += entry.continuation.map(scrub)
                }
                i += entry.continuation.count
                continue
            }
            if case let .other(raw) = parsed[i] { out.append(scrub(raw)) }
        }
        return out.joined(separator: "\n") + (text.hasSuffix("\n") || text.isEmpty ? "\n" : "")
    }

    /// `text` with every learned secret value and every secret-looking pattern replaced by
    /// the mask.
    package func scrub(_ text: String) -> String {
        var t = text
        for v in values where t.contains(v) { t = t.replacing(v, with: Self.mask) }
        for w in words where t.contains(w) { t = Self.replaceWord(w, in: t) }
        return Patterns.apply(t)
    }

    /// `text` with each occurrence of `word` that no ASCII letter or digit touches on either
    /// side replaced by the mask; left to right, scalar by scalar (what the regular expression
    /// `(?<![A-Za-z0-9])word(?![A-Za-z0-9])` did, without compiling a pattern per word).
    static func replaceWord(_ word: String, in text: String) -> String {
        let scalars = Array(text.unicodeScalars)
        let target = Array(word.unicodeScalars)
        guard !target.isEmpty else { return text }
        var out = String.UnicodeScalarView()
        var i = 0
        while i < scalars.count {
            let end = i + target.count
            if end <= scalars.count, scalars[i..<end].elementsEqual(target),
                i == 0 || !Patterns.isASCIIAlphanumeric(scalars[i - 1]),
                end == scalars.count || !Patterns.isASCIIAlphanumeric(scalars[end])
            {
                for c in Self.mask.unicodeScalars { out.append(c) }
                i = end
            } else {
                out.append(scalars[i])
                i += 1
            }
        }
        return String(out)
    }

    /// Bytes: scrubbed as UTF-8 text (invalid sequences become U+FFFD, which is fine for logs).
    package func scrub(_ data: Data) -> Data {
        Data(scrub(String(decoding: data, as: UTF8.self)).utf8)
    }
}

/// The patterns `DiagRedaction.scrub` applies, compiled once. They match scalar by scalar, as
/// NSRegularExpression (ICU) did. ICU's `\b` skips combining marks and format characters
/// looking back, which `Pattern`'s does not: the patterns that began with `\b` leave it out and
/// `matches` checks it at each match's start, ICU's way; `NAME=value` (which began with a
/// lookbehind) is matched by hand in `replaceKeyValues`, in one pass with no backtracking.
enum Patterns {
    static func re(_ p: String) -> Pattern {
        // The patterns are constants of this file; a typo is a programming error caught by tests.
        try! Pattern(p)
    }

    // ICU's (?i) let s and k also match U+017F (long s) and U+212A (Kelvin sign), which
    // Pattern's does not: the case-insensitive patterns below name them.
    static let urlPassword = re(#"([A-Za-z][A-Za-z0-9+.-]*://[^\s:/@"'<>]*:)([^\s@/"'<>]+)@"#)
    static let pem = re(#"-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?(?:-----END [A-Z0-9 ]+-----|\z)"#)
    /// After a word boundary.
    static let authorization = re(
        #"(?i)(authorization\s*[:=]\s*)(?:(bearer|ba[s\x{17F}]ic|to[k\x{212A}]en|dige[s\x{17F}]t)\s+)?(?!<redacted>)[^\s"',]+"#)
    /// After a word boundary.
    static let scheme = re(
        #"(?i)(bearer|ba[s\x{17F}]ic|to[k\x{212A}]en)\s+(?![A-Za-z\x{17F}\x{212A}]+=)(?!<redacted>)[A-Za-z\x{17F}\x{212A}0-9._~+/=-]{8,}"#)
    /// After a word boundary.
    static let tokens = re(
        #"(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|glpat-[A-Za-z0-9_-]{20,}|xox[abposr]-[A-Za-z0-9-]{10,}|AKIA[0-9A-Z]{16}|sk-[A-Za-z0-9_-]{20,})"#
    )
    static func isASCIIAlphanumeric(_ s: Unicode.Scalar) -> Bool { ScalarSet.asciiAlphanumerics.contains(s) }

    static func apply(_ text: String) -> String {
        var t = text
        t = replacePEM(t)
        t = replace(urlPassword, in: t, startingAt: urlStart) { m in "\(group(m, 1))\(DiagRedaction.mask)@" }
        t = replace(authorization, in: t, startingAt: { startsWith($0, $1, "authorization") }, where: wordBoundary) { m in
            "\(group(m, 1))\(group(m, 2)) \(DiagRedaction.mask)"
        }
        t = replace(scheme, in: t, startingAt: { v, i in ["bearer", "basic", "token"].contains { startsWith(v, i, $0) } }, where: wordBoundary) {
            m in "\(group(m, 1)) \(DiagRedaction.mask)"
        }
        t = replace(tokens, in: t, startingAt: tokenStart, where: wordBoundary) { _ in DiagRedaction.mask }
        t = replaceKeyValues(t)
        return t
    }

    /// A capture's text; empty when the group took no part in the match (ICU's `$n`).
    static func group(_ m: PatternMatch, _ i: Int) -> Substring {
        m[i] ?? ""
    }

    /// The matches of `pattern`, left to right and not overlapping, whose start passes
    /// `accept`; a refused start is retried one scalar later, as the engine does when an
    /// assertion at the start of the pattern fails.
    /// With `startingAt`, only the positions it names are tried (a match can begin nowhere
    /// else), which spares most positions a search.
    /// A search over its step budget ends the scan (the patterns here never need that many).
    static func matches(
        _ pattern: Pattern, in input: PatternInput, startingAt candidate: Candidate? = nil,
        where accept: (String, String.Index) -> Bool = { _, _ in true }
    ) -> [PatternMatch] {
        var found: [PatternMatch] = []
        let t = input.text
        let scalars = t.unicodeScalars
        let n = input.scalars.count
        var from = 0
        func next() -> PatternMatch? {
            guard let candidate else { return try? pattern.firstMatch(in: input, from: from) }
            var i = from
            while i < n {
                let index = input.index(i)
                if candidate(scalars, index), accept(t, index), let m = try? pattern.prefixMatch(in: input, at: i) { return m }
                i += 1
            }
            return nil
        }
        while let m = next() {
            let r = m.scalarRange
            guard accept(t, input.index(r.lowerBound)) else {
                guard r.lowerBound < n else { break }
                from = r.lowerBound + 1
                continue
            }
            found.append(m)
            if r.isEmpty {
                guard r.upperBound < n else { break }
                from = r.upperBound + 1
            } else {
                from = r.upperBound
            }
        }
        return found
    }

    typealias Candidate = (String.UnicodeScalarView, String.Index) -> Bool

    /// `t` with each match replaced by what `replacement` makes of it.
    static func replace(
        _ pattern: Pattern, in t: String, startingAt candidate: Candidate? = nil,
        where accept: (String, String.Index) -> Bool = { _, _ in true }, with replacement: (PatternMatch) -> String
    ) -> String {
        let input = PatternInput(t)
        var out = ""
        var last = 0
        for m in matches(pattern, in: input, startingAt: candidate, where: accept) {
            out += input.slice(last..<m.scalarRange.lowerBound)
            out += replacement(m)
            last = m.scalarRange.upperBound
        }
        return out + input.slice(last..<input.scalars.count)
    }

    /// Whether `word` (lowercase ASCII) starts at `i`, compared as `(?i)` did: ASCII letters in
    /// either case, and U+017F and U+212A for s and k.
    static func startsWith(_ v: String.UnicodeScalarView, _ i: String.Index, _ word: String) -> Bool {
        var j = i
        for w in word.unicodeScalars {
            guard j < v.endIndex else { return false }
            let c = v[j]
            let same =
                c.isASCII
                ? (c == w || (("A"..."Z").contains(c) && c.value + 32 == w.value))
                : (w == "s" && c.value == 0x17F) || (w == "k" && c.value == 0x212A)
            guard same else { return false }
            j = v.index(after: j)
        }
        return true
    }

    /// Where `tokens` can begin: gh, gi(thub_pat_), gl(pat-), xox, AKIA or sk-.
    static func tokenStart(_ v: String.UnicodeScalarView, _ i: String.Index) -> Bool {
        switch v[i] {
        case "g":
            let n = v.index(after: i)
            return n < v.endIndex && ["h", "i", "l"].contains(v[n])
        case "x", "A", "s": return ["xox", "AKIA", "sk-"].contains { exact(v, i, $0) }
        default: return false
        }
    }

    static func exact(_ v: String.UnicodeScalarView, _ i: String.Index, _ word: String) -> Bool {
        var j = i
        for w in word.unicodeScalars {
            guard j < v.endIndex, v[j] == w else { return false }
            j = v.index(after: j)
        }
        return true
    }

    /// Where `urlPassword` can begin: a letter, then scheme characters up to "://".
    static func urlStart(_ v: String.UnicodeScalarView, _ i: String.Index) -> Bool {
        guard v[i].isASCII, v[i].properties.isAlphabetic else { return false }
        var j = v.index(after: i)
        while j < v.endIndex, isASCIIAlphanumeric(v[j]) || "+.-".unicodeScalars.contains(v[j]) { j = v.index(after: j) }
        return exact(v, j, "://")
    }

    /// ICU's `\b`: a word character on one side only, where a combining mark or format
    /// character is never a boundary and is skipped when looking back.
    static func wordBoundary(_ t: String, _ i: String.Index) -> Bool {
        let scalars = t.unicodeScalars
        var here = false
        if i < t.endIndex {
            let c = scalars[i]
            if c.properties.isGraphemeExtend || c.properties.generalCategory == .format { return false }
            here = isWordScalar(c)
        }
        var before = false
        var j = i
        while j > t.startIndex {
            j = scalars.index(before: j)
            let p = scalars[j]
            if p.properties.isGraphemeExtend || p.properties.generalCategory == .format { continue }
            before = isWordScalar(p)
            break
        }
        return here != before
    }

    /// ICU's `\w`: letters, marks, decimal digits, connector punctuation, ZWNJ and ZWJ.
    static func isWordScalar(_ s: Unicode.Scalar) -> Bool {
        let p = s.properties
        switch p.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .connectorPunctuation: return true
        default: return p.isAlphabetic || s.value == 0x200C || s.value == 0x200D
        }
    }

    private static func replacePEM(_ t: String) -> String {
        let input = PatternInput(t)
        var out = ""
        var last = 0
        for m in matches(pem, in: input, startingAt: { exact($0, $1, "-----BEGIN ") }) {
            let label = group(m, 1)
            guard !label.hasSuffix("CERTIFICATE"), label != "PUBLIC KEY" else { continue }
            out += input.slice(last..<m.scalarRange.lowerBound)
            out += "-----BEGIN \(label)----- \(DiagRedaction.mask) -----END \(label)-----"
            last = m.scalarRange.upperBound
        }
        return out + input.slice(last..<input.scalars.count)
    }

    private static let secretNameCheck = DiagRedactionNames()

    /// `t` with the value of each secret-looking `NAME=value`, `NAME: value` or
    /// `"NAME": "value"` masked. Matched by hand, as ICU matched
    /// `(?i)((?<![A-Za-z0-9])["']?([A-Za-z0-9_.-]*)["']?[ \t]*[:=][ \t]*)(["']?)(?!<redacted>|CHANGE_ME)([^\s"',}\]]+)`
    /// left to right, in one pass (the secret-name check is code, not a pattern).
    private static func replaceKeyValues(_ t: String) -> String {
        let s = Array(t.unicodeScalars)
        var out = String.UnicodeScalarView()
        var last = 0
        var p = 0
        while p < s.count {
            guard p == 0 || !isKeyLetterOrDigit(s[p - 1]), let m = keyValueMatch(s, at: p) else {
                p += 1
                continue
            }
            let name = String(String.UnicodeScalarView(s[m.name]))
            if !name.isEmpty, secretNameCheck.isSecret(name) {
                // Scalar by scalar: append(contentsOf:) on a scalar view copies the whole string each time.
                for c in s[last..<m.value.lowerBound] { out.append(c) }
                for c in DiagRedaction.mask.unicodeScalars { out.append(c) }
                last = m.value.upperBound
            }
            p = m.value.upperBound
        }
        for c in s[last...] { out.append(c) }
        return String(out)
    }

    /// The pattern above tried at `p` (its lookbehind aside). Only one way through it can
    /// succeed (the optional quotes and the runs cannot trade characters), so no backtracking.
    static func keyValueMatch(_ s: [Unicode.Scalar], at p: Int) -> (name: Range<Int>, value: Range<Int>)? {
        func isQuote(_ i: Int) -> Bool { i < s.count && (s[i] == "\"" || s[i] == "'") }
        func isBlank(_ i: Int) -> Bool { i < s.count && (s[i] == " " || s[i] == "\t") }
        var i = p
        if isQuote(i) { i += 1 }
        let nameStart = i
        while i < s.count, isKeyLetterOrDigit(s[i]) || s[i] == "_" || s[i] == "." || s[i] == "-" { i += 1 }
        let name = nameStart..<i
        if isQuote(i) { i += 1 }
        while isBlank(i) { i += 1 }
        guard i < s.count, s[i] == ":" || s[i] == "=" else { return nil }
        i += 1
        while isBlank(i) { i += 1 }
        if isQuote(i) { i += 1 }
        if startsWithFolded(s, i, "<redacted>") || startsWithFolded(s, i, "change_me") { return nil }
        let valueStart = i
        while i < s.count, !s[i].properties.isWhitespace, !"\"',}]".unicodeScalars.contains(s[i]) { i += 1 }
        guard i > valueStart else { return nil }
        return (name, valueStart..<i)
    }

    /// `[A-Za-z0-9]` under `(?i)`: ICU's class also held U+017F and U+212A (long s, Kelvin sign).
    static func isKeyLetterOrDigit(_ c: Unicode.Scalar) -> Bool {
        isASCIIAlphanumeric(c) || c.value == 0x17F || c.value == 0x212A
    }

    /// Whether `word` (lowercase ASCII, no s or k) starts at `i`, ASCII letters in either case.
    static func startsWithFolded(_ s: [Unicode.Scalar], _ i: Int, _ word: String) -> Bool {
        var j = i
        for w in word.unicodeScalars {
            guard j < s.count else { return false }
            let c = s[j]
            guard c == w || (("A"..."Z").contains(c) && c.value + 32 == w.value) else { return false }
            j += 1
        }
        return true
    }
}

/// `DiagRedaction.isSecret` without a spec: the words and fragments only.
struct DiagRedactionNames: Sendable {
    func isSecret(_ key: String) -> Bool {
        let upper = key.uppercased()
        if DiagRedaction.secretFragments.contains(where: { upper.contains($0) }) { return true }
        return upper.split(whereSeparator: { !$0.isLetter && !$0.isNumber }).contains { DiagRedaction.secretWords.contains(String($0)) }
    }
}
