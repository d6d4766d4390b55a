import FoundationEssentials

/// A JavaScript regular expression (`String.prototype.match`) run with the standard library's
/// `Regex`, matching scalar by scalar as ICU (and JavaScript) do, not by grapheme clusters.
struct MetadataRegex {
    let regex: Regex<AnyRegexOutput>
    let global: Bool

    init(source: String, flags: String, line: String) throws {
        global = flags.contains("g")
        let multiline = flags.contains("m")
        do {
            // ICU (NSRegularExpression, which this replaced) refused an empty pattern.
            guard !source.isEmpty else { throw MetadataActionError.invalidRule(line: line, reason: "") }
            var regex = try Regex(Self.icuPattern(source, multiline: multiline)).matchingSemantics(.unicodeScalar)
            if flags.contains("i") { regex = regex.ignoresCase() }
            if multiline { regex = regex.anchorsMatchLineEndings() }
            if flags.contains("s") { regex = regex.dotMatchesNewlines() }
            self.regex = regex
        } catch {
            throw MetadataActionError.invalidRule(line: line, reason: "invalid regular expression '\(source)'")
        }
    }

    /// ICU's `$` without the m flag: the end of the input, or before one line terminator that
    /// ends it (the standard library's `$` matches only at the very end).
    static let icuEnd = #"(?=(?:\r\n|[\n\x{0B}\x{0C}\r\x{85}\x{2028}\x{2029}])?\z)"#

    /// JavaScript (Annex B) reads a `{` that does not start a `{n}`, `{n,}` or `{n,m}`
    /// quantifier as a literal brace; ICU rejects it, so such braces are escaped. Without the
    /// m flag, `$` becomes `icuEnd`.
    static func icuPattern(_ source: String, multiline: Bool = false) -> String {
        let chars = Array(source)
        var out = ""
        var i = 0
        var inClass = false
        while i < chars.count {
            let c = chars[i]
            if c == "\\", i + 1 < chars.count {
                out.append(c); out.append(chars[i + 1]); i += 2; continue
            }
            if inClass {
                if c == "]" { inClass = false }
                out.append(c); i += 1; continue
            }
            if c == "[" { inClass = true; out.append(c); i += 1; continue }
            if c == "$", !multiline { out += icuEnd; i += 1; continue }
            if c == "{" || c == "}" {
                if c == "{", let close = chars[i...].firstIndex(of: "}") {
                    let body = String(chars[(i + 1)..<close])
                    let parts = body.split(separator: ",", omittingEmptySubsequences: false)
                    let isQuantifier =
                        !body.isEmpty && parts.count <= 2 && !parts[0].isEmpty
                        && parts.allSatisfy { $0.allSatisfy { $0.isASCII && $0.isNumber } }
                    if isQuantifier { out += String(chars[i...close]); i = close + 1; continue }
                }
                out += "\\" + String(c); i += 1; continue
            }
            out.append(c); i += 1
        }
        return out
    }

    /// The match array JavaScript returns: `[whole, group1, …]` (nil for a group that did not
    /// take part), or every whole match with the `g` flag; nil when nothing matches.
    func match(_ s: String) -> [String?]? {
        if global {
            let all = s.matches(of: regex).map { Optional(String(s[$0.range])) }
            return all.isEmpty ? nil : all
        }
        guard let m = s.firstMatch(of: regex) else { return nil }
        return m.output.map { $0.substring.map(String.init) }
    }
}
