import FoundationEssentials
import UnisonCore
import UnisonMetadataAction
import UnisonSpec

/// Which release channel a git ref publishes to, and the version it carries there.
package struct ChannelResolution: Sendable, Equatable, Codable {
    package var schema = "unisonctl.release-channel/v1"
    package var ref: String
    package var event: String
    /// `alpha`, `nightly`, `beta`, `stable`, …; nil when no channel takes the ref (pull
    /// requests, branches no channel lists): those get the action's default tag rules.
    package var channel: String?
    /// `v0.5.0-beta.41` on a release branch, the release version on a tag (without a target
    /// suffix); nil on nightly.
    package var version: String?
    /// A SemVer pre-release (alpha, beta): never `latest`, `vX.Y` or `vX`.
    package var prerelease: Bool = false
    /// The GitHub release a tag gets (`draft`, `prerelease`, `release`); nil: none.
    package var githubRelease: String?
    /// The image a per-target tag (`v0.5.0-wsl2`) builds: `wsl2`, `linux-vm`, `bare-metal`.
    package var target: String?
    package var reason: String

    package init(
        ref: String, event: String, channel: String?, version: String?, prerelease: Bool = false,
        githubRelease: String? = nil, target: String? = nil, reason: String
    ) {
        self.ref = ref
        self.event = event
        self.channel = channel
        self.version = version
        self.prerelease = prerelease
        self.githubRelease = githubRelease
        self.target = target
        self.reason = reason
    }
}

/// What a CI run tells the resolver beyond the ref: the repository's default branch and the
/// run's number and attempt (`GITHUB_RUN_NUMBER`, `GITHUB_RUN_ATTEMPT`).
package struct RunContext: Sendable, Equatable {
    package var defaultBranch: String
    package var runNumber: UInt64?
    package var runAttempt: UInt64

    package init(defaultBranch: String = "main", runNumber: UInt64? = nil, runAttempt: UInt64 = 1) {
        self.defaultBranch = defaultBranch
        self.runNumber = runNumber
        self.runAttempt = runAttempt
    }
}

/// Maps refs to channels by the spec's `branches` / `tagPattern` / `events` and forms
/// versions with `versionFormat`.
package enum ChannelResolver {
    /// The channel for `ref` (`refs/heads/…`, `refs/tags/…`, `refs/pull/…`) under `event`.
    ///
    /// A branch takes the first channel whose `branches` glob matches it (`{default}` is the
    /// repository's default branch). A tag, less any per-target suffix (`-wsl2`), takes the
    /// channel with the most specific (longest) matching `tagPattern`; a pattern without `-`
    /// accepts only release versions, so `v1.2.3-rc.1` is not stable.
    package static func channel(for ref: String, event: String, channels: [Channel], defaultBranch: String = "main") -> Channel? {
        let eligible = channels.filter { $0.events.isEmpty || $0.events.contains(event) }
        if ref.hasPrefix("refs/heads/") {
            let branch = String(ref.dropFirst("refs/heads/".count))
            return eligible.first { $0.branches.contains { $0 == "{default}" ? branch == defaultBranch : Glob.matches($0, branch) } }
        }
        if ref.hasPrefix("refs/tags/") {
            let tag = ReleaseTarget.split(String(ref.dropFirst("refs/tags/".count))).version
            let isPrerelease = SemVer(tag)?.isPrerelease ?? false
            return eligible.filter { channel in
                guard let pattern = channel.tagPattern, Glob.matches(pattern, tag) else { return false }
                return !(isPrerelease && !pattern.contains("-"))
            }.max { ($0.tagPattern?.count ?? 0) < ($1.tagPattern?.count ?? 0) }
        }
        return nil
    }

    /// Resolves the channel and, for a release branch, the next pre-release version: from the
    /// run number (`{run}`) or one above the highest existing tag of the line (`{n}`).
    package static func resolve(
        ref: String, event: String, channels: [Channel], existingTags: [String],
        run: RunContext = RunContext()
    ) throws -> ChannelResolution {
        guard ref.hasPrefix("refs/heads/") || ref.hasPrefix("refs/tags/") || ref.hasPrefix("refs/pull/") else {
            throw ReleaseError.invalidRef(ref)
        }
        guard let channel = channel(for: ref, event: event, channels: channels, defaultBranch: run.defaultBranch) else {
            let what = ref.hasPrefix("refs/pull/") ? "a pull request" : "a ref no channel lists"
            return ChannelResolution(
                ref: ref, event: event, channel: nil, version: nil,
                reason: "\(what): published with the default rules only (branch name, pr-N)")
        }
        if ref.hasPrefix("refs/tags/") {
            let (tag, target) = ReleaseTarget.split(String(ref.dropFirst("refs/tags/".count)))
            let pre = SemVer(tag)?.isPrerelease ?? false
            return ChannelResolution(
                ref: ref, event: event, channel: channel.name, version: tag, prerelease: pre,
                githubRelease: channel.githubRelease.map { pre && $0 == "release" ? "prerelease" : $0 },
                target: target?.rawValue,
                reason: "tag matches \(channel.tagPattern ?? "")" + (target.map { ", target \($0.rawValue)" } ?? ""))
        }
        let branch = String(ref.dropFirst("refs/heads/".count))
        guard let format = channel.versionFormat else {
            return ChannelResolution(
                ref: ref, event: event, channel: channel.name, version: nil,
                reason: "branch \(branch) publishes to \(channel.name)")
        }
        guard let line = releaseLine(branch) else {
            throw ReleaseError.invalidOption(
                option: "ref", value: ref,
                reason: "channel \(channel.name) needs a branch named like release/X.Y to form \(format)")
        }
        if format.contains("{run}") {
            guard let number = run.runNumber else {
                throw ReleaseError.invalidOption(
                    option: "--run-number", value: "",
                    reason: "channel \(channel.name) numbers its versions by the CI run (\(format)); pass --run-number (GITHUB_RUN_NUMBER)")
            }
            let version = render(format: format, major: line.major, minor: line.minor, n: number)
            return ChannelResolution(
                ref: ref, event: event, channel: channel.name, version: version,
                prerelease: SemVer(version)?.isPrerelease ?? false,
                reason: "run \(number) of branch \(branch)")
        }
        let version = nextVersion(format: format, major: line.major, minor: line.minor, existingTags: existingTags)
        return ChannelResolution(
            ref: ref, event: event, channel: channel.name, version: version.text,
            prerelease: SemVer(version.text)?.isPrerelease ?? false,
            reason: version.previous.map { "one above \($0)" } ?? "first of the \(line.major).\(line.minor) line")
    }

    /// A constant of this file: a typo is a programming error caught by tests.
    static let releaseLinePattern = try! Pattern(#"(?:^|[^0-9.])(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\Z"#)

    /// `release/0.5` → (0, 5): the last `X.Y` in the branch name.
    package static func releaseLine(_ branch: String) -> (major: UInt64, minor: UInt64)? {
        // `\Z` allows one line terminator before the end, as NSRegularExpression's `$` did
        // ("release/0.5\n" is still 0.5).
        guard let m = try? releaseLinePattern.firstMatch(in: branch),
            let major = m[1].flatMap({ UInt64($0) }), let minor = m[2].flatMap({ UInt64($0) })
        else { return nil }
        return (major, minor)
    }

    /// Fills `{major}`, `{minor}`, `{patch}`, `{n}` (or `{run}`) in a version format.
    package static func render(format: String, major: UInt64, minor: UInt64, patch: UInt64 = 0, n: UInt64) -> String {
        format.replacing("{major}", with: String(major))
            .replacing("{minor}", with: String(minor))
            .replacing("{patch}", with: String(patch))
            .replacing("{n}", with: String(n))
            .replacing("{run}", with: String(n))
    }

    /// N one above the highest existing tag of the same line in that format (1 when none).
    package static func nextVersion(format: String, major: UInt64, minor: UInt64, existingTags: [String]) -> (text: String, previous: String?) {
        var best: (n: UInt64, tag: String)?
        for tag in existingTags {
            guard let v = SemVer(tag), v.major == major, v.minor == minor,
                case let .numeric(n)? = v.prerelease.last,
                render(format: format, major: major, minor: minor, patch: v.patch, n: n) == tag
            else { continue }
            if best == nil || n > best!.n { best = (n, tag) }
        }
        return (render(format: format, major: major, minor: minor, n: (best?.n ?? 0) + 1), best?.tag)
    }
}

/// Shell-style globs for branch and tag patterns: `*` matches within one path segment, `?`
/// one character, `**` across segments.
package enum Glob {
    package static func matches(_ pattern: String, _ text: String) -> Bool {
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
    /// As `resolve(ref:event:channels:existingTags:run:)`, reading the tags from `repository`
    /// when the channel numbers its versions by tag (`{n}`); other refs need no repository.
    package static func resolve(
        ref: String, event: String, channels: [Channel], repository: GitRepository,
        run: RunContext = RunContext()
    ) throws -> ChannelResolution {
        let format =
            ref.hasPrefix("refs/heads/")
            ? channel(for: ref, event: event, channels: channels, defaultBranch: run.defaultBranch)?.versionFormat : nil
        let tags = format?.contains("{n}") == true ? try repository.tags().map(\.name) : []
        return try resolve(ref: ref, event: event, channels: channels, existingTags: tags, run: run)
    }
}

extension ChannelResolver {
    /// One problem in a channel's rule lines.
    package struct RuleProblem: Sendable, Equatable, CustomStringConvertible {
        package var channel: String
        package var field: String
        package var message: String
        package var description: String { "channel \(channel), \(field): \(message)" }
    }

    /// Parses every channel's `tags:` and `flavor:` lines and evaluates their expressions once
    /// against a sample tag push, so a spec with a rule the engine would refuse can be reported
    /// when the spec is validated rather than when CI first runs it.
    package static func validateRules(_ channels: [Channel]) -> [RuleProblem] {
        var problems: [RuleProblem] = []
        for var channel in channels {
            channel.tags = channel.tags.map(ChannelVariables.sample)
            do { _ = try MetadataRule.parseAll(channel.tags) } catch {
                problems.append(RuleProblem(channel: channel.name, field: "tags", message: "\(error)"))
                continue
            }
            do { _ = try MetadataFlavor.parse(channel.flavor) } catch {
                problems.append(RuleProblem(channel: channel.name, field: "flavor", message: "\(error)"))
                continue
            }
            let context = MetadataContext(
                eventName: "push", ref: "refs/tags/v1.2.3", sha: String(repeating: "0", count: 40),
                date: Date(timeIntervalSince1970: 0))
            do {
                _ = try MetadataAction(
                    inputs: MetadataInputs(tags: channel.tags, flavor: channel.flavor), context: context,
                    repository: MetadataRepository()
                ).evaluate()
            } catch {
                problems.append(RuleProblem(channel: channel.name, field: "tags", message: "\(error)"))
            }
        }
        return problems
    }
}
