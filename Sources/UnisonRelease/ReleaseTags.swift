import Foundation
import UnisonCore
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

    public init(event: String, ref: String, sha: String, date: Date, commitDate: Date? = nil, defaultBranch: String? = nil,
                baseRef: String? = nil, images: [String] = [], service: String? = nil, tags: [String]? = nil,
                flavor: [String]? = nil, labels: [String] = [], title: String? = nil, description: String? = nil,
                url: String? = nil, license: String? = nil, shortSHALength: Int = 7) {
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
    public var version: MetadataVersion
    public var tags: [String]
    public var labels: [String]
    public var warnings: [String]

    /// The outputs GitHub Actions steps read, as the action names them.
    public var githubOutputs: [(name: String, value: String)] {
        [("version", version.main ?? ""), ("tags", tags.joined(separator: "\n")),
         ("tag-names", tagNames.joined(separator: "\n")), ("labels", labels.joined(separator: "\n")),
         ("annotations", labels.map { "manifest:\($0)" }.joined(separator: "\n"))]
    }

    public var tagNames: [String]

    enum CodingKeys: String, CodingKey { case schema, channel, version, tags, labels, warnings }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(schema, forKey: .schema)
        try c.encode(channel, forKey: .channel)
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
        var channelName: String?
        if tags == nil, flavor == nil, let spec,
           let channel = ChannelResolver.channel(for: request.ref, event: request.event, channels: spec.channels) {
            tags = channel.tags
            flavor = channel.flavor
            channelName = channel.name
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
        let defaultBranch = request.defaultBranch ?? spec?.platform.defaultBranch ?? "main"
        let context = MetadataContext(eventName: request.event, ref: request.ref, sha: request.sha, date: request.date,
                                      commitDate: request.commitDate, payloadDefaultBranch: defaultBranch,
                                      baseRef: request.baseRef, pullRequestBaseRef: request.baseRef,
                                      shortSHALength: request.shortSHALength)
        let repository = MetadataRepository(name: repoName ?? "", description: description ?? "", url: url ?? "",
                                            license: request.license ?? "", defaultBranch: defaultBranch)
        let action = try MetadataAction(inputs: MetadataInputs(images: images, tags: tags ?? [], flavor: flavor ?? [],
                                                               labels: request.labels),
                                        context: context, repository: repository)
        let result = try action.evaluate()
        return TagPlan(channel: channelName, version: result.version, tags: result.tags, labels: result.labels,
                       warnings: result.warnings, tagNames: result.tagNames)
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
    public static func now(explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment,
                           clock: any Clock = SystemClock()) throws -> Date {
        if let explicit { return try parseDate(explicit) }
        if environment["SOURCE_DATE_EPOCH"] != nil {
            return Date(timeIntervalSince1970: TimeInterval(SourceDateEpoch.current(environment)))
        }
        return clock.now()
    }
}
