import Foundation
import UnisonCore
import UnisonMetadataAction
import UnisonSpec

/// What `release tags` is asked: the event, and optionally rules that replace the spec's.
public struct TagRequest: Sendable {
    public var event: String
    public var ref: String
    public var sha: String
    public var date: Date
    public var commitDate: Date?
    /// `--default-branch`; else the spec's `platform.defaultBranch`; else `main`.
    public var defaultBranch: String?
    public var baseRef: String?
    public var images: [String]
    /// A platform service whose image (from the spec) is added to `images`.
    public var service: String?
    /// Nil: take the rules of the channel the ref resolves to.
    public var tags: [String]?
    public var flavor: [String]?
    public var labels: [String]
    public var title: String?
    public var description: String?
    public var url: String?
    public var license: String?
    public var shortSHALength: Int
    /// `GITHUB_RUN_NUMBER` / `GITHUB_RUN_ATTEMPT`: a release branch's beta is numbered by the run.
    public var runNumber: UInt64?
    public var runAttempt: UInt64
    /// The repository's tags, for a channel numbered by tag (`{n}`).
    public var existingTags: [String]

    public init(
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
public struct TagPlan: Sendable, Equatable, Encodable {
    public var schema = "unisonctl.release-tags/v1"
    public var channel: String?
    /// The channel's version (`v0.5.0-beta.41`, `v0.5.0-alpha.1`); nil on nightly.
    public var channelVersion: String?
    public var prerelease: Bool
    /// The GitHub release a tag gets (`draft`, `prerelease`, `release`); nil: none.
    public var githubRelease: String?
    public var version: MetadataVersion
    public var tags: [String]
    public var labels: [String]
    public var warnings: [String]

    /// The outputs GitHub Actions steps read, as the action names them.
    public var githubOutputs: [(name: String, value: String)] {
        [
            ("channel", channel ?? ""), ("channel-version", channelVersion ?? ""), ("prerelease", prerelease ? "true" : "false"),
            ("github-release", githubRelease ?? ""), ("version", version.main ?? ""), ("tags", tags.joined(separator: "\n")),
            ("tag-names", tagNames.joined(separator: "\n")), ("labels", labels.joined(separator: "\n")),
            ("annotations", labels.map { "manifest:\($0)" }.joined(separator: "\n")),
        ]
    }

    public var tagNames: [String]

    enum CodingKeys: String, CodingKey { case schema, channel, channelVersion, prerelease, githubRelease, version, tags, labels, warnings }

    public func encode(to encoder: any Encoder) throws {
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

public enum ReleaseTags {
    /// Computes tags and labels. Without `tags`/`flavor` in the request the spec's channel
    /// for the ref supplies them; a ref no channel takes gets the action's defaults.
    public static func plan(_ request: TagRequest, spec: PlatformSpec?) throws -> TagPlan {
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
    public static func defaults(for version: SemVer) -> [String] {
        let tag = version.tagString(forceV: true)
        let full = tag.split(separator: "+").first.map(String.init) ?? tag
        if version.isPrerelease { return [full] }
        return [full] + movingTags(for: version)
    }

    /// The moving tags a release of `version` points: `vX.Y`, `vX`, `latest` (each one
    /// `isMovingTag` accepts).
    public static func movingTags(for version: SemVer) -> [String] {
        ["v\(version.major).\(version.minor)", "v\(version.major)", "latest"]
    }

    /// `latest`, `vX.Y`, `vX`: tags that move to the newest release. (A bare `1.2` is not
    /// counted: a short SHA can be all digits.)
    public static func isMovingTag(_ name: String) -> Bool {
        if name == "latest" { return true }
        guard name.hasPrefix("v") else { return false }
        let parts = name.dropFirst().split(separator: ".", omittingEmptySubsequences: false)
        return (1...2).contains(parts.count) && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isNumber) }
    }

    /// Parses `--date`: ISO 8601 with or without fractional seconds.
    public static func parseDate(_ text: String) throws -> Date {
        let plain = ISO8601DateFormatter()
        if let d = plain.date(from: text) { return d }
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = fractional.date(from: text) { return d }
        throw ReleaseError.invalidDate(text)
    }

    /// "Now" for tags: `--date`, else `SOURCE_DATE_EPOCH` when set, else the clock.
    public static func now(
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
