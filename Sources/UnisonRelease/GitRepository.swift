import FoundationEssentials
import UnisonCore

/// One commit as `git log` reports it.
package struct GitCommit: Sendable, Equatable, Codable {
    package var sha: String
    package var author: String
    /// Author date, ISO 8601 strict (`%aI`).
    package var date: String
    package var message: String

    package var subject: String { String(message.split(separator: "\n", omittingEmptySubsequences: false).first ?? "") }
    package var shortSHA: String { String(sha.prefix(7)) }
}

/// A git tag with the commit it points at (annotated tags peeled).
package struct GitTag: Sendable, Equatable {
    package var name: String
    package var commit: String
}

/// Reads a repository's history by running `git` through a `ProcessRunner`.
package struct GitRepository: Sendable {
    package var directory: URL
    package var runner: any ProcessRunner

    package init(directory: URL, runner: any ProcessRunner = SystemProcessRunner()) {
        self.directory = directory
        self.runner = runner
    }

    /// Runs `git -C <dir> args…` and returns stdout; a failure names the repository.
    func git(_ arguments: [String]) throws -> String {
        // Fixed locale and no pager or config surprises: output is parsed.
        let env = ["LC_ALL": "C", "GIT_PAGER": "cat", "GIT_CONFIG_NOSYSTEM": "1"]
        let result = try runner.run(["git", "-C", directory.path] + arguments, environment: env, input: nil, workingDirectory: nil)
        guard result.status == 0 else {
            let message = result.stderrString.trimming(.whitespacesAndNewlines)
            if message.contains("not a git repository") { throw ReleaseError.notAGitRepository(path: directory.path) }
            throw ReleaseError.git(path: directory.path, message: message.isEmpty ? "exit status \(result.status)" : message)
        }
        return result.stdoutString
    }

    /// True when the directory is inside a work tree.
    package func isRepository() -> Bool {
        (try? git(["rev-parse", "--is-inside-work-tree"]))?.hasPrefix("true") ?? false
    }

    /// The commit HEAD points at; nil in a repository without commits.
    package func head() throws -> String? {
        let result = try runner.run(
            ["git", "-C", directory.path, "rev-parse", "--verify", "--quiet", "HEAD^{commit}"],
            environment: ["LC_ALL": "C"], input: nil, workingDirectory: nil)
        if result.status != 0 {
            guard isRepository() else { throw ReleaseError.notAGitRepository(path: directory.path) }
            return nil
        }
        return result.stdoutString.trimming(.whitespacesAndNewlines)
    }

    /// Every tag, peeled to its commit, sorted by name. With `mergedInto`, only tags whose
    /// commit is an ancestor of that revision.
    package func tags(mergedInto revision: String? = nil) throws -> [GitTag] {
        var args = ["for-each-ref", "--format=%(refname:strip=2)%00%(objectname)%00%(*objectname)", "refs/tags"]
        if let revision { args += ["--merged", revision] }
        let out = try git(args)
        return out.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: "\0", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 3 else { return nil }
            return GitTag(name: fields[0], commit: fields[2].isEmpty ? fields[1] : fields[2])
        }.sorted { $0.name < $1.name }
    }

    /// Commits reachable from `to` but not from `from` (all of history when `from` is nil),
    /// newest first, merges left out (their content arrives through the merged commits).
    package func commits(from: String?, to: String = "HEAD") throws -> [GitCommit] {
        let range = from.map { "\($0)..\(to)" } ?? to
        // NUL-separated fields; a commit message cannot contain NUL, so the split is exact.
        let out = try git(["log", "--no-merges", "--no-color", "-z", "--format=%H%x00%an%x00%aI%x00%B", range, "--"])
        let fields = out.split(separator: "\0", omittingEmptySubsequences: false).map(String.init)
        var commits: [GitCommit] = []
        var i = 0
        while i + 3 < fields.count {
            let sha = fields[i].trimming(.whitespacesAndNewlines)
            commits.append(
                GitCommit(
                    sha: sha, author: fields[i + 1], date: fields[i + 2],
                    message: fields[i + 3].trimming(.newlines)))
            i += 4
        }
        return commits
    }

    /// True when the directory holds its own repository (`.git` directory or, in a checked-out
    /// submodule, a `.git` file). Looks at the file system only: git run in a submodule that is
    /// not checked out would answer for the parent repository.
    package func hasOwnGitDirectory() -> Bool {
        FileManager.default.fileExists(atPath: directory.appendingPathComponent(".git").path)
    }

    /// The repository's default branch: what `origin/HEAD` points at, else a local `main`,
    /// else `master`; nil when none of them exists.
    package func defaultBranch() throws -> String? {
        if let remote = try? git(["symbolic-ref", "--quiet", "--short", "refs/remotes/origin/HEAD"]).trimming(.whitespacesAndNewlines),
            remote.hasPrefix("origin/")
        {
            let name = String(remote.dropFirst("origin/".count))
            if (try? git(["rev-parse", "--verify", "--quiet", "refs/heads/\(name)^{commit}"])) != nil { return name }
            return remote
        }
        for name in ["main", "master"] where (try? git(["rev-parse", "--verify", "--quiet", "refs/heads/\(name)^{commit}"])) != nil {
            return name
        }
        return nil
    }

    /// The committer date of a revision.
    package func commitDate(_ revision: String = "HEAD") throws -> Date? {
        let out = try git(["show", "-s", "--format=%cI", revision]).trimming(.whitespacesAndNewlines)
        return try? Date.ISO8601FormatStyle().parse(out)
    }
}
