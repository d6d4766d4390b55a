import FoundationEssentials
import UnisonCore

/// A commit message read as Conventional Commits 1.0.0
/// (https://www.conventionalcommits.org/en/v1.0.0/):
///
///     <type>[(scope)][!]: <description>
///
///     [body]
///
///     [Token: value | Token #value]...   (footers; `BREAKING CHANGE` may contain a space)
package struct ConventionalCommit: Sendable, Equatable, Codable {
    package struct Footer: Sendable, Equatable, Codable {
        package var token: String
        package var value: String
    }

    /// The type as written, lowercased (`feat`, `fix`, …).
    package var type: String
    package var scope: String?
    package var description: String
    package var body: String
    package var footers: [Footer]
    /// `!` after the type/scope.
    package var bang: Bool

    /// A breaking change: `!` in the header or a `BREAKING CHANGE:` / `BREAKING-CHANGE:` footer.
    package var isBreaking: Bool { bang || footers.contains { Self.isBreakingToken($0.token) } }

    /// The text describing the break: the footer's value, else the description.
    package var breakingNote: String? {
        if let footer = footers.first(where: { Self.isBreakingToken($0.token) }) { return footer.value }
        return bang ? description : nil
    }

    /// The version a `Release-As: x.y.z` footer forces (token matched case-insensitively, as
    /// release-please does).
    package var releaseAs: SemVerText? {
        footers.last { $0.token.lowercased() == "release-as" }.map { SemVerText($0.value) }
    }

    /// The spec requires `BREAKING CHANGE` in upper case; `BREAKING-CHANGE` is its synonym.
    static func isBreakingToken(_ token: String) -> Bool {
        token == "BREAKING CHANGE" || token == "BREAKING-CHANGE"
    }

    /// Parses a full message; nil when the first line is not a Conventional Commits header.
    package init?(message: String) {
        let lines = message.replacing("\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false)
        guard let header = lines.first, let parsed = Self.parseHeader(Substring(header)) else { return nil }
        type = parsed.type
        scope = parsed.scope
        bang = parsed.bang
        description = parsed.description

        // Everything after the header: body paragraphs, then a footer block that starts at the
        // first paragraph whose first line is a footer.
        let rest = Array(lines.dropFirst())
        var bodyLines: [Substring] = []
        var footers: [Footer] = []
        var inFooters = false
        for (index, line) in rest.enumerated() {
            let startsParagraph = index == 0 || rest[index - 1].allSatisfy(\.isWhitespace)
            if !inFooters, startsParagraph, Self.footerStart(line) != nil {
                inFooters = true
            }
            if inFooters {
                if let (token, value) = Self.footerStart(line) {
                    footers.append(Footer(token: token, value: value))
                } else if !footers.isEmpty {
                    footers[footers.count - 1].value += "\n" + line
                }
            } else {
                bodyLines.append(line)
            }
        }
        for i in footers.indices {
            footers[i].value = footers[i].value.trimming(.whitespacesAndNewlines)
        }
        body = bodyLines.joined(separator: "\n").trimming(.whitespacesAndNewlines)
        self.footers = footers
    }

    /// `type(scope)!: description`; the type is letters (and digits/hyphens after the first).
    static func parseHeader(_ line: Substring) -> (type: String, scope: String?, bang: Bool, description: String)? {
        var i = line.startIndex
        while i < line.endIndex, line[i].isASCII, line[i].isLetter || line[i].isNumber || line[i] == "-" { i = line.index(after: i) }
        let type = line[line.startIndex..<i]
        guard let first = type.first, first.isLetter else { return nil }
        var scope: String?
        if i < line.endIndex, line[i] == "(" {
            guard let close = line[i...].firstIndex(of: ")") else { return nil }
            let s = line[line.index(after: i)..<close]
            guard !s.isEmpty, !s.contains("(") else { return nil }
            scope = String(s)
            i = line.index(after: close)
        }
        var bang = false
        if i < line.endIndex, line[i] == "!" { bang = true; i = line.index(after: i) }
        guard i < line.endIndex, line[i] == ":" else { return nil }
        i = line.index(after: i)
        guard i < line.endIndex, line[i] == " " else { return nil }
        let description = line[i...].trimming(.whitespaces)
        guard !description.isEmpty else { return nil }
        return (type.lowercased(), scope, bang, description)
    }

    /// A footer line: `Token: value` or `Token #value`, where a token is a word with hyphens
    /// for spaces, or the literal `BREAKING CHANGE`.
    static func footerStart(_ line: Substring) -> (String, String)? {
        if line.hasPrefix("BREAKING CHANGE: ") || line == "BREAKING CHANGE:" {
            return ("BREAKING CHANGE", String(line.dropFirst("BREAKING CHANGE:".count)).trimming(.whitespaces))
        }
        var i = line.startIndex
        while i < line.endIndex, line[i].isASCII, line[i].isLetter || line[i].isNumber || line[i] == "-" { i = line.index(after: i) }
        guard i > line.startIndex, i < line.endIndex else { return nil }
        let token = String(line[line.startIndex..<i])
        let rest = line[i...]
        if rest.hasPrefix(": ") || rest == ":" {
            return (token, String(rest.dropFirst(1)).trimming(.whitespaces))
        }
        if rest.hasPrefix(" #") {
            return (token, String(rest.dropFirst(2)))
        }
        return nil
    }
}

/// A version string from a footer, kept as written and parsed when it is valid SemVer.
package struct SemVerText: Sendable, Equatable, Codable {
    package var text: String
    package init(_ text: String) { self.text = text.trimming(.whitespaces) }
}

extension SemVerText {
    package var version: SemVer? { SemVer(text) }
}

/// How commit types map onto version bumps, following release-please's defaults: a breaking
/// change is major (minor below 1.0 when `bumpMinorPreMajor`), `feat` minor, `fix`/`perf`/
/// `revert` patch, every other type (chore, docs, ci, test, build, style, refactor) none.
package struct BumpRules: Sendable, Equatable {
    package var bumpMinorPreMajor: Bool
    package var minorTypes: Set<String>
    package var patchTypes: Set<String>

    package init(
        bumpMinorPreMajor: Bool = true, minorTypes: Set<String> = ["feat", "feature"],
        patchTypes: Set<String> = ["fix", "perf", "revert"]
    ) {
        self.bumpMinorPreMajor = bumpMinorPreMajor
        self.minorTypes = minorTypes
        self.patchTypes = patchTypes
    }

    /// The bump one commit asks for, before the pre-1.0 rule is applied.
    package func bump(for commit: ConventionalCommit) -> VersionBump {
        if commit.isBreaking { return .major }
        if minorTypes.contains(commit.type) { return .minor }
        if patchTypes.contains(commit.type) { return .patch }
        return .none
    }
}
