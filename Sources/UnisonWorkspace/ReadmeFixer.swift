import FoundationEssentials
import UnisonCore
import UnisonSpec

/// `unisonctl readme fix`: appends the sections a README lacks, as a skeleton filled from the
/// spec (the repo's role and description, its run and test commands, a docs link). Existing
/// text is never changed: the new sections go after the last byte of the file. A README that
/// has every section is not written at all, so a second run leaves the file byte-identical.
package enum ReadmeFixer {
    package struct Result: Sendable, Encodable, Equatable {
        /// The README as the user named it (or `<dir>/README.md`).
        package var path: String
        package var repo: String
        /// True when the README did not exist and was written from scratch.
        package var created: Bool
        /// Section ids appended, in policy order; empty when nothing changed.
        package var added: [String]
        /// Why the file was not looked at (a directory no repo of the spec can be placed at).
        package var skipped: String?
    }

    package static let schema = "unisonctl.readme-fix/v1"

    /// `{"schema": "unisonctl.readme-fix/v1", "files": [{"added", "created", "path", "repo"}]}`
    package static func json(_ results: [Result]) throws -> String {
        try FindingsReport.schemaFirstJSON(schema: schema, key: "files", value: results)
    }

    /// One line per README: what was added, or that nothing was missing.
    package static func text(_ results: [Result]) -> String {
        results.map { r in
            if let skipped = r.skipped { return "\(r.path): skipped, \(skipped)" }
            return r.added.isEmpty
                ? "\(r.path): every section present, unchanged"
                : "\(r.path): \(r.created ? "created with" : "added") \(r.added.joined(separator: ", "))"
        }.joined(separator: "\n") + "\n"
    }

    /// Fixes one README of `repo`. `display` is the path printed back to the user.
    package static func fix(readme url: URL, display: String, repo: Repo, spec: PlatformSpec, directory: URL? = nil) throws -> Result {
        let fm = FileManager.default
        let exists = fm.fileExists(atPath: url.path)
        let original = exists ? try Data(contentsOf: url) : Data()
        let text = String(decoding: original, as: UTF8.self)
        let document = MarkdownDocument(text)
        let missing = ReadmeAudit.missingSections(document, spec: spec)
        guard !missing.isEmpty else { return Result(path: display, repo: repo.name, created: false, added: [], skipped: nil) }

        let newline = text.contains("\r\n") ? "\r\n" : "\n"
        var addition = ""
        if !exists || text.allSatisfy(\.isWhitespace) {
            addition += "# \(repo.name)\n\n\(repo.description.isEmpty ? "Part of \(spec.platform.displayName)." : repo.description)\n"
        } else if original.last != UInt8(ascii: "\n") {  // bytes: "\r\n" is one Character
            addition += "\n"
        }
        addition += skeleton(missing, repo: repo, spec: spec, directory: directory ?? url.deletingLastPathComponent())
        if newline == "\r\n" { addition = addition.replacing("\n", with: "\r\n") }

        var data = (exists && !text.allSatisfy(\.isWhitespace)) ? original : Data()
        data.append(Data(addition.utf8))
        let permissions = exists ? ((try? fm.attributesOfItem(atPath: url.path)[.posixPermissions]) as? Int) : 0o644
        try AtomicFile.write(data, to: url, permissions: permissions ?? 0o644)
        return Result(path: display, repo: repo.name, created: !exists, added: missing.map(\.id), skipped: nil)
    }

    /// The appended text: one `##` section per missing policy section, each preceded by a
    /// blank line. Known ids (`role`, `run`, `test`, `docs`) get content from the spec; any
    /// other section gets a line asking for its text. A `run` or `test` command is written only
    /// when what it runs exists in `directory` (its make targets, its scripts): a command the
    /// repo does not have is named as such, never shown as the way to run it.
    static func skeleton(_ sections: [ReadmeSection], repo: Repo, spec: PlatformSpec, directory: URL) -> String {
        let org = spec.platform.org
        let docs = "https://github.com/\(org)/unison-docs"
        var out = ""
        for section in sections {
            out += "\n## \(section.title)\n\n"
            switch section.id {
            case "role":
                let description = repo.description.isEmpty ? "" : " — \(repo.description)"
                out += "Role: `\(repo.role.rawValue)`\(description)\n"
                if !repo.services.isEmpty {
                    let images = repo.services.compactMap { spec.service(named: $0) }.map { "`\($0.image)`" }
                    out += "\nPublishes \(images.joined(separator: ", ")).\n"
                }
            case "run", "test":
                if let command = repo.entrypoints[section.id] {
                    let absent = missingParts(of: command, key: section.id, repo: repo, spec: spec, directory: directory)
                    if absent.isEmpty {
                        out += "```sh\n\(command)\n```\n"
                    } else {
                        out +=
                            "To be written: how to \(section.id) \(repo.name). The platform spec declares `\(command)`, which this repository cannot run: \(absent.joined(separator: "; ")).\n"
                    }
                } else {
                    out += "No `\(section.id)` command is declared for this repo in the platform spec.\n"
                }
            case "docs":
                out += "- [\(spec.platform.displayName) documentation](\(docs))\n"
                out += "- [Repository roles](\(docs)/blob/\(spec.platform.defaultBranch)/dev/unison-repo-roles.md)\n"
            default:
                out += "To be written: \(section.title.lowercased()) of \(repo.name).\n"
            }
        }
        return out
    }

    /// What the entry point `command` needs and `directory` lacks (make targets, a Makefile,
    /// scripts), as the README rule reads it; empty when all of it exists.
    static func missingParts(of command: String, key: String, repo: Repo, spec: PlatformSpec, directory: URL) -> [String] {
        var only = repo
        only.entrypoints = [key: command]
        return ReadmeAudit.entrypointFindings(MarkdownDocument(""), spec: spec, repo: only, directory: directory, file: "README.md", prefix: "")
            .filter { $0.rule == .readmeEntrypointMissing }
            .map(\.message)
    }
}
