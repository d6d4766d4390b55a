import FoundationEssentials
import UnisonCore
import UnisonSpec

/// Phase 1's README alignment: the common sections of the spec's README policy, the role the
/// spec gives the repo, and the entry-point commands (`make` targets, scripts). The exact rules
/// are in docs/workspace-rules.md.
package enum ReadmeAudit {
    /// README file names, in order of preference (compared case-insensitively).
    static let readmeNames = ["readme.md", "readme.markdown", "readme"]

    /// The README of a repository directory, if it has one.
    package static func findReadme(in directory: URL) -> URL? {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        for wanted in readmeNames {
            if let name = names.sorted().first(where: { $0.lowercased() == wanted }) {
                return directory.appendingPathComponent(name)
            }
        }
        return nil
    }

    /// Every README finding for `repo` checked out at `directory`. `displayPrefix` is the repo's
    /// path relative to the workspace (findings name files as `<prefix>/README.md`).
    package static func audit(
        spec: PlatformSpec, repo: Repo, directory: URL, readme: URL? = nil,
        displayPrefix: String
    ) -> [Finding] {
        guard let readmeURL = readme ?? findReadme(in: directory),
            let text = try? String(contentsOf: readmeURL, encoding: .utf8)
        else {
            return [
                Finding(
                    .readmeMissing, .error, repo: repo.name, file: displayPrefix.isEmpty ? nil : displayPrefix,
                    "\(repo.name) has no README",
                    hint: "unisonctl readme fix \(displayPrefix.isEmpty ? "." : displayPrefix) writes one with the sections of the spec")
            ]
        }
        let file = WorkspaceCheck.Located.join(displayPrefix, readmeURL.lastPathComponent)
        let document = MarkdownDocument(text)
        var findings: [Finding] = []
        findings += sectionFindings(document, spec: spec, repo: repo, file: file)
        if let f = roleFinding(document, spec: spec, repo: repo, file: file) { findings.append(f) }
        findings += entrypointFindings(document, spec: spec, repo: repo, directory: directory, file: file, prefix: displayPrefix)
        return findings
    }

    // MARK: sections

    /// Heading names a section accepts: its title and aliases, normalized.
    static func acceptedNames(_ section: ReadmeSection) -> Set<String> {
        Set(([section.title] + section.aliases).map(MarkdownDocument.normalize))
    }

    /// A heading matches when its normalized text equals a normalized title or alias, also
    /// when compared without spaces (`Quickstart` = `Quick start`), and also without a final
    /// parenthesized remark (`Quickstart (dev)` = `Quickstart`).
    static func matches(_ heading: MarkdownDocument.Heading, _ section: ReadmeSection) -> Bool {
        var candidates = [heading.normalized]
        let raw = heading.text.trimmingSpaces
        if raw.hasSuffix(")"), let open = raw.lastIndex(of: "("), open > raw.startIndex {
            candidates.append(MarkdownDocument.normalize(String(raw[..<open])))
        }
        let names = acceptedNames(section)
        return candidates.contains { text in
            let squeezed = text.replacing(" ", with: "")
            return !text.isEmpty && names.contains { $0 == text || $0.replacing(" ", with: "") == squeezed }
        }
    }

    static func headings(for section: ReadmeSection, in document: MarkdownDocument) -> [MarkdownDocument.Heading] {
        document.headings.filter { matches($0, section) }
    }

    /// The policy's sections the document lacks.
    static func missingSections(_ document: MarkdownDocument, spec: PlatformSpec) -> [ReadmeSection] {
        spec.readme.sections.filter { headings(for: $0, in: document).isEmpty }
    }

    static func sectionFindings(_ document: MarkdownDocument, spec: PlatformSpec, repo: Repo, file: String) -> [Finding] {
        missingSections(document, spec: spec).map { section in
            let names = ([section.title] + section.aliases).map { "\"\($0)\"" }.joined(separator: ", ")
            return Finding(
                .readmeMissingSection, .error, repo: repo.name, file: file,
                "README has no \"\(section.title)\" section (a heading named \(names))",
                hint: "add a \"## \(section.title)\" section, or run `unisonctl readme fix \(file)`")
        }
    }

    // MARK: role

    /// Words that name a role in prose: its identifier, with `-` also read as a space.
    static func roleWords(_ role: RepoRole) -> [String] {
        let raw = role.rawValue
        return raw.contains("-") ? [raw, raw.replacing("-", with: " ")] : [raw]
    }

    /// Text as the role rule compares it: lowercased, markup characters (`` ` * _ ``) and link
    /// targets removed, runs of whitespace collapsed to one space.
    static func prose(_ text: String) -> String {
        let stripped = MarkdownDocument.stripLinks(MarkdownDocument.stripTags(text))
        var out = ""
        var space = false
        for c in stripped.lowercased() {
            if c == "`" || c == "*" || c == "_" { continue }
            if c.isWhitespace {
                space = !out.isEmpty
                continue
            }
            if space { out.append(" "); space = false }
            out.append(c)
        }
        return out
    }

    /// True when `word` (or its plural) occurs in `text` as a whole word.
    static func containsWord(_ text: String, _ word: String) -> Bool {
        var searchRange = text.startIndex..<text.endIndex
        while let found = text[searchRange].firstRange(of: word) {
            let beforeOK = found.lowerBound == text.startIndex || !Self.isWordChar(text[text.index(before: found.lowerBound)])
            var end = found.upperBound
            if end < text.endIndex, text[end] == "s" { end = text.index(after: end) }
            let afterOK = end == text.endIndex || !Self.isWordChar(text[end])
            if beforeOK && afterOK { return true }
            searchRange = text.index(after: found.lowerBound)..<text.endIndex
        }
        return false
    }

    private static func isWordChar(_ c: Character) -> Bool { c.isLetter || c.isNumber }

    /// The text the role rule reads: the document's title (its first level-1 heading), the
    /// bodies of the role sections (policy section id `role`) and the first paragraph. Nil
    /// when there is none of them.
    static func roleRegion(_ document: MarkdownDocument, spec: PlatformSpec, repo: Repo) -> (text: String, line: Int)? {
        var parts: [String] = []
        var line: Int?
        if let title = document.headings.first(where: { $0.level == 1 }) { parts.append(title.text) }
        if let roleSection = spec.readme.sections.first(where: { $0.id == "role" }) {
            for heading in headings(for: roleSection, in: document) {
                parts.append(document.text(of: document.bodyRange(of: heading)))
                line = line ?? heading.line
            }
        }
        if let paragraph = document.firstParagraph() {
            parts.append(paragraph.text)
            line = line ?? paragraph.line
        }
        guard let line = line ?? document.headings.first(where: { $0.level == 1 })?.line else { return nil }
        return (prose(parts.joined(separator: "\n")), line)
    }

    /// The repo's description as the role rule compares it (trailing period dropped).
    static func descriptionProse(_ repo: Repo) -> String? {
        var d = prose(repo.description)
        while d.hasSuffix(".") { d.removeLast() }
        return d.count >= 8 ? d : nil
    }

    static func namesRole(_ text: String, repo: Repo) -> Bool {
        if roleWords(repo.role).contains(where: { containsWord(text, $0) }) { return true }
        if let description = descriptionProse(repo), text.contains(description) { return true }
        return false
    }

    static func roleFinding(_ document: MarkdownDocument, spec: PlatformSpec, repo: Repo, file: String) -> Finding? {
        let region = roleRegion(document, spec: spec, repo: repo)
        if let region, namesRole(region.text, repo: repo) { return nil }
        let others = RepoRole.allCases.filter { $0 != repo.role && roleWords($0).contains { containsWord(region?.text ?? "", $0) } }
        let said = others.isEmpty ? "" : " (it names \(others.map { "'\($0.rawValue)'" }.joined(separator: ", ")) instead)"
        return Finding(
            .readmeRoleMismatch, .warning, repo: repo.name, file: file, line: region?.line,
            "README does not name the role the spec gives \(repo.name), '\(repo.role.rawValue)', nor its description, in its title, Role section or first paragraph\(said)",
            hint:
                "say what the repo is, e.g. \"Role: \(repo.role.rawValue) — \(repo.description)\"; or fix role: in unison.yaml if the README is right"
        )
    }
}
