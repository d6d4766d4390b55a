import Foundation

/// A JavaScript regular expression (`String.prototype.match`) run with NSRegularExpression.
struct MetadataRegex {
    let regex: NSRegularExpression
    let global: Bool

    init(source: String, flags: String, line: String) throws {
        var options: NSRegularExpression.Options = []
        if flags.contains("i") { options.insert(.caseInsensitive) }
        if flags.contains("m") { options.insert(.anchorsMatchLines) }
        if flags.contains("s") { options.insert(.dotMatchesLineSeparators) }
        global = flags.contains("g")
        do {
            regex = try NSRegularExpression(pattern: Self.icuPattern(source), options: options)
        } catch {
            throw MetadataActionError.invalidRule(line: line, reason: "invalid regular expression '\(source)'")
        }
    }

    /// JavaScript (Annex B) reads a `{` that does not start a `{n}`, `{n,}` or `{n,m}`
    /// quantifier as a literal brace; ICU rejects it, so such braces are escaped.
    static func icuPattern(_ source: String) -> String {
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
        let ns = s as NSString
        let range = NSRange(location: 0, length: ns.length)
        if global {
            let all = regex.matches(in: s, range: range).map { Optional(ns.substring(with: $0.range)) }
            return all.isEmpty ? nil : all
        }
        guard let m = regex.firstMatch(in: s, range: range) else { return nil }
        return (0..<m.numberOfRanges).map { i in
            let r = m.range(at: i)
            return r.location == NSNotFound ? nil : ns.substring(with: r)
        }
    }
}
