import FoundationEssentials
import UnisonCore
import UnisonSpec

/// Bad input to the workspace and README commands: nothing was checked (exit 2).
package enum WorkspaceError: Error, CustomStringConvertible, ExitCoded, Sendable {
    case notADirectory(path: String)
    case pathNotFound(path: String)
    case unknownRepo(name: String, path: String, known: [String])

    package var exitStatus: ExitStatus { .badInput }

    package var description: String {
        switch self {
        case let .notADirectory(path):
            return "\(path) is not a directory; give the workspace (meta repository) directory"
        case let .pathNotFound(path):
            return "\(path) does not exist"
        case let .unknownRepo(name, path, known):
            return "cannot tell which repository \(path) belongs to: '\(name)' is not a repo of the spec; "
                + "pass --repo NAME (one of: \(known.joined(separator: ", ")))"
        }
    }
}

/// Phase 0 of the roadmap: `unisonctl workspace check DIR`. Checks a UnisonOS-style workspace
/// (a meta repository whose submodules are the platform's repos, or a plain directory of
/// sibling clones) against the spec: layout, git cleanliness, READMEs, the compatibility
/// matrix, release tags and image references. The rules are in docs/workspace-rules.md.
package enum WorkspaceCheck {
    /// Runs every check. `expectedBranch` defaults to the spec's `platform.defaultBranch`.
    package static func run(
        directory: URL, spec: PlatformSpec, expectedBranch: String? = nil,
        runner: any ProcessRunner = SystemProcessRunner()
    ) throws -> FindingsReport {
        var isDirectory = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory) else {
            throw WorkspaceError.pathNotFound(path: directory.path)
        }
        guard isDirectory else { throw WorkspaceError.notADirectory(path: directory.path) }

        var context = Context(
            root: directory.standardizedFileURL, spec: spec, runner: runner,
            expectedBranch: expectedBranch ?? spec.platform.defaultBranch)
        try context.locateRepos()
        for located in context.repos {
            try context.checkGit(located)
            context.findings += ReadmeAudit.audit(
                spec: spec, repo: located.repo, directory: located.directory,
                displayPrefix: located.relativePath)
            try context.checkTagNames(located)
            context.checkImages(located)
            context.checkLinks(located)
            context.checkHostPorts(located)
        }
        try context.checkCompatibilityAndReleases()
        return FindingsReport(schema: FindingsReport.workspaceSchema, findings: context.findings)
    }

    /// A repository of the spec found on disk.
    struct Located {
        var repo: Repo
        var directory: URL
        /// Path relative to the workspace directory; empty for the meta repository itself.
        var relativePath: String
        var submodule: WorkspaceGit.Submodule?
        var isMeta: Bool

        func display(_ path: String) -> String { Self.join(relativePath, path) }

        static func join(_ base: String, _ path: String) -> String {
            base.isEmpty ? path : (path.isEmpty ? base : base + "/" + path)
        }
    }

    struct Context {
        let root: URL
        let spec: PlatformSpec
        let runner: any ProcessRunner
        let expectedBranch: String
        var isMeta = false
        var repos: [Located] = []
        /// Top-level directories holding repositories (known or not), relative to the root.
        var repoDirectories: Set<String> = []
        var gitlinks: [String: String] = [:]
        var findings: [Finding] = []
        /// Tags of each located repo, read once.
        var tagCache: [String: [String]] = [:]

        init(root: URL, spec: PlatformSpec, runner: any ProcessRunner, expectedBranch: String) {
            self.root = root
            self.spec = spec
            self.runner = runner
            self.expectedBranch = expectedBranch
        }

        var org: String { spec.platform.org }

        func git(_ directory: URL) -> WorkspaceGit { WorkspaceGit(directory: directory, runner: runner) }

        var metaRepoName: String {
            spec.repos.first { $0.role == .workspace }?.name ?? root.lastPathComponent
        }

        /// The spec repo a submodule or directory stands for: by the basename of its URL, then of its path.
        func specRepo(url: String?, path: String) -> Repo? {
            func base(_ s: String) -> String {
                var t = s
                while t.hasSuffix("/") { t.removeLast() }
                if t.hasSuffix(".git") { t.removeLast(4) }
                let cut = t.lastIndex { $0 == "/" || $0 == ":" }
                return String(cut.map { t[t.index(after: $0)...] } ?? Substring(t)).lowercased()
            }
            if let url, let repo = spec.repos.first(where: { $0.name.lowercased() == base(url) }) { return repo }
            return spec.repos.first { $0.name.lowercased() == base(path) }
        }

        // MARK: layout

        mutating func locateRepos() throws {
            let fm = FileManager.default
            isMeta = WorkspaceGit.isRepository(root)
            var claimed: Set<String> = []
            if isMeta {
                let metaRepo = try spec.repos.first { $0.role == .workspace } ?? Self.unlistedMeta(named: root.lastPathComponent)
                repos.append(Located(repo: metaRepo, directory: root, relativePath: "", submodule: nil, isMeta: true))
                claimed.insert(metaRepo.name)
                let meta = git(root)
                gitlinks = try meta.recordedGitlinks()
                for sub in try meta.submodules() {
                    repoDirectories.insert(sub.path)
                    let directory = root.appendingPathComponent(sub.path)
                    guard let repo = specRepo(url: sub.url, path: sub.path), !claimed.contains(repo.name) else {
                        findings.append(
                            Finding(
                                .layoutUnknownRepo, .warning, repo: metaRepoName, file: ".gitmodules", line: sub.line,
                                "submodule '\(sub.path)' (\(sub.url ?? "no url")) is not a repo of the spec",
                                hint: "add it to repos: in unison.yaml, or remove it with `git rm \(sub.path)`"))
                        continue
                    }
                    claimed.insert(repo.name)
                    guard WorkspaceGit.isRepository(directory) else {
                        findings.append(
                            Finding(
                                .gitSubmoduleUninitialized, .error, repo: repo.name, file: ".gitmodules", line: sub.line,
                                "submodule '\(sub.path)' is not initialised (no checkout on disk)",
                                hint: "git submodule update --init \(sub.path)"))
                        continue
                    }
                    repos.append(Located(repo: repo, directory: directory, relativePath: sub.path, submodule: sub, isMeta: false))
                }
            }
            // Sibling clones: top-level directories holding a repository that is not a submodule.
            let entries = (try? fm.contentsOfDirectory(atPath: root.path))?.sorted() ?? []
            for name in entries where !name.hasPrefix(".") && !repoDirectories.contains(name) {
                let directory = root.appendingPathComponent(name)
                var isDirectory = false
                guard fm.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory,
                    WorkspaceGit.isRepository(directory)
                else { continue }
                repoDirectories.insert(name)
                guard let repo = specRepo(url: nil, path: name), !claimed.contains(repo.name) else {
                    findings.append(
                        Finding(
                            .layoutUnknownRepo, .warning, repo: isMeta ? metaRepoName : name, file: name,
                            "'\(name)' holds a git repository that is not a repo of the spec",
                            hint: "add it to repos: in unison.yaml, or move it out of the workspace"))
                    continue
                }
                claimed.insert(repo.name)
                repos.append(Located(repo: repo, directory: directory, relativePath: name, submodule: nil, isMeta: false))
            }
            let uninitialized = Set(findings.filter { $0.rule == .gitSubmoduleUninitialized }.map(\.repo))
            for repo in spec.repos
            where !claimed.contains(repo.name) && !uninitialized.contains(repo.name)
                && repo.checkout != .external
            {
                let url = "https://github.com/\(org)/\(repo.name).git"
                let hint = isMeta && repo.checkout != .sibling ? "git submodule add \(url) \(repo.name)" : "git clone \(url)"
                findings.append(
                    Finding(
                        .layoutMissingRepo, .error, repo: repo.name,
                        "repo '\(repo.name)' (\(repo.role.rawValue)) is not in the workspace",
                        hint: hint))
            }
            repos.sort { $0.relativePath < $1.relativePath }
        }

        /// Stands for the meta repository when the spec declares no `workspace` repo (the
        /// spec model has no public memberwise initializer; `Repo` is Codable).
        static func unlistedMeta(named name: String) throws -> Repo {
            let object: JSONValue = [
                "name": .string(name), "role": "workspace", "description": "", "entrypoints": [:], "services": [],
            ]
            return try JSONDecoder().decode(Repo.self, from: object.encoded())
        }

        static func quote(_ path: String) -> String {
            path.allSatisfy { $0.isLetter || $0.isNumber || "/._-+".contains($0) } ? path : "'\(path.replacing("'", with: "'\\''"))'"
        }
    }
}
