import Foundation

/// What the action reads from the GitHub event: the trigger, the ref and commit, and the few
/// payload fields its expressions use. `release tags` fills it from command-line options.
public struct MetadataContext: Sendable, Equatable {
    /// `push`, `pull_request`, `schedule`, `workflow_dispatch`, `create`, …
    public var eventName: String
    /// `refs/heads/main`, `refs/tags/v1.2.3`, `refs/pull/15/merge`, or empty.
    public var ref: String
    /// The full commit SHA, or empty.
    public var sha: String
    /// "Now": `{{date}}` and the `created` label.
    public var date: Date
    /// The commit's date: `{{commit_date}}`.
    public var commitDate: Date
    /// `repository.default_branch` of the event payload: `{{is_default_branch}}`.
    public var payloadDefaultBranch: String?
    /// `base_ref` of a tag push payload, or the pull request's base branch: `{{base_ref}}`.
    public var baseRef: String?
    /// `pull_request.base.ref` of a pull request payload.
    public var pullRequestBaseRef: String?
    /// `DOCKER_METADATA_SHORT_SHA_LENGTH` (default 7).
    public var shortSHALength: Int

    public init(
        eventName: String, ref: String, sha: String, date: Date, commitDate: Date? = nil,
        payloadDefaultBranch: String? = nil, baseRef: String? = nil, pullRequestBaseRef: String? = nil,
        shortSHALength: Int = 7
    ) {
        self.eventName = eventName
        self.ref = ref
        self.sha = sha
        self.date = date
        self.commitDate = commitDate ?? date
        self.payloadDefaultBranch = payloadDefaultBranch
        self.baseRef = baseRef
        self.pullRequestBaseRef = pullRequestBaseRef
        self.shortSHALength = shortSHALength
    }
}

/// Repository facts the action gets from the GitHub API (`repos.get`). unisonctl has no API
/// access: they come from options or from the spec (`org.opencontainers.image.*` labels).
public struct MetadataRepository: Sendable, Equatable {
    public var name: String
    public var description: String
    /// `html_url`: the `url` and `source` labels.
    public var url: String
    /// SPDX identifier of the licence, or empty.
    public var license: String
    /// The repository's default branch: `type=edge` without `branch=`.
    public var defaultBranch: String

    public init(name: String = "", description: String = "", url: String = "", license: String = "", defaultBranch: String = "main") {
        self.name = name
        self.description = description
        self.url = url
        self.license = license
        self.defaultBranch = defaultBranch
    }
}

/// The action's inputs: `images`, `tags`, `flavor`, `labels` (one entry per line).
public struct MetadataInputs: Sendable, Equatable {
    public var images: [String]
    public var tags: [String]
    public var flavor: [String]
    public var labels: [String]

    public init(images: [String] = [], tags: [String] = [], flavor: [String] = [], labels: [String] = []) {
        self.images = images
        self.tags = tags
        self.flavor = flavor
        self.labels = labels
    }
}

/// The action's `version` output, before it is flattened to a string.
public struct MetadataVersion: Sendable, Equatable, Codable {
    /// The highest-priority tag: the `version` output and `org.opencontainers.image.version`.
    public var main: String?
    /// The other tags, in priority order, without duplicates.
    public var partial: [String]
    /// Whether a `latest` tag is added.
    public var latest: Bool

    public init(main: String?, partial: [String], latest: Bool) {
        self.main = main
        self.partial = partial
        self.latest = latest
    }

    enum CodingKeys: String, CodingKey { case main, partial, latest }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        // `main` is always present (null when no tag was produced), as the action reports it.
        try c.encode(main, forKey: .main)
        try c.encode(partial, forKey: .partial)
        try c.encode(latest, forKey: .latest)
    }
}

/// Everything `release tags` prints.
public struct MetadataResult: Sendable, Equatable {
    public var version: MetadataVersion
    /// Full references (`image:tag`) in output order, or bare tags when there is no image.
    public var tags: [String]
    /// Bare tags in output order.
    public var tagNames: [String]
    /// `key=value`, sorted by key.
    public var labels: [String]
    /// What the action would log as warnings (a value that is not SemVer, a pattern that does not match).
    public var warnings: [String]
}
