import FoundationEssentials
import UnisonCore

/// One commit with what it means for the next version.
package struct CommitImpact: Sendable, Equatable, Codable {
    package var sha: String
    package var subject: String
    /// Nil for a message that is not a Conventional Commit (it never decides a release).
    package var type: String?
    package var scope: String?
    package var breaking: Bool
    package var bump: VersionBump
    package var releaseAs: String?
    /// The header's description (the subject when the message is not conventional).
    package var description: String
    /// What breaks, for release notes: the BREAKING CHANGE footer, else the description.
    package var breakingNote: String?
}

/// The next version of one repository and the commits that decided it.
package struct NextVersion: Sendable, Equatable, Codable {
    package var schema = "unisonctl.release-version/v1"
    /// The highest release tag reachable from HEAD, as written (`v1.2.3`); nil before the first.
    package var previousTag: String?
    package var previous: SemVer?
    /// Nil when nothing since the previous tag is releasable ("no release").
    package var next: SemVer?
    package var bump: VersionBump
    /// Why: `breaking change`, `feat`, `Release-As footer`, …
    package var reason: String
    /// Every commit since the previous tag, newest first.
    package var commits: [CommitImpact]
    /// The commits that decided the bump (all commits of the winning size, or the Release-As one).
    package var deciding: [String]

    package var releases: Bool { next != nil }
}

/// Computes next versions from Conventional Commits, as release-please's default strategy does.
package enum VersionCalculator {
    /// The version a repository without any release tag starts at.
    package static let initialVersion = SemVer(0, 1, 0, hasPrefixV: true)

    /// Next version after `previous` given `commits` (newest first).
    package static func next(previous: SemVer?, previousTag: String?, commits: [GitCommit], rules: BumpRules) -> NextVersion {
        var impacts: [CommitImpact] = []
        var strongest = VersionBump.none
        var forced: (SemVer, String)?
        for commit in commits {
            guard let cc = ConventionalCommit(message: commit.message) else {
                impacts.append(
                    CommitImpact(
                        sha: commit.sha, subject: commit.subject, type: nil, scope: nil,
                        breaking: false, bump: .none, releaseAs: nil, description: commit.subject,
                        breakingNote: nil))
                continue
            }
            let bump = rules.bump(for: cc)
            strongest = max(strongest, bump)
            let releaseAs = cc.releaseAs
            // Newest first: the most recent Release-As wins.
            if forced == nil, let text = releaseAs, let v = text.version {
                forced = (v, commit.sha)
            }
            impacts.append(
                CommitImpact(
                    sha: commit.sha, subject: commit.subject, type: cc.type, scope: cc.scope,
                    breaking: cc.isBreaking, bump: bump, releaseAs: releaseAs?.text,
                    description: cc.description, breakingNote: cc.isBreaking ? cc.breakingNote : nil))
        }

        if let (version, sha) = forced {
            var v = version.withoutBuild
            v.hasPrefixV = previous?.hasPrefixV ?? true
            return NextVersion(
                previousTag: previousTag, previous: previous, next: v, bump: strongest,
                reason: "Release-As footer", commits: impacts, deciding: [sha])
        }
        guard strongest != .none else {
            return NextVersion(
                previousTag: previousTag, previous: previous, next: nil, bump: .none,
                reason: commits.isEmpty ? "no commits since \(previousTag ?? "the start")" : "no releasable commits",
                commits: impacts, deciding: [])
        }
        let deciding = impacts.filter { $0.bump == strongest }.map(\.sha)
        let reason: String
        switch strongest {
        case .major: reason = "breaking change"
        case .minor: reason = "feature"
        default: reason = "fix"
        }
        guard let previous else {
            return NextVersion(
                previousTag: nil, previous: nil, next: initialVersion, bump: strongest,
                reason: reason + " (first release)", commits: impacts, deciding: deciding)
        }
        var effective = strongest
        var why = reason
        if strongest == .major, previous.major == 0, rules.bumpMinorPreMajor {
            effective = .minor
            why += " below 1.0 (bumpMinorPreMajor)"
        }
        return NextVersion(
            previousTag: previousTag, previous: previous, next: previous.bumped(effective), bump: effective,
            reason: why, commits: impacts, deciding: deciding)
    }

    /// The highest release (non pre-release) SemVer tag among `tags`.
    package static func latestRelease(in tags: [GitTag]) -> (tag: GitTag, version: SemVer)? {
        tags.compactMap { tag in SemVer(tag.name).flatMap { $0.isPrerelease ? nil : (tag, $0) } }
            .max { $0.1 < $1.1 }
    }

    /// Reads the repository at `directory` and computes its next version.
    /// `revision` (default HEAD) is where the history is read: a repo's default branch.
    package static func next(repository: GitRepository, rules: BumpRules, revision: String = "HEAD") throws -> NextVersion {
        guard try repository.head() != nil else {
            return NextVersion(previousTag: nil, previous: nil, next: nil, bump: .none, reason: "no commits", commits: [], deciding: [])
        }
        let last = latestRelease(in: try repository.tags(mergedInto: revision))
        let commits = try repository.commits(from: last?.tag.name, to: revision)
        return next(previous: last?.version, previousTag: last?.tag.name, commits: commits, rules: rules)
    }
}
