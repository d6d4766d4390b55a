import FoundationEssentials
import UnisonCore
import UnisonSpec

/// One repository's part in a platform release.
package struct RepoPlan: Sendable, Equatable, Codable {
    package enum Status: String, Sendable, Codable {
        /// Read: see `participates`.
        case ok
        /// No directory for it in the workspace.
        case missing
        case notARepository = "not-a-repository"
        case noCommits = "no-commits"
        /// A directory without its own `.git`: a submodule the workspace has not checked out.
        case notCheckedOut = "not-checked-out"
        /// The platform version asked for is already a tag, or older than an existing one.
        case versionTaken = "version-taken"
    }

    package var repo: String
    package var role: String
    package var status: Status
    package var lastTag: String?
    /// The branch the history was read on: the repo's default branch (main or master).
    package var branch: String?
    /// Commits since `lastTag`, newest first.
    package var commits: [CommitImpact]
    /// The version this release tags the repo with; nil when it does not take part.
    package var nextVersion: String?
    package var participates: Bool
    package var reason: String
    /// Services built from this repo.
    package var services: [String]
    /// The image tag the platform release pins for those services (new version, else the last
    /// release); nil when the repo has never been released.
    package var imageTag: String?

    package init(
        repo: String, role: String, status: Status, lastTag: String? = nil, branch: String? = nil, commits: [CommitImpact] = [],
        nextVersion: String? = nil, participates: Bool = false, reason: String = "", services: [String] = [], imageTag: String? = nil
    ) {
        self.repo = repo
        self.role = role
        self.status = status
        self.lastTag = lastTag
        self.branch = branch
        self.commits = commits
        self.nextVersion = nextVersion
        self.participates = participates
        self.reason = reason
        self.services = services
        self.imageTag = imageTag
    }
}

/// `release plan`: what a platform release contains across every repository of the spec.
package struct ReleasePlan: Sendable, Equatable, Codable {
    package var schema = "unisonctl.release-plan/v1"
    package var version: String
    package var channel: String?
    package var workspace: String
    package var repos: [RepoPlan]
    /// The compatibility-matrix row this release adds: service → pinned image tag.
    package var matrixRow: [String: String]

    package var participating: [RepoPlan] { repos.filter(\.participates) }

    /// The row in matrix form (services without a released version are `-`).
    package var compatibilityRow: CompatibilityMatrix.Row? {
        guard let platform = SemVer(version) else { return nil }
        return CompatibilityMatrix.Row(
            platform: platform,
            services: matrixRow.compactMapValues { SemVer($0).map(VersionConstraint.init(exactly:)) })
    }
}

/// Plans a platform release the way unison-docs `dev/release-and-branching.md` has it: the
/// platform version drives releases; a service repo with changes since its last release is
/// included and tagged with the platform's version; other repos are not versioned with it.
package enum ReleasePlanner {
    /// Reads every repo of the spec under `workspace/<repo name>` on its default branch and
    /// decides its part in platform release `version`.
    package static func plan(
        spec: PlatformSpec, version: SemVer, workspace: URL,
        runner: any ProcessRunner = SystemProcessRunner()
    ) throws -> ReleasePlan {
        let rules = BumpRules(bumpMinorPreMajor: spec.release.bumpMinorPreMajor)
        let platformTag = version.tagString(forceV: true)
        var repos: [RepoPlan] = []
        var row: [String: String] = [:]
        for repo in spec.repos {
            let dir = workspace.appendingPathComponent(repo.name)
            var plan = RepoPlan(repo: repo.name, role: repo.role.rawValue, status: .ok, services: repo.services)
            var isDir = false
            let git = GitRepository(directory: dir, runner: runner)
            if !FileManager.default.fileExists(atPath: dir.path, isDirectory: &isDir) || !isDir {
                plan.status = .missing
                plan.reason = "not in the workspace"
            } else if !git.hasOwnGitDirectory() {
                let empty = ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).isEmpty
                plan.status = empty ? .notCheckedOut : .notARepository
                plan.reason = empty ? "submodule not checked out (git submodule update --init \(repo.name))" : "not a git repository"
            } else if !git.isRepository() {
                plan.status = .notARepository
                plan.reason = "not a git repository"
            } else if try git.head() == nil {
                plan.status = .noCommits
                plan.reason = "no commits"
            } else {
                let branch = try git.defaultBranch()
                plan.branch = branch
                let next = try VersionCalculator.next(repository: git, rules: rules, revision: branch ?? "HEAD")
                plan.lastTag = next.previousTag
                plan.commits = next.commits
                let tags = try git.tags().map(\.name)
                switch repo.role {
                case .platform:
                    decidePlatform(&plan, version: version, tags: tags)
                case .service:
                    decideService(&plan, version: version, next: next, tags: tags)
                default:
                    plan.reason = "role \(repo.role.rawValue): not tagged with platform releases"
                }
            }
            for service in repo.services { if let tag = plan.imageTag { row[service] = tag } }
            repos.append(plan)
        }
        let channel = ChannelResolver.channel(for: "refs/tags/\(platformTag)", event: "push", channels: spec.channels)
        return ReleasePlan(
            version: platformTag, channel: channel?.name, workspace: workspace.path,
            repos: repos, matrixRow: row)
    }

    /// The platform takes the version asked for, unless a tag already has it or a newer one
    /// exists (pre-releases count: v0.5.0-alpha.1 rules out v0.5.0-alpha.1 and v0.4.x).
    static func decidePlatform(_ plan: inout RepoPlan, version: SemVer, tags: [String]) {
        let existing = tags.compactMap { t in SemVer(t).map { (t, $0) } }.filter { ReleaseTarget.split($0.0).target == nil }
        let tag = version.tagString(forceV: true)
        if let same = existing.first(where: { $0.1 == version }) {
            plan.status = .versionTaken
            plan.reason = "already tagged \(same.0)"
            plan.imageTag = same.0
        } else if let newer = existing.filter({ $0.1 > version }).max(by: { $0.1 < $1.1 }) {
            plan.status = .versionTaken
            plan.reason = "\(newer.0) already exists, newer than \(tag)"
        } else {
            let highest = existing.max { $0.1 < $1.1 }
            plan.participates = true
            plan.nextVersion = tag
            plan.imageTag = tag
            plan.lastTag = highest?.0 ?? plan.lastTag
            plan.reason = highest.map { "platform version, after \($0.0)" } ?? "platform version, first release"
        }
    }

    /// A service repo with releasable changes since its last release (or never released) is
    /// included and tagged with the platform's version; one without keeps its last tag.
    static func decideService(_ plan: inout RepoPlan, version: SemVer, next: NextVersion, tags: [String]) {
        let tag = version.tagString(forceV: true)
        if tags.contains(tag) {
            plan.reason = "already tagged \(tag)"
            plan.imageTag = tag
            return
        }
        if let previous = next.previous, previous > version {
            plan.status = .versionTaken
            plan.reason = "its release \(next.previousTag ?? previous.description) is newer than the platform version \(tag)"
            plan.imageTag = next.previousTag
            return
        }
        if next.releases || next.previous == nil {
            plan.participates = true
            plan.nextVersion = tag
            plan.imageTag = tag
            plan.reason =
                next.previous == nil ? "never released: included at the platform version" : "\(next.reason): included at the platform version"
        } else {
            plan.imageTag = next.previousTag
            plan.reason = "\(next.reason): keeps \(next.previousTag ?? "-")"
        }
    }

    /// The plan as markdown: a repository table and the matrix row.
    package static func markdown(_ plan: ReleasePlan, spec: PlatformSpec) -> String {
        var out = "# \(spec.platform.displayName) \(plan.version) release plan\n\n"
        out += "Channel: \(plan.channel ?? "none"). \(plan.participating.count) of \(plan.repos.count) repositories take part.\n\n"
        out += "| repo | branch | last tag | commits | next | takes part | image tag | why |\n|---|---|---|---|---|---|---|---|\n"
        for r in plan.repos {
            out +=
                "| \(r.repo) | \(r.branch ?? "-") | \(r.lastTag ?? "-") | \(r.commits.count) | \(r.nextVersion ?? "-") | \(r.participates ? "yes" : "no") | \(r.imageTag ?? "-") | \(r.status == .ok ? r.reason : "\(r.status.rawValue): \(r.reason)") |\n"
        }
        // The matrix's own columns (a repository's, as `compat add` writes them), so the row can
        // be pasted under its header: a repository's services share its tag.
        let columns = CompatibilityMatrix.columns(spec: spec)
        let cells = columns.map { column in
            spec.services.filter { ($0.repo ?? $0.name) == column }.lazy.compactMap { plan.matrixRow[$0.name] }.first ?? "-"
        }
        out += "\n## Compatibility matrix row\n\n| platform | \(columns.joined(separator: " | ")) |\n|---|\(columns.map { _ in "---|" }.joined())\n"
        out += "| \(plan.version) | \(cells.joined(separator: " | ")) |\n"
        return out
    }
}
