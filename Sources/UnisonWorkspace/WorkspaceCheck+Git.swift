import FoundationEssentials
import UnisonCore
import UnisonSpec

/// Cleanliness: uncommitted and untracked changes, detached heads, unexpected branches, and
/// submodules checked out at another commit than the meta repository records.
extension WorkspaceCheck.Context {
    /// At most this many changed or untracked paths are listed per repo; the rest are counted.
    static let listedChanges = 20

    mutating func checkGit(_ located: WorkspaceCheck.Located) throws {
        let repo = git(located.directory)
        let name = located.repo.name
        let path = located.relativePath.isEmpty ? "." : located.relativePath
        // Hints are commands run from the workspace directory.
        let gitC = located.relativePath.isEmpty ? "git" : "git -C \(WorkspaceCheck.Context.quote(located.relativePath))"
        guard let head = try repo.headCommit() else {
            findings.append(
                Finding(
                    .gitNoCommits, .error, repo: name, file: located.relativePath.isEmpty ? nil : located.relativePath,
                    "the repository has no commits", hint: "commit the repository's content, then push it"))
            return
        }

        // Working tree and index.
        var dirty: [WorkspaceGit.StatusEntry] = [], untracked: [WorkspaceGit.StatusEntry] = []
        for entry in try repo.status() {
            if entry.isUntracked {
                let top = entry.path.hasSuffix("/") ? String(entry.path.dropLast()) : entry.path
                if located.isMeta, repoDirectories.contains(top) { continue }
                untracked.append(entry)
            } else {
                dirty.append(entry)
            }
        }
        for entry in dirty.prefix(Self.listedChanges) {
            findings.append(
                Finding(
                    .gitDirty, .error, repo: name, file: located.display(entry.path),
                    "uncommitted change (\(Self.describe(entry.code))) to \(entry.path)",
                    hint: "commit or discard it (\(gitC) status)"))
        }
        if dirty.count > Self.listedChanges {
            findings.append(
                Finding(
                    .gitDirty, .error, repo: name, file: located.relativePath.isEmpty ? nil : located.relativePath,
                    "\(dirty.count - Self.listedChanges) more uncommitted changes in \(path)",
                    hint: "\(gitC) status"))
        }
        for entry in untracked.prefix(Self.listedChanges) {
            findings.append(
                Finding(
                    .gitUntracked, .warning, repo: name, file: located.display(entry.path),
                    "untracked \(entry.path.hasSuffix("/") ? "directory" : "file") \(entry.path)",
                    hint: "commit it, delete it, or list it in .gitignore"))
        }
        if untracked.count > Self.listedChanges {
            findings.append(
                Finding(
                    .gitUntracked, .warning, repo: name, file: located.relativePath.isEmpty ? nil : located.relativePath,
                    "\(untracked.count - Self.listedChanges) more untracked paths in \(path)",
                    hint: "\(gitC) status"))
        }

        // Branch. The platform's branch is `expectedBranch`; a repository whose own default
        // branch (origin/HEAD) is another one gets one finding for that, and its checkout on that
        // branch is not reported again.
        let short = String(head.prefix(12))
        let recorded = located.submodule.flatMap { gitlinks[$0.path] }
        let platformBranch = spec.platform.defaultBranch
        // What the clone says (origin/HEAD), else what the spec records for the repo.
        let ownDefault = try repo.originDefaultBranch() ?? located.repo.defaultBranch
        var acceptedBranches = [expectedBranch]
        if ownDefault != platformBranch {
            findings.append(
                Finding(
                    .gitDefaultBranch, .warning, repo: name,
                    "the repository's default branch is '\(ownDefault)', not the platform's '\(platformBranch)'",
                    hint:
                        "rename it on GitHub (Settings → General → Default branch: rename \(ownDefault) to \(platformBranch)); then \(gitC) branch -m \(ownDefault) \(platformBranch)"
                ))
            if expectedBranch == platformBranch { acceptedBranches.append(ownDefault) }
        }
        if let branch = try repo.currentBranch() {
            if !acceptedBranches.contains(branch) {
                findings.append(
                    Finding(
                        .gitUnexpectedBranch, .warning, repo: name,
                        "on branch '\(branch)', expected '\(expectedBranch)'",
                        hint: "\(gitC) switch \(expectedBranch) (or pass --branch \(branch) when checking a release branch)"))
            }
        } else {
            // `git submodule update` leaves submodules detached at the recorded commit: that is
            // the normal state of a fresh checkout when the commit is on the expected branch.
            var onBranch: String?
            search: for branch in acceptedBranches {
                for ref in ["refs/heads/\(branch)", "refs/remotes/origin/\(branch)"] where try repo.refExists(ref) {
                    if try repo.isAncestor(head, of: ref) { onBranch = branch; break search }
                }
            }
            let asRecorded = located.submodule != nil && recorded == head
            if asRecorded, let onBranch {
                findings.append(
                    Finding(
                        .gitDetachedHead, .info, repo: name,
                        "HEAD is detached at \(short), the commit the meta repository records (on '\(onBranch)')",
                        hint: "to work in it: \(gitC) switch \(onBranch)"))
            } else {
                let why = onBranch != nil ? "" : " (a commit not on '\(acceptedBranches.joined(separator: "' or '"))')"
                findings.append(
                    Finding(
                        .gitDetachedHead, .warning, repo: name,
                        "HEAD is detached at \(short)\(why)",
                        hint: "\(gitC) switch \(onBranch ?? expectedBranch)"))
            }
        }

        // Submodule pointer.
        if let sub = located.submodule {
            let meta = "git"
            if let recorded {
                if recorded != head {
                    findings.append(
                        Finding(
                            .gitSubmoduleOutOfSync, .error, repo: name, file: sub.path,
                            "checked out at \(short); the meta repository records \(recorded.prefix(12))",
                            hint:
                                "\(meta) submodule update \(sub.path) to return to the recorded commit, or record the new one: \(meta) add \(sub.path) && \(meta) commit"
                        ))
                }
            } else {
                findings.append(
                    Finding(
                        .gitSubmoduleOutOfSync, .error, repo: name, file: sub.path,
                        "the meta repository's HEAD records no commit for submodule '\(sub.path)'",
                        hint: "\(meta) add \(sub.path) && \(meta) commit"))
            }
        }
    }

    /// Words for a porcelain status code.
    static func describe(_ code: String) -> String {
        let letters = Array(code)
        guard letters.count == 2 else { return code }
        func word(_ c: Character) -> String? {
            switch c {
            case "M": return "modified"
            case "A": return "added"
            case "D": return "deleted"
            case "R": return "renamed"
            case "C": return "copied"
            case "T": return "type changed"
            case "U": return "unmerged"
            default: return nil
            }
        }
        var parts: [String] = []
        if let w = word(letters[0]) { parts.append("\(w), staged") }
        if let w = word(letters[1]), !(letters[0] == "U" || letters[1] == "U" && parts.contains("unmerged, staged")) {
            parts.append("\(w), not staged")
        }
        return parts.isEmpty ? code.trimmingSpaces : parts.joined(separator: "; ")
    }
}
