import FoundationEssentials
import UnisonCore

/// The read-only git queries the workspace checks make, run through a `ProcessRunner` with
/// `git -C <dir>`. `GIT_OPTIONAL_LOCKS=0` keeps `git status` from taking the index lock, so a
/// check never gets in the way of a concurrent git command in the same repository.
struct WorkspaceGit {
    let directory: URL
    let runner: any ProcessRunner

    /// A status entry of `git status --porcelain=v1 -z`.
    struct StatusEntry: Equatable {
        /// The two status letters (`XY`), e.g. ` M`, `A `, `??`.
        var code: String
        var path: String
        var isUntracked: Bool { code == "??" }
    }

    struct Submodule: Equatable {
        var name: String
        var path: String
        var url: String?
        /// Line of `[submodule "name"]` in `.gitmodules`.
        var line: Int?
    }

    /// True when `directory` holds a repository of its own (`.git` directory or gitfile).
    static func isRepository(_ directory: URL) -> Bool {
        FileManager.default.fileExists(atPath: directory.appendingPathComponent(".git").path)
    }

    private func git(_ arguments: [String]) throws -> ProcessResult {
        try runner.run(
            ["git", "-C", directory.path] + arguments,
            environment: ["GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0"],
            input: nil, workingDirectory: nil)
    }

    private func gitChecked(_ arguments: [String]) throws -> ProcessResult {
        let result = try git(arguments)
        guard result.status == 0 else {
            throw ProcessError.failed(command: ["git", "-C", directory.path] + arguments, status: result.status, stderr: result.stderrString)
        }
        return result
    }

    /// The commit HEAD points at; nil in a repository without commits.
    func headCommit() throws -> String? {
        let result = try git(["rev-parse", "--verify", "-q", "HEAD^{commit}"])
        guard result.status == 0 else { return nil }
        return result.stdoutString.trimming(.whitespacesAndNewlines)
    }

    /// The branch HEAD is on; nil when HEAD is detached.
    func currentBranch() throws -> String? {
        let result = try git(["symbolic-ref", "-q", "--short", "HEAD"])
        guard result.status == 0 else { return nil }
        let name = result.stdoutString.trimming(.whitespacesAndNewlines)
        return name.isEmpty ? nil : name
    }

    /// The default branch of the `origin` remote, as `git clone` recorded it
    /// (`refs/remotes/origin/HEAD` → `origin/master`); nil when there is no such ref.
    func originDefaultBranch() throws -> String? {
        let result = try git(["symbolic-ref", "-q", "--short", "refs/remotes/origin/HEAD"])
        guard result.status == 0 else { return nil }
        let name = result.stdoutString.trimming(.whitespacesAndNewlines)
        guard name.hasPrefix("origin/"), name.count > 7 else { return nil }
        return String(name.dropFirst(7))
    }

    /// Changes in the working tree and index. Submodules are left to their own checks.
    func status() throws -> [StatusEntry] {
        let result = try gitChecked(["status", "--porcelain=v1", "-z", "--untracked-files=normal", "--ignore-submodules=all"])
        var entries: [StatusEntry] = []
        let fields = result.stdout.split(separator: 0, omittingEmptySubsequences: true).map { String(decoding: $0, as: UTF8.self) }
        var index = 0
        while index < fields.count {
            let field = fields[index]
            index += 1
            guard field.count > 3 else { continue }
            let code = String(field.prefix(2))
            entries.append(StatusEntry(code: code, path: String(field.dropFirst(3))))
            // A rename or copy is followed by its original path.
            if code.contains("R") || code.contains("C") { index += 1 }
        }
        return entries
    }

    func tags() throws -> [String] {
        let result = try gitChecked(["tag", "--list"])
        return result.stdoutString.split(separator: "\n").map(String.init).filter { !$0.isEmpty }.sorted()
    }

    /// Gitlinks (submodule commits) recorded in HEAD's tree, by path.
    func recordedGitlinks() throws -> [String: String] {
        let result = try git(["ls-tree", "-r", "-z", "--full-tree", "HEAD"])
        guard result.status == 0 else { return [:] }
        var links: [String: String] = [:]
        for record in result.stdout.split(separator: 0) {
            let text = String(decoding: record, as: UTF8.self)
            guard let tab = text.firstIndex(of: "\t") else { continue }
            let meta = text[..<tab].split(separator: " ")
            guard meta.count == 3, meta[0] == "160000", meta[1] == "commit" else { continue }
            links[String(text[text.index(after: tab)...])] = String(meta[2])
        }
        return links
    }

    /// Submodules declared in `.gitmodules` (name, path, url and the line that declares them).
    func submodules() throws -> [Submodule] {
        let file = directory.appendingPathComponent(".gitmodules")
        guard FileManager.default.fileExists(atPath: file.path) else { return [] }
        let result = try git(["config", "-f", ".gitmodules", "--get-regexp", "^submodule\\..*\\.(path|url)$"])
        guard result.status == 0 else { return [] }
        var paths: [String: String] = [:], urls: [String: String] = [:]
        for line in result.stdoutString.split(separator: "\n") {
            guard let space = line.firstIndex(of: " ") else { continue }
            let key = line[..<space], value = String(line[line.index(after: space)...])
            guard key.hasPrefix("submodule.") else { continue }
            let body = key.dropFirst("submodule.".count)
            if body.hasSuffix(".path") { paths[String(body.dropLast(5))] = value }
            if body.hasSuffix(".url") { urls[String(body.dropLast(4))] = value }
        }
        let lines = ((try? String(contentsOf: file, encoding: .utf8)) ?? "").replacing("\r\n", with: "\n").split(
            separator: "\n", omittingEmptySubsequences: false)
        return paths.map { name, path in
            let header = lines.firstIndex { $0.trimming(.whitespaces) == "[submodule \"\(name)\"]" }
            return Submodule(name: name, path: path, url: urls[name], line: header.map { $0 + 1 })
        }.sorted { $0.path < $1.path }
    }

    /// True when `commit` is reachable from `ref` (and `ref` exists).
    func isAncestor(_ commit: String, of ref: String) throws -> Bool {
        try git(["merge-base", "--is-ancestor", commit, ref]).status == 0
    }

    func refExists(_ ref: String) throws -> Bool {
        try git(["rev-parse", "--verify", "-q", ref]).status == 0
    }
}
