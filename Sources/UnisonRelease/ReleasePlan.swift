import Foundation
import UnisonCore
import UnisonSpec

/// One repository's part in a platform release.
public struct RepoPlan: Sendable, Equatable, Codable {
    public enum Status: String, Sendable, Codable {
        /// Read: see `participates`.
        case ok
        /// No directory for it in the workspace.
        case missing
        case notARepository = "not-a-repository"
        case noCommits = "no-commits"
    }

    public var repo: String
    public var role: String
    public var status: Status
    public var lastTag: String?
    /// Commits since `lastTag`, newest first.
    public var commits: [CommitImpact]
    /// The version this release tags the repo with; nil when it does not take part.
    public var nextVersion: String?
    public var participates: Bool
    public var reason: String
    /// Services built from this repo.
    public var services: [String]
    /// The image tag the platform release pins for those services (new version, else the last
    /// release); nil when the repo has never been released.
    public var imageTag: String?
}

/// `release plan`: what a platform release contains across every repository of the spec.
public struct ReleasePlan: Sendable, Equatable, Codable {
    public var schema = "unisonctl.release-plan/v1"
    public var version: String
    public var channel: String?
    public var workspace: String
    public var repos: [RepoPlan]
    /// The compatibility-matrix row this release adds: service → pinned image tag.
    public var matrixRow: [String: String]

    public var participating: [RepoPlan] { repos.filter(\.participates) }

    /// The row in matrix form (services without a released version are `-`).
    public var compatibilityRow: CompatibilityMatrix.Row? {
        guard let platform = SemVer(version) else { return nil }
        return CompatibilityMatrix.Row(platform: platform,
                                       services: matrixRow.compactMapValues { SemVer($0).map(VersionConstraint.init(exactly:)) })
    }
}

public enum ReleasePlanner {
    /// Reads every repo of the spec under `workspace/<repo name>` and decides its part.
    public static func plan(spec: PlatformSpec, version: SemVer, workspace: URL,
                            runner: any ProcessRunner = SystemProcessRunner()) throws -> ReleasePlan {
        let rules = BumpRules(bumpMinorPreMajor: spec.release.bumpMinorPreMajor)
        var repos: [RepoPlan] = []
        var row: [String: String] = [:]
        for repo in spec.repos {
            let dir = workspace.appendingPathComponent(repo.name)
            var plan = RepoPlan(repo: repo.name, role: repo.role.rawValue, status: .ok, lastTag: nil, commits: [],
                                nextVersion: nil, participates: false, reason: "", services: repo.services, imageTag: nil)
            var isDir: ObjCBool = false
            if !FileManager.default.fileExists(atPath: dir.path, isDirectory: &isDir) || !isDir.boolValue {
                plan.status = .missing
                plan.reason = "not in the workspace"
            } else {
                let git = GitRepository(directory: dir, runner: runner)
                if !git.isRepository() {
                    plan.status = .notARepository
                    plan.reason = "not a git repository"
                } else if try git.head() == nil {
                    plan.status = .noCommits
                    plan.reason = "no commits"
                } else {
                    let next = try VersionCalculator.next(repository: git, rules: rules)
                    plan.lastTag = next.previousTag
                    plan.commits = next.commits
                    plan.participates = next.releases
                    plan.nextVersion = next.next?.tagString(forceV: true)
                    plan.reason = next.reason
                    plan.imageTag = plan.nextVersion ?? next.previous?.tagString(forceV: true)
                }
            }
            for service in repo.services { if let tag = plan.imageTag { row[service] = tag } }
            repos.append(plan)
        }
        let channel = ChannelResolver.channel(for: "refs/tags/\(version.tagString(forceV: true))", event: "push", channels: spec.channels)
        return ReleasePlan(version: version.tagString(forceV: true), channel: channel?.name, workspace: workspace.path,
                           repos: repos, matrixRow: row)
    }

    /// The plan as markdown: a repository table and the matrix row.
    public static func markdown(_ plan: ReleasePlan, spec: PlatformSpec) -> String {
        var out = "# \(spec.platform.displayName) \(plan.version) release plan\n\n"
        out += "Channel: \(plan.channel ?? "none"). \(plan.participating.count) of \(plan.repos.count) repositories take part.\n\n"
        out += "| repo | last tag | commits | next | takes part | image tag | why |\n|---|---|---|---|---|---|---|\n"
        for r in plan.repos {
            out += "| \(r.repo) | \(r.lastTag ?? "-") | \(r.commits.count) | \(r.nextVersion ?? "-") | \(r.participates ? "yes" : "no") | \(r.imageTag ?? "-") | \(r.status == .ok ? r.reason : r.status.rawValue) |\n"
        }
        let services = spec.services.map(\.name)
        out += "\n## Compatibility matrix row\n\n| platform | \(services.joined(separator: " | ")) |\n|---|\(services.map { _ in "---|" }.joined())\n"
        out += "| \(plan.version) | \(services.map { plan.matrixRow[$0] ?? "-" }.joined(separator: " | ")) |\n"
        return out
    }
}
