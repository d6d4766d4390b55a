import FoundationEssentials
import UnisonCore
import UnisonSpec

/// Links in a repository's README that point at files: relative links (`[x](docs/a.md)`,
/// `![x](img.png)`, `[id]: docs/a.md`), links to a file of another repository of the workspace
/// (`../unison-docs/dev/x.md`, `https://github.com/<org>/unison-docs/blob/main/dev/x.md`), and
/// paths of another repository written as code (`` `unison-docs/dev/x.md` ``) — each must name a
/// file or directory that exists in the checkout. Links into a repository that is not in the
/// workspace are not judged.
enum ReadmeLinks {
    struct Reference: Equatable {
        enum Kind: Equatable {
            /// Relative to the README's directory (`/x` relative to the repository root).
            case relative
            /// `https://github.com/<org>/<repo>/blob|tree/<ref>/<path>`.
            case github(repo: String)
            /// A code span naming `<repo>/<path>`.
            case workspacePath(repo: String)
        }

        var kind: Kind
        var target: String
        var path: String
        var line: Int
    }

    /// Link destinations of `[text](dest)` / `![alt](dest)` on a line, and of a reference
    /// definition `[id]: dest`.
    static func destinations(_ line: String) -> [String] {
        var out: [String] = []
        let trimmed = line.trimmingSpaces
        if trimmed.hasPrefix("["), let close = trimmed.firstRange(of: "]:") {
            let rest = String(trimmed[close.upperBound...]).trimmingSpaces
            if let first = rest.split(separator: " ").first { out.append(String(first)) }
        }
        var index = line.startIndex
        while let open = line[index...].firstRange(of: "](") {
            var depth = 1
            var end = open.upperBound
            while end < line.endIndex {
                if line[end] == "(" { depth += 1 }
                if line[end] == ")" { depth -= 1; if depth == 0 { break } }
                end = line.index(after: end)
            }
            guard end < line.endIndex else { break }
            var dest = String(line[open.upperBound..<end]).trimmingSpaces
            if dest.hasPrefix("<"), let gt = dest.firstIndex(of: ">") { dest = String(dest[dest.index(after: dest.startIndex)..<gt]) }
            if let space = dest.firstIndex(of: " ") { dest = String(dest[..<space]) }  // `(url "title")`
            out.append(dest)
            index = line.index(after: end)
        }
        return out
    }

    /// Contents of the code spans of a line (single backticks).
    static func codeSpans(_ line: String) -> [String] {
        let parts = line.split(separator: "`", omittingEmptySubsequences: false)
        guard parts.count >= 3 else { return [] }
        return stride(from: 1, to: parts.count - 1, by: 2).map { String(parts[$0]) }
    }

    static func hasScheme(_ dest: String) -> Bool {
        guard let colon = dest.firstIndex(of: ":") else { return false }
        let scheme = dest[..<colon]
        return !scheme.isEmpty && scheme.allSatisfy { $0.isLetter || $0.isNumber || "+.-".contains($0) } && scheme.first!.isLetter
    }

    /// The file references of a README. `workspaceRepos` are the directory names of the
    /// repositories in the workspace (for code spans), `org` the GitHub organisation.
    static func references(_ document: MarkdownDocument, org: String, workspaceRepos: Set<String>) -> [Reference] {
        var out: [Reference] = []
        let githubPrefix = "https://github.com/\(org.lowercased())/"
        for (index, line) in document.lines.enumerated() where !document.inCode[index] {
            for dest in destinations(line) where !dest.isEmpty && !dest.hasPrefix("#") {
                if hasScheme(dest) {
                    guard dest.lowercased().hasPrefix(githubPrefix) else { continue }
                    let parts = dest.dropFirst(githubPrefix.count).split(separator: "/", maxSplits: 3).map(String.init)
                    guard parts.count == 4, parts[1] == "blob" || parts[1] == "tree" else { continue }
                    // parts[3] is `<ref>/<path>`; refs with slashes are not told apart: the ref is one segment.
                    let refAndPath = parts[3].split(separator: "/", maxSplits: 1).map(String.init)
                    guard refAndPath.count == 2 else { continue }
                    out.append(Reference(kind: .github(repo: parts[0]), target: dest, path: clean(refAndPath[1]), line: index + 1))
                } else {
                    let path = clean(dest)
                    guard !path.isEmpty else { continue }
                    out.append(Reference(kind: .relative, target: dest, path: path, line: index + 1))
                }
            }
            for span in codeSpans(line) {
                let text = span.trimmingSpaces
                guard !text.contains(" "), !text.contains("$"), !text.contains("*"), !text.contains("<"), !text.contains("{"),
                    let slash = text.firstIndex(of: "/")
                else { continue }
                let repo = String(text[..<slash])
                let rest = String(text[text.index(after: slash)...])
                guard workspaceRepos.contains(repo), !rest.isEmpty else { continue }
                // A file (a name with an extension) or a directory (ending in `/`).
                let last = rest.split(separator: "/").last.map(String.init) ?? ""
                guard rest.hasSuffix("/") || last.contains(".") else { continue }
                out.append(Reference(kind: .workspacePath(repo: repo), target: text, path: clean(rest), line: index + 1))
            }
        }
        return out
    }

    /// The path part of a destination: anchor and query removed, `%20` decoded.
    static func clean(_ dest: String) -> String {
        var d = dest
        if let hash = d.firstIndex(of: "#") { d = String(d[..<hash]) }
        if let q = d.firstIndex(of: "?") { d = String(d[..<q]) }
        return d.percentDecoded() ?? d
    }
}

extension WorkspaceCheck.Context {
    /// The directory of a repository of the workspace by its directory or spec name.
    func workspaceDirectory(ofRepo name: String) -> URL? {
        let key = name.lowercased()
        if let located = repos.first(where: {
            $0.repo.name.lowercased() == key || PathText.lastComponent($0.relativePath).lowercased() == key
        }) {
            return located.directory
        }
        if let dir = repoDirectories.first(where: { $0.lowercased() == key }) {
            let url = root.appendingPathComponent(dir)
            return WorkspaceGit.isRepository(url) ? url : nil
        }
        return nil
    }

    mutating func checkLinks(_ located: WorkspaceCheck.Located) {
        guard let readme = ReadmeAudit.findReadme(in: located.directory),
            let text = try? String(contentsOf: readme, encoding: .utf8)
        else { return }
        let file = located.display(readme.lastPathComponent)
        let document = MarkdownDocument(text)
        let workspaceRepos = Set(repoDirectories.map(PathText.lastComponent))
        let fm = FileManager.default
        let repoRoot = located.directory.standardizedFileURL
        for reference in ReadmeLinks.references(document, org: spec.platform.org, workspaceRepos: workspaceRepos) {
            let target: URL
            let shown: String
            switch reference.kind {
            case .relative:
                let base = reference.path.hasPrefix("/") ? repoRoot : readme.deletingLastPathComponent()
                let relative = reference.path.hasPrefix("/") ? String(reference.path.dropFirst()) : reference.path
                target = base.appendingPathComponent(relative).standardizedFileURL
                // Out of the repository: into a sibling repository of the workspace, or nowhere known.
                if !target.path.hasPrefix(repoRoot.path + "/"), target.path != repoRoot.path {
                    let workspaceRoot = root.standardizedFileURL.path
                    guard target.path.hasPrefix(workspaceRoot + "/") else { continue }
                    let inside = String(target.path.dropFirst(workspaceRoot.count + 1))
                    let repoName = inside.split(separator: "/").first.map(String.init) ?? ""
                    guard workspaceDirectory(ofRepo: repoName) != nil else { continue }
                    shown = inside
                } else {
                    shown = located.display(String(target.path.dropFirst(repoRoot.path.count + 1)))
                }
            case let .github(repoName), let .workspacePath(repoName):
                guard let directory = workspaceDirectory(ofRepo: repoName) else { continue }
                target = directory.appendingPathComponent(reference.path).standardizedFileURL
                guard target.path.hasPrefix(directory.standardizedFileURL.path) else { continue }
                shown = "\(repoName)/\(reference.path)"
            }
            if fm.fileExists(atPath: target.path) { continue }
            let what: String
            switch reference.kind {
            case .relative: what = "links \(reference.target)"
            case .github: what = "links \(reference.target)"
            case .workspacePath: what = "names `\(reference.target)`"
            }
            findings.append(
                Finding(
                    .linksBroken, .warning, repo: located.repo.name, file: file, line: reference.line,
                    "README \(what), and \(shown) does not exist in the workspace",
                    hint: "point it at a file that exists (or remove it)"))
        }
    }
}
