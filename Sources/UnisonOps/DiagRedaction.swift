import Foundation
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
            for v in Set([raw, raw.trimmingCharacters(in: .whitespaces), Self.unquote(raw)]) {
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
                found += entry.continuation.map { $0.trimmingCharacters(in: .whitespaces) }
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
            let t = value.trimmingCharacters(in: .whitespaces)
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
        let t = v.trimmingCharacters(in: .whitespaces)
        if t.count >= 2, let f = t.first, f == t.last, f == "\"" || f == "'" { return String(t.dropFirst().dropLast()) }
        return t
    }

    /// The passwords of `scheme://user:password@` URLs in `text`.
    static func urlPasswords(in text: String) -> [String] {
        let ns = text as NSString
        return Patterns.urlPassword.matches(in: text, range: NSRange(location: 0, length: ns.length)).compactMap { m in
            m.numberOfRanges > 2 ? ns.substring(with: m.range(at: 2)).removingPercentEncoding ?? ns.substring(with: m.range(at: 2)) : nil
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
        for v in values where t.contains(v) { t = t.replacingOccurrences(of: v, with: Self.mask) }
        for w in words where t.contains(w) {
            let pattern = "(?<![A-Za-z0-9])" + NSRegularExpression.escapedPattern(for: w) + "(?![A-Za-z0-9])"
            if let re = try? NSRegularExpression(pattern: pattern) {
                t = re.stringByReplacingMatches(
                    in: t, range: NSRange(location: 0, length: (t as NSString).length),
                    withTemplate: NSRegularExpression.escapedTemplate(for: Self.mask))
            }
        }
        return Patterns.apply(t)
    }

    /// Bytes: scrubbed as UTF-8 text (invalid sequences become U+FFFD, which is fine for logs).
    package func scrub(_ data: Data) -> Data {
        Data(scrub(String(decoding: data, as: UTF8.self)).utf8)
    }
}

/// The patterns `DiagRedaction.scrub` applies, compiled once.
enum Patterns {
    static func re(_ p: String, _ options: NSRegularExpression.Options = []) -> NSRegularExpression {
        // The patterns are constants of this file; a typo is a programming error caught by tests.
        try! NSRegularExpression(pattern: p, options: options)
    }

    static let urlPassword = re(#"([A-Za-z][A-Za-z0-9+.-]*://[^\s:/@"'<>]*:)([^\s@/"'<>]+)@"#)
    static let pem = re(#"-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?(?:-----END [A-Z0-9 ]+-----|\z)"#)
    static let authorization = re(#"(?i)\b(authorization\s*[:=]\s*)(?:(bearer|basic|token|digest)\s+)?(?!<redacted>)[^\s"',]+"#)
    static let scheme = re(#"(?i)\b(bearer|basic|token)\s+(?![A-Za-z]+=)(?!<redacted>)[A-Za-z0-9._~+/=-]{8,}"#)
    static let tokens = re(
        #"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|glpat-[A-Za-z0-9_-]{20,}|xox[abposr]-[A-Za-z0-9-]{10,}|AKIA[0-9A-Z]{16}|sk-[A-Za-z0-9_-]{20,})"#
    )
    static let keyValue = re(#"(?i)((?<![A-Za-z0-9])["']?([A-Za-z0-9_.-]*)["']?[ \t]*[:=][ \t]*)(["']?)(?!<redacted>|CHANGE_ME)([^\s"',}\]]+)"#)

    static func apply(_ text: String) -> String {
        var t = text
        t = replacePEM(t)
        t = urlPassword.stringByReplacingMatches(in: t, range: full(t), withTemplate: "$1\(DiagRedaction.mask)@")
        t = authorization.stringByReplacingMatches(in: t, range: full(t), withTemplate: "$1$2 \(DiagRedaction.mask)")
        t = scheme.stringByReplacingMatches(in: t, range: full(t), withTemplate: "$1 \(DiagRedaction.mask)")
        t = tokens.stringByReplacingMatches(in: t, range: full(t), withTemplate: DiagRedaction.mask)
        t = replaceKeyValues(t)
        return t
    }

    static func full(_ t: String) -> NSRange { NSRange(location: 0, length: (t as NSString).length) }

    private static func replacePEM(_ t: String) -> String {
        let ns = t as NSString
        var out = ""
        var last = 0
        for m in pem.matches(in: t, range: full(t)) {
            let label = ns.substring(with: m.range(at: 1))
            guard !label.hasSuffix("CERTIFICATE"), label != "PUBLIC KEY" else { continue }
            out += ns.substring(with: NSRange(location: last, length: m.range.location - last))
            out += "-----BEGIN \(label)----- \(DiagRedaction.mask) -----END \(label)-----"
            last = m.range.location + m.range.length
        }
        return out + ns.substring(from: last)
    }

    private static let secretNameCheck = DiagRedactionNames()

    private static func replaceKeyValues(_ t: String) -> String {
        let ns = t as NSString
        var out = ""
        var last = 0
        for m in keyValue.matches(in: t, range: full(t)) {
            let name = ns.substring(with: m.range(at: 2))
            guard !name.isEmpty, secretNameCheck.isSecret(name) else { continue }
            let value = m.range(at: 4)
            out += ns.substring(with: NSRange(location: last, length: value.location - last)) + DiagRedaction.mask
            last = value.location + value.length
        }
        return out + ns.substring(from: last)
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
