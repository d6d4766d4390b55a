import Foundation
import UnisonCore
import UnisonSpec

/// Which release channel a git ref publishes to, and the version it carries there.
public struct ChannelResolution: Sendable, Equatable, Codable {
    public var schema = "unisonctl.release-channel/v1"
    public var ref: String
    public var event: String
    /// `nightly`, `beta`, `stable`, …; nil when no channel takes the ref (feature branches,
    /// pull requests): those get the action's default tag rules.
    public var channel: String?
    /// `v0.5.0-beta.3` on a beta branch, the tag itself on a tag; nil on nightly.
    public var version: String?
    public var reason: String
}

/// Maps refs to channels by the spec's `branches` / `tagPattern` / `events` and forms
/// versions with `versionFormat`.
public enum ChannelResolver {
    /// The channel for `ref` (`refs/heads/…`, `refs/tags/…`, `refs/pull/…`) under `event`.
    ///
    /// A branch takes the first channel whose `branches` glob matches it. A tag takes the
    /// channel with the most specific (longest) matching `tagPattern`; a pattern without `-`
    /// accepts only release versions, so `v1.2.3-rc.1` is not stable.
    public static func channel(for ref: String, event: String, channels: [Channel]) -> Channel? {
        let eligible = channels.filter { $0.events.isEmpty || $0.events.contains(event) }
        if ref.hasPrefix("refs/heads/") {
            let branch = String(ref.dropFirst("refs/heads/".count))
            return eligible.first { $0.branches.contains { Glob.matches($0, branch) } }
        }
        if ref.hasPrefix("refs/tags/") {
            let tag = String(ref.dropFirst("refs/tags/".count))
            let isPrerelease = SemVer(tag)?.isPrerelease ?? false
            return eligible.filter { channel in
                guard let pattern = channel.tagPattern, Glob.matches(pattern, tag) else { return false }
                return !(isPrerelease && !pattern.contains("-"))
            }.max { ($0.tagPattern?.count ?? 0) < ($1.tagPattern?.count ?? 0) }
        }
        return nil
    }

    /// Resolves the channel and, for a release branch, the next pre-release version from the
    /// existing `tags` of the repository.
    public static func resolve(ref: String, event: String, channels: [Channel], existingTags: [String]) throws -> ChannelResolution {
        guard ref.hasPrefix("refs/heads/") || ref.hasPrefix("refs/tags/") || ref.hasPrefix("refs/pull/") else {
            throw ReleaseError.invalidRef(ref)
        }
        guard let channel = channel(for: ref, event: event, channels: channels) else {
            let what = ref.hasPrefix("refs/pull/") ? "a pull request" : "a ref no channel lists"
            return ChannelResolution(ref: ref, event: event, channel: nil, version: nil,
                                     reason: "\(what): published with the default rules only (branch name, pr-N)")
        }
        if ref.hasPrefix("refs/tags/") {
            let tag = String(ref.dropFirst("refs/tags/".count))
            return ChannelResolution(ref: ref, event: event, channel: channel.name, version: tag,
                                     reason: "tag matches \(channel.tagPattern ?? "")")
        }
        let branch = String(ref.dropFirst("refs/heads/".count))
        guard let format = channel.versionFormat else {
            return ChannelResolution(ref: ref, event: event, channel: channel.name, version: nil,
                                     reason: "branch \(branch) publishes to \(channel.name)")
        }
        guard let line = releaseLine(branch) else {
            throw ReleaseError.invalidOption(option: "ref", value: ref,
                                             reason: "channel \(channel.name) needs a branch named like release/X.Y to form \(format)")
        }
        let version = nextVersion(format: format, major: line.major, minor: line.minor, existingTags: existingTags)
        return ChannelResolution(ref: ref, event: event, channel: channel.name, version: version.text,
                                 reason: version.previous.map { "one above \($0)" } ?? "first of the \(line.major).\(line.minor) line")
    }

    /// `release/0.5` → (0, 5): the last `X.Y` in the branch name.
    public static func releaseLine(_ branch: String) -> (major: UInt64, minor: UInt64)? {
        guard let regex = try? NSRegularExpression(pattern: "(?:^|[^0-9.])(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)$") else { return nil }
        let ns = branch as NSString
        guard let m = regex.firstMatch(in: branch, range: NSRange(location: 0, length: ns.length)),
              let major = UInt64(ns.substring(with: m.range(at: 1))), let minor = UInt64(ns.substring(with: m.range(at: 2))) else { return nil }
        return (major, minor)
    }

    /// Fills `{major}`, `{minor}`, `{patch}`, `{n}` in a version format.
    public static func render(format: String, major: UInt64, minor: UInt64, patch: UInt64 = 0, n: UInt64) -> String {
        format.replacingOccurrences(of: "{major}", with: String(major))
            .replacingOccurrences(of: "{minor}", with: String(minor))
            .replacingOccurrences(of: "{patch}", with: String(patch))
            .replacingOccurrences(of: "{n}", with: String(n))
    }

    /// N one above the highest existing tag of the same line in that format (1 when none).
    public static func nextVersion(format: String, major: UInt64, minor: UInt64, existingTags: [String]) -> (text: String, previous: String?) {
        var best: (n: UInt64, tag: String)?
        for tag in existingTags {
            guard let v = SemVer(tag), v.major == major, v.minor == minor,
                  case let .numeric(n)? = v.prerelease.last,
                  render(format: format, major: major, minor: minor, patch: v.patch, n: n) == tag else { continue }
            if best == nil || n > best!.n { best = (n, tag) }
        }
        return (render(format: format, major: major, minor: minor, n: (best?.n ?? 0) + 1), best?.tag)
    }
}

/// Shell-style globs for branch and tag patterns: `*` matches within one path segment, `?`
/// one character, `**` across segments.
public enum Glob {
    public static func matches(_ pattern: String, _ text: String) -> Bool {
        matches(Array(pattern), 0, Array(text), 0)
    }

    static func matches(_ p: [Character], _ pi: Int, _ t: [Character], _ ti: Int) -> Bool {
        if pi == p.count { return ti == t.count }
        if p[pi] == "*" {
            let double = pi + 1 < p.count && p[pi + 1] == "*"
            let next = double ? pi + 2 : pi + 1
            var k = ti
            while true {
                if matches(p, next, t, k) { return true }
                guard k < t.count, double || t[k] != "/" else { return false }
                k += 1
            }
        }
        guard ti < t.count else { return false }
        if p[pi] == "?" ? t[ti] != "/" : p[pi] == t[ti] { return matches(p, pi + 1, t, ti + 1) }
        return false
    }
}

extension ChannelResolver {
    /// As `resolve(ref:event:channels:existingTags:)`, reading the tags from `repository` when
    /// the channel numbers its versions (a release branch); other refs do not need a repository.
    public static func resolve(ref: String, event: String, channels: [Channel], repository: GitRepository) throws -> ChannelResolution {
        let needsTags = ref.hasPrefix("refs/heads/") && channel(for: ref, event: event, channels: channels)?.versionFormat != nil
        let tags = needsTags ? try repository.tags().map(\.name) : []
        return try resolve(ref: ref, event: event, channels: channels, existingTags: tags)
    }
}

extension ChannelResolver {
    /// One problem in a channel's rule lines.
    public struct RuleProblem: Sendable, Equatable, CustomStringConvertible {
        public var channel: String
        public var field: String
        public var message: String
        public var description: String { "channel \(channel), \(field): \(message)" }
    }

    /// Parses every channel's `tags:` and `flavor:` lines and evaluates their expressions once
    /// against a sample tag push, so a spec with a rule the engine would refuse can be reported
    /// when the spec is validated rather than when CI first runs it.
    public static func validateRules(_ channels: [Channel]) -> [RuleProblem] {
        var problems: [RuleProblem] = []
        for channel in channels {
            do { _ = try MetadataRule.parseAll(channel.tags) } catch {
                problems.append(RuleProblem(channel: channel.name, field: "tags", message: "\(error)"))
                continue
            }
            do { _ = try MetadataFlavor.parse(channel.flavor) } catch {
                problems.append(RuleProblem(channel: channel.name, field: "flavor", message: "\(error)"))
                continue
            }
            let context = MetadataContext(eventName: "push", ref: "refs/tags/v1.2.3", sha: String(repeating: "0", count: 40),
                                          date: Date(timeIntervalSince1970: 0))
            do {
                _ = try MetadataAction(inputs: MetadataInputs(tags: channel.tags, flavor: channel.flavor), context: context,
                                       repository: MetadataRepository()).evaluate()
            } catch {
                problems.append(RuleProblem(channel: channel.name, field: "tags", message: "\(error)"))
            }
        }
        return problems
    }
}
