/// How much a finding matters. An `error` makes `workspace check` and `readme check` exit 1.
package enum Severity: String, Sendable, Codable, Comparable, CaseIterable {
    case error, warning, info

    private var rank: Int {
        switch self {
        case .error: return 0
        case .warning: return 1
        case .info: return 2
        }
    }

    /// Errors sort first.
    package static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }
}

/// The stable rule identifiers of the workspace checks. Each is documented, with its severity
/// and the exact condition it reports, in docs/workspace-rules.md; ids never change meaning.
package enum Rule: String, Sendable, Codable, CaseIterable {
    // layout
    case layoutMissingRepo = "layout.missing-repo"
    case layoutUnknownRepo = "layout.unknown-repo"
    // git cleanliness
    case gitDirty = "git.dirty"
    case gitUntracked = "git.untracked"
    case gitDetachedHead = "git.detached-head"
    case gitUnexpectedBranch = "git.unexpected-branch"
    case gitNoCommits = "git.no-commits"
    case gitSubmoduleUninitialized = "git.submodule-uninitialized"
    case gitSubmoduleOutOfSync = "git.submodule-out-of-sync"
    case gitDefaultBranch = "git.default-branch"
    // READMEs
    case readmeMissing = "readme.missing"
    case readmeMissingSection = "readme.missing-section"
    case readmeRoleMismatch = "readme.role-mismatch"
    case readmeEntrypointMissing = "readme.entrypoint-missing"
    case readmeEntrypointUndocumented = "readme.entrypoint-undocumented"
    case readmeUnknownRepo = "readme.unknown-repo"
    // links in READMEs
    case linksBroken = "links.broken"
    // compatibility matrix
    case compatMissingMatrix = "compat.missing-matrix"
    case compatReleaseWithoutRow = "compat.release-without-row"
    case compatMissingServiceColumn = "compat.missing-service-column"
    case compatUnknownColumn = "compat.unknown-column"
    case compatBadCell = "compat.bad-cell"
    case compatDuplicateRow = "compat.duplicate-row"
    case compatUnreadable = "compat.unreadable"
    // release tags
    case tagsNotSemver = "tags.not-semver"
    case tagsServiceMissingReleaseTag = "tags.service-missing-release-tag"
    case tagsNeverTagged = "tags.never-tagged"
    // devstack
    case portsHostCollision = "ports.host-collision"
    // image references
    case ghcrBadReference = "ghcr.bad-reference"
    case ghcrMutableTag = "ghcr.mutable-tag"
    case ghcrThirdPartyUnpinned = "ghcr.third-party-unpinned"
    case ghcrNoPushWorkflow = "ghcr.no-push-workflow"
}

/// One problem found in a workspace: which rule, how bad, where (`file` relative to the
/// workspace directory, `line` 1-based, both nil when the finding is about a repo as a whole),
/// what is wrong and what to do about it.
package struct Finding: Sendable, Hashable {
    package var rule: Rule
    package var severity: Severity
    package var repo: String
    package var file: String?
    package var line: Int?
    package var message: String
    package var hint: String

    package init(
        _ rule: Rule, _ severity: Severity, repo: String, file: String? = nil, line: Int? = nil,
        _ message: String, hint: String
    ) {
        self.rule = rule
        self.severity = severity
        self.repo = repo
        self.file = file
        self.line = line
        self.message = message
        self.hint = hint
    }

    /// `file:line`, `file`, or the repo name: where an editor or a reader should look.
    package var location: String {
        guard let file else { return repo }
        return line.map { "\(file):\($0)" } ?? file
    }

    /// The order reports use: by repo, then file and line, then rule, severity, message and
    /// hint — a total order, so a report prints the same whatever order checks ran in.
    static func precedes(_ a: Finding, _ b: Finding) -> Bool {
        if a.repo != b.repo { return a.repo < b.repo }
        if (a.file ?? "") != (b.file ?? "") { return (a.file ?? "") < (b.file ?? "") }
        if (a.line ?? 0) != (b.line ?? 0) { return (a.line ?? 0) < (b.line ?? 0) }
        if a.rule != b.rule { return a.rule.rawValue < b.rule.rawValue }
        if a.severity != b.severity { return a.severity < b.severity }
        if a.message != b.message { return a.message < b.message }
        return a.hint < b.hint
    }
}

extension Finding: Encodable {
    enum CodingKeys: String, CodingKey { case rule, severity, repo, file, line, message, hint }

    /// `file` and `line` are written as `null` when absent, so every finding has the same keys.
    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(rule.rawValue, forKey: .rule)
        try c.encode(severity, forKey: .severity)
        try c.encode(repo, forKey: .repo)
        if let file { try c.encode(file, forKey: .file) } else { try c.encodeNil(forKey: .file) }
        if let line { try c.encode(line, forKey: .line) } else { try c.encodeNil(forKey: .line) }
        try c.encode(message, forKey: .message)
        try c.encode(hint, forKey: .hint)
    }
}
