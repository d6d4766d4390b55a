import FoundationEssentials
import UnisonCore

/// A JavaScript regular expression (`String.prototype.match`) run with UnisonCore's `Pattern`,
/// matching scalar by scalar as ICU (and JavaScript) do, not by grapheme clusters. A `{` that
/// does not start a quantifier is a literal brace, as in JavaScript (Annex B).
struct MetadataRegex {
    let pattern: Pattern
    let global: Bool
    let source: String
    let line: String

    init(source: String, flags: String, line: String) throws {
        global = flags.contains("g")
        self.source = source
        self.line = line
        var options: Pattern.Options = []
        if flags.contains("i") { options.insert(.caseInsensitive) }
        if flags.contains("m") { options.insert(.multiline) }
        if flags.contains("s") { options.insert(.dotAll) }
        // ICU (NSRegularExpression, the engine before) refused an empty pattern.
        guard !source.isEmpty else { throw MetadataActionError.invalidRule(line: line, reason: "") }
        do {
            pattern = try Pattern(options.contains(.multiline) ? source : Self.icuPattern(source), options: options)
        } catch {
            throw MetadataActionError.invalidRule(line: line, reason: "invalid regular expression '\(source)': \(error)")
        }
    }

    /// Without the m flag, `$` becomes `\Z`: ICU's `$`, the end of the input or before one
    /// line terminator that ends it (JavaScript's and `Pattern`'s `$` match only at the end).
    static func icuPattern(_ source: String) -> String {
        var out = String.UnicodeScalarView()
        var escaped = false
        var inClass = false
        for c in source.unicodeScalars {
            defer { escaped = !escaped && c == "\\" }
            if escaped {
                out.append(c)
                continue
            }
            if inClass {
                if c == "]" { inClass = false }
            } else if c == "[" {
                inClass = true
            } else if c == "$" {
                out.append(contentsOf: #"\Z"#.unicodeScalars)
                continue
            }
            out.append(c)
        }
        return String(out)
    }

    /// The match array JavaScript returns: `[whole, group1, …]` (nil for a group that did not
    /// take part), or every whole match with the `g` flag; nil when nothing matches. A pattern
    /// that backtracks beyond its step budget is an invalid rule.
    func match(_ s: String) throws -> [String?]? {
        do {
            if global {
                let all = try pattern.allMatches(in: s).map { Optional(String($0.text)) }
                return all.isEmpty ? nil : all
            }
            guard let m = try pattern.firstMatch(in: s) else { return nil }
            return m.groups.indices.map { m[$0].map(String.init) }
        } catch {
            throw MetadataActionError.invalidRule(line: line, reason: "regular expression '\(source)' on '\(s)': \(error)")
        }
    }
}
