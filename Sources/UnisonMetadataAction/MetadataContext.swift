import FoundationEssentials

/// What the action reads from the GitHub event: the trigger, the ref and commit, and the few
/// payload fields its expressions use. `release tags` fills it from command-line options.
package struct MetadataContext: Sendable, Equatable {
    /// `push`, `pull_request`, `schedule`, `workflow_dispatch`, `create`, …
    package var eventName: String
    /// `refs/heads/main`, `refs/tags/v1.2.3`, `refs/pull/15/merge`, or empty.
    package var ref: String
    /// The full commit SHA, or empty.
    package var sha: String
    /// "Now": `{{date}}` and the `created` label.
    package var date: Date
    /// The commit's date: `{{commit_date}}`.
    package var commitDate: Date
    /// `repository.default_branch` of the event payload: `{{is_default_branch}}`.
    package var payloadDefaultBranch: String?
    /// `base_ref` of a tag push payload, or the pull request's base branch: `{{base_ref}}`.
    package var baseRef: String?
    /// `pull_request.base.ref` of a pull request payload.
    package var pullRequestBaseRef: String?
    /// `DOCKER_METADATA_SHORT_SHA_LENGTH` (default 7).
    package var shortSHALength: Int

    package init(
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
package struct MetadataRepository: Sendable, Equatable {
    package var name: String
    package var description: String
    /// `html_url`: the `url` and `source` labels.
    package var url: String
    /// SPDX identifier of the licence, or empty.
    package var license: String
    /// The repository's default branch: `type=edge` without `branch=`.
    package var defaultBranch: String

    package init(name: String = "", description: String = "", url: String = "", license: String = "", defaultBranch: String = "main") {
        self.name = name
        self.description = description
        self.url = url
        self.license = license
        self.defaultBranch = defaultBranch
    }
}

/// The action's inputs: `images`, `tags`, `flavor`, `labels` (one entry per line).
package struct MetadataInputs: Sendable, Equatable {
    package var images: [String]
    package var tags: [String]
    package var flavor: [String]
    package var labels: [String]

    package init(images: [String] = [], tags: [String] = [], flavor: [String] = [], labels: [String] = []) {
        self.images = images
        self.tags = tags
        self.flavor = flavor
        self.labels = labels
    }
}

/// The action's `version` output, before it is flattened to a string.
package struct MetadataVersion: Sendable, Equatable, Codable {
    /// The highest-priority tag: the `version` output and `org.opencontainers.image.version`.
    package var main: String?
    /// The other tags, in priority order, without duplicates.
    package var partial: [String]
    /// Whether a `latest` tag is added.
    package var latest: Bool

    package init(main: String?, partial: [String], latest: Bool) {
        self.main = main
        self.partial = partial
        self.latest = latest
    }

    enum CodingKeys: String, CodingKey { case main, partial, latest }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        // `main` is always present (null when no tag was produced), as the action reports it.
        try c.encode(main, forKey: .main)
        try c.encode(partial, forKey: .partial)
        try c.encode(latest, forKey: .latest)
    }
}

/// Everything `release tags` prints.
package struct MetadataResult: Sendable, Equatable {
    package var version: MetadataVersion
    /// Full references (`image:tag`) in output order, or bare tags when there is no image.
    package var tags: [String]
    /// Bare tags in output order.
    package var tagNames: [String]
    /// `key=value`, sorted by key.
    package var labels: [String]
    /// What the action would log as warnings (a value that is not SemVer, a pattern that does not match).
    package var warnings: [String]
}
