import FoundationEssentials
import UnisonCore
import UnisonMetadataAction
import UnisonSpec

/// What `release tags` is asked: the event, and optionally rules that replace the spec's.
package struct TagRequest: Sendable {
    package var event: String
    package var ref: String
    package var sha: String
    package var date: Date
    package var commitDate: Date?
    /// `--default-branch`; else the spec's `platform.defaultBranch`; else `main`.
    package var defaultBranch: String?
    package var baseRef: String?
    package var images: [String]
    /// A platform service whose image (from the spec) is added to `images`.
    package var service: String?
    /// Nil: take the rules of the channel the ref resolves to.
    package var tags: [String]?
    package var flavor: [String]?
    package var labels: [String]
    package var title: String?
    package var description: String?
    package var url: String?
    package var license: String?
    package var shortSHALength: Int
    /// `GITHUB_RUN_NUMBER` / `GITHUB_RUN_ATTEMPT`: a release branch's beta is numbered by the run.
    package var runNumber: UInt64?
    package var runAttempt: UInt64
    /// The repository's tags, for a channel numbered by tag (`{n}`).
    package var existingTags: [String]

    package init(
        event: String, ref: String, sha: String, date: Date, commitDate: Date? = nil, defaultBranch: String? = nil,
        baseRef: String? = nil, images: [String] = [], service: String? = nil, tags: [String]? = nil,
        flavor: [String]? = nil, labels: [String] = [], title: String? = nil, description: String? = nil,
        url: String? = nil, license: String? = nil, shortSHALength: Int = 7,
        runNumber: UInt64? = nil, runAttempt: UInt64 = 1, existingTags: [String] = []
    ) {
        self.runNumber = runNumber
        self.runAttempt = runAttempt
        self.existingTags = existingTags
        self.event = event
        self.ref = ref
        self.sha = sha
        self.date = date
        self.commitDate = commitDate
        self.defaultBranch = defaultBranch
        self.baseRef = baseRef
        self.images = images
        self.service = service
        self.tags = tags
        self.flavor = flavor
        self.labels = labels
        self.title = title
        self.description = description
        self.url = url
        self.license = license
        self.shortSHALength = shortSHALength
    }
}

/// The `--json` output of `release tags`.
package struct TagPlan: Sendable, Equatable, Encodable {
    package var schema = "unisonctl.release-tags/v1"
    package var channel: String?
    /// The channel's version (`v0.5.0-beta.41`, `v0.5.0-alpha.1`); nil on nightly.
    package var channelVersion: String?
    package var prerelease: Bool
    /// The GitHub release a tag gets (`draft`, `prerelease`, `release`); nil: none.
    package var githubRelease: String?
    package var version: MetadataVersion
    package var tags: [String]
    package var labels: [String]
    package var warnings: [String]

    /// The outputs GitHub Actions steps read, as the action names them.
    package var githubOutputs: [(name: String, value: String)] {
        [
            ("channel", channel ?? ""), ("channel-version", channelVersion ?? ""), ("prerelease", prerelease ? "true" : "false"),
            ("github-release", githubRelease ?? ""), ("version", version.main ?? ""), ("tags", tags.joined(separator: "\n")),
            ("tag-names", tagNames.joined(separator: "\n")), ("labels", labels.joined(separator: "\n")),
            ("annotations", labels.map { "manifest:\($0)" }.joined(separator: "\n")),
        ]
    }

    package var tagNames: [String]

    enum CodingKeys: String, CodingKey { case schema, channel, channelVersion, prerelease, githubRelease, version, tags, labels, warnings }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(schema, forKey: .schema)
        try c.encode(channel, forKey: .channel)
        try c.encode(channelVersion, forKey: .channelVersion)
        try c.encode(prerelease, forKey: .prerelease)
        try c.encode(githubRelease, forKey: .githubRelease)
        try c.encode(version, forKey: .version)
        try c.encode(tags, forKey: .tags)
        try c.encode(labels, forKey: .labels)
        try c.encode(warnings, forKey: .warnings)
    }
}

package enum ReleaseTags {
    /// Computes tags and labels. Without `tags`/`flavor` in the request the spec's channel
    /// for the ref supplies them; a ref no channel takes gets the action's defaults.
    package static func plan(_ request: TagRequest, spec: PlatformSpec?) throws -> TagPlan {
        guard request.ref.isEmpty || ["refs/heads/", "refs/tags/", "refs/pull/"].contains(where: request.ref.hasPrefix) else {
            throw ReleaseError.invalidRef(request.ref)
        }
        var tags = request.tags
        var flavor = request.flavor
        var resolution: ChannelResolution?
        let defaultBranch = request.defaultBranch ?? spec?.platform.defaultBranch ?? "main"
        let run = RunContext(defaultBranch: defaultBranch, runNumber: request.runNumber, runAttempt: request.runAttempt)
        if tags == nil, flavor == nil, let spec,
            let channel = ChannelResolver.channel(
                for: request.ref, event: request.event, channels: spec.channels,
                defaultBranch: defaultBranch)
        {
            let resolved = try ChannelResolver.resolve(
                ref: request.ref, event: request.event, channels: spec.channels,
                existingTags: request.existingTags, run: run)
            let values = ChannelVariables.values(resolution: resolved, run: run)
            tags = channel.tags.map { ChannelVariables.substitute($0, values) }
            flavor = channel.flavor
            resolution = resolved
        }

        var images = request.images
        var repoName = request.title
        var description = request.description
        var url = request.url
        if let name = request.service {
            guard let spec, let service = spec.services.first(where: { $0.name == name }) else {
                throw ReleaseError.unknownService(name)
            }
            images.append(service.image)
            if let repo = service.repo {
                repoName = repoName ?? repo
                url = url ?? "https://github.com/\(spec.platform.org)/\(repo)"
                description = description ?? service.description ?? spec.repo(named: repo)?.description
            }
        }
        let context = MetadataContext(
            eventName: request.event, ref: request.ref, sha: request.sha, date: request.date,
            commitDate: request.commitDate, payloadDefaultBranch: defaultBranch,
            baseRef: request.baseRef, pullRequestBaseRef: request.baseRef,
            shortSHALength: request.shortSHALength)
        let repository = MetadataRepository(
            name: repoName ?? "", description: description ?? "", url: url ?? "",
            license: request.license ?? "", defaultBranch: defaultBranch)
        let action = try MetadataAction(
            inputs: MetadataInputs(
                images: images, tags: tags ?? [], flavor: flavor ?? [],
                labels: request.labels),
            context: context, repository: repository)
        var result = try action.evaluate()
        if resolution?.prerelease == true {
            // The project's rule (and metadata-action's for semver rules): a pre-release never
            // moves latest, vX.Y or vX, whatever a raw rule says.
            let moving = result.tagNames.filter(isMovingTag)
            if !moving.isEmpty {
                result.tags.removeAll { tag in tag.split(separator: ":").last.map { isMovingTag(String($0)) } ?? false }
                result.tagNames.removeAll(where: isMovingTag)
                result.version.partial.removeAll(where: isMovingTag)
                result.version.latest = false
                result.warnings.append("pre-release \(resolution?.version ?? ""): dropped \(moving.joined(separator: ", "))")
            }
        }
        return TagPlan(
            channel: resolution?.channel, channelVersion: resolution?.version, prerelease: resolution?.prerelease ?? false,
            githubRelease: resolution?.githubRelease, version: result.version, tags: result.tags, labels: result.labels,
            warnings: result.warnings, tagNames: result.tagNames)
    }

    /// The tags a promoted release gets (`release promote` without `--tag`): `vX.Y.Z`, `vX.Y`,
    /// `vX` and `latest` for a release; only `vX.Y.Z-pre` for a pre-release, which never moves
    /// a moving tag (docker/metadata-action's semver rules; the same policy `plan` enforces).
    /// Build metadata is dropped: `+` is not allowed in a tag.
    package static func defaults(for version: SemVer) -> [String] {
        let tag = version.tagString(forceV: true)
        let full = tag.split(separator: "+").first.map(String.init) ?? tag
        if version.isPrerelease { return [full] }
        return [full] + movingTags(for: version)
    }

    /// The moving tags a release of `version` points: `vX.Y`, `vX`, `latest` (each one
    /// `isMovingTag` accepts).
    package static func movingTags(for version: SemVer) -> [String] {
        ["v\(version.major).\(version.minor)", "v\(version.major)", "latest"]
    }

    /// `latest`, `vX.Y`, `vX`: tags that move to the newest release. (A bare `1.2` is not
    /// counted: a short SHA can be all digits.)
    package static func isMovingTag(_ name: String) -> Bool {
        if name == "latest" { return true }
        guard name.hasPrefix("v") else { return false }
        let parts = name.dropFirst().split(separator: ".", omittingEmptySubsequences: false)
        return (1...2).contains(parts.count) && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isNumber) }
    }

    /// Parses `--date`: ISO 8601 with or without fractional seconds.
    package static func parseDate(_ text: String) throws -> Date {
        // As ISO8601DateFormatter did: leading blanks skipped, fractions kept to the millisecond
        // (cut, not rounded; the microsecond rounding only removes the parser's binary noise).
        let start = text.unicodeScalars.drop { $0 == " " || $0 == "\t" }
        guard let parsed = try? Date.ISO8601FormatStyle().parse(String(String.UnicodeScalarView(start))) else {
            throw ReleaseError.invalidDate(text)
        }
        let milliseconds = ((parsed.timeIntervalSince1970 * 1_000_000).rounded() / 1000).rounded(.down)
        return Date(timeIntervalSince1970: milliseconds / 1000)
    }

    /// "Now" for tags: `--date`, else `SOURCE_DATE_EPOCH` when set, else the clock.
    package static func now(
        explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment,
        clock: any WallClock = SystemClock()
    ) throws -> Date {
        if let explicit { return try parseDate(explicit) }
        if environment["SOURCE_DATE_EPOCH"] != nil {
            return Date(timeIntervalSince1970: TimeInterval(SourceDateEpoch.current(environment)))
        }
        return clock.now()
    }
}
