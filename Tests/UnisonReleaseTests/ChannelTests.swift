import Foundation
import Testing
import UnisonCore
import UnisonSpec
import UnisonTestSupport

@testable import UnisonRelease

/// Which channel a ref publishes to, the beta numbering, and the UnisonOS tags each channel gives.
@Suite(.tags(.interop))
struct ChannelTests {
    @Test(
        arguments: [
            ("refs/heads/main", "push", "main", "nightly"),
            ("refs/heads/main", "schedule", "main", "nightly"),
            ("refs/heads/main", "workflow_dispatch", "main", "nightly"),
            ("refs/heads/master", "push", "master", "nightly"),
            // unison-platform's default is master; its stale main branch is no nightly.
            ("refs/heads/main", "push", "master", nil),
            ("refs/heads/release/0.5", "push", "main", "beta"),
            ("refs/tags/v0.5.0-beta.3", "push", "main", "beta"),
            ("refs/tags/v0.5.0-alpha.1", "push", "master", "alpha"),
            ("refs/tags/v0.5.0-alpha.1", "workflow_dispatch", "master", "alpha"),
            ("refs/tags/v0.5.0", "push", "main", "stable"),
            ("refs/tags/v0.5.0-wsl2", "push", "main", "stable"),
            ("refs/tags/v0.5.0-bare-metal", "push", "main", "stable"),
            ("refs/tags/v1.2.3", "push", "main", "stable"),
            ("refs/tags/v1.2.3-rc.1", "push", "main", nil),
            ("refs/tags/v0.0.0-test-vm", "push", "main", nil),
            ("refs/tags/sometag", "push", "main", nil),
            ("refs/heads/feature/x", "push", "main", "feature"),
            ("refs/heads/hotfix/0.5.1", "push", "main", "feature"),
            ("refs/heads/release/0.5/hotfix", "push", "main", nil),
            ("refs/pull/7/merge", "pull_request", "main", nil),
            ("refs/heads/main", "pull_request", "main", nil),
        ] as [(String, String, String, String?)])
    func channelOfARef(_ ref: String, _ event: String, _ defaultBranch: String, _ expected: String?) throws {
        let spec = try TestSpec.load()
        #expect(ChannelResolver.channel(for: ref, event: event, channels: spec.channels, defaultBranch: defaultBranch)?.name == expected)
    }

    /// The beta of a release branch is numbered by the CI run, as the real reusable build does.
    @Test(arguments: [(UInt64(1), "v0.5.0-beta.1"), (41, "v0.5.0-beta.41"), (1234, "v0.5.0-beta.1234")])
    func betaNumberedByTheRun(_ run: UInt64, _ expected: String) throws {
        let spec = try TestSpec.load()
        let r = try ChannelResolver.resolve(
            ref: "refs/heads/release/0.5", event: "push", channels: spec.channels, existingTags: [],
            run: RunContext(runNumber: run))
        #expect(r.channel == "beta")
        #expect(r.version == expected)
        #expect(r.prerelease)
    }

    @Test func aBetaBranchWithoutARunNumberIsAnError() throws {
        let spec = try TestSpec.load()
        #expect(throws: ReleaseError.self) {
            try ChannelResolver.resolve(ref: "refs/heads/release/0.5", event: "push", channels: spec.channels, existingTags: [])
        }
    }

    /// A spec may still number betas by tag (`{n}`): one above the highest of the line.
    @Test(arguments: [
        ([], "v0.5.0-beta.1"),
        (["v0.5.0-beta.1", "v0.5.0-beta.2"], "v0.5.0-beta.3"),
        (["v0.5.0-beta.9", "v0.5.0-beta.10", "v0.5.0-beta.2"], "v0.5.0-beta.11"),
        (["v0.4.0-beta.7", "v0.6.0-beta.3", "v0.5.0", "v0.5.0-rc.4", "0.5.0-beta.8"], "v0.5.0-beta.1"),
    ])
    func betaNumberingByTag(_ tags: [String], _ expected: String) throws {
        let spec = try SpecLoader.load(text: TestSpec.yaml.replacingOccurrences(of: "-beta.{run}", with: "-beta.{n}"))
        let r = try ChannelResolver.resolve(ref: "refs/heads/release/0.5", event: "push", channels: spec.channels, existingTags: tags)
        #expect(r.channel == "beta")
        #expect(r.version == expected)
    }

    @Test func betaNumberingReadsRealTags() throws {
        let tmp = try TempDir()
        let repo = try TestRepo.create(at: tmp.path("svc"))
        try repo.commit("feat: one")
        try repo.tag("v0.5.0-beta.1")
        try repo.commit("fix: two")
        try repo.tag("v0.5.0-beta.2", annotated: true)
        let spec = try SpecLoader.load(text: TestSpec.yaml.replacingOccurrences(of: "-beta.{run}", with: "-beta.{n}"))
        let r = try ChannelResolver.resolve(ref: "refs/heads/release/0.5", event: "push", channels: spec.channels, repository: repo.repository)
        #expect(r.version == "v0.5.0-beta.3")
        #expect(r.reason.contains("v0.5.0-beta.2"))
    }

    @Test func aReleaseBranchNeedsAVersionLine() throws {
        let spec = try TestSpec.load()
        #expect(throws: ReleaseError.self) {
            try ChannelResolver.resolve(
                ref: "refs/heads/release/next", event: "push", channels: spec.channels, existingTags: [],
                run: RunContext(runNumber: 3))
        }
        #expect(throws: ReleaseError.self) {
            try ChannelResolver.resolve(ref: "main", event: "push", channels: spec.channels, existingTags: [])
        }
    }

    /// `v0.5.0-alpha.1`, the project's only real release, is an alpha: a draft pre-release.
    @Test func theRealAlphaIsAnAlpha() throws {
        let r = try ChannelResolver.resolve(
            ref: "refs/tags/v0.5.0-alpha.1", event: "push", channels: TestSpec.load().channels,
            existingTags: [], run: RunContext(defaultBranch: "master"))
        #expect(r.channel == "alpha")
        #expect(r.version == "v0.5.0-alpha.1")
        #expect(r.prerelease)
        #expect(r.githubRelease == "draft")
        #expect(r.target == nil)
        let targets = TargetTagPlan.plan(version: "v0.5.0-alpha.1", channel: r.channel)
        #expect(targets.bundle)
        #expect(targets.targets.allSatisfy { $0.tag == "v0.5.0-alpha.1" && $0.rolling == nil })
    }

    @Test func aPerTargetTagResolvesToItsTarget() throws {
        let r = try ChannelResolver.resolve(ref: "refs/tags/v0.5.0-linux-vm", event: "push", channels: TestSpec.load().channels, existingTags: [])
        #expect(r.channel == "stable")
        #expect(r.version == "v0.5.0")
        #expect(r.target == "linux-vm")
        #expect(r.githubRelease == "release")
        #expect(!r.prerelease)
    }

    static let sha = "0123456789abcdef0123456789abcdef01234567"
    static let date = Date(timeIntervalSince1970: 1_578_616_200)

    /// Facts: what unison-platform's `.github/workflows/reusable-build.yml` (the "Derive version
    /// and tags" step) publishes for each ref, on 2020-01-10 for commit 0123456. Ours must give
    /// the same set, except where the project's policy or the roadmap says otherwise: `added`
    /// and `dropped` name each difference (docs/release-and-branching.md gives the reasons).
    struct RealCase: Sendable, CustomStringConvertible {
        var ref: String
        var defaultBranch = "main"
        var run: UInt64? = nil
        var attempt: UInt64 = 1
        var real: [String]
        var channel: String?
        var added: [String] = []
        var dropped: [String] = []
        var description: String { ref }
    }

    static let realCases: [RealCase] = [
        RealCase(
            ref: "refs/heads/main", real: ["edge-main-20200110", "main-0123456", "0123456"], channel: "nightly",
            added: ["edge-main"]),
        RealCase(
            ref: "refs/heads/master", defaultBranch: "master", real: ["edge-master-20200110", "master-0123456", "0123456"],
            channel: "nightly", added: ["edge-main"]),
        RealCase(
            ref: "refs/heads/release/0.5", run: 41, attempt: 2,
            real: ["v0.5.0-beta.41", "v0.5.0-beta.41-run2", "0123456"], channel: "beta"),
        RealCase(ref: "refs/heads/release/1.2", run: 7, real: ["v1.2.0-beta.7", "v1.2.0-beta.7-run1", "0123456"], channel: "beta"),
        RealCase(ref: "refs/tags/v1.4.2", real: ["v1.4.2", "latest", "v1.4", "v1", "0123456"], channel: "stable"),
        // The real workflow treats every v* tag as stable: a pre-release gets latest, vX.Y, vX.
        RealCase(
            ref: "refs/tags/v0.5.0-alpha.1", defaultBranch: "master",
            real: ["v0.5.0-alpha.1", "latest", "v0.5", "v0", "0123456"], channel: "alpha", dropped: ["latest", "v0.5", "v0"]),
        RealCase(
            ref: "refs/tags/v0.5.0-beta.3", real: ["v0.5.0-beta.3", "latest", "v0.5", "v0", "0123456"], channel: "beta",
            dropped: ["latest", "v0.5", "v0"]),
        // A feature branch is not nightly: no dated edge tag.
        RealCase(
            ref: "refs/heads/feature/x", real: ["edge-feature-x-20200110", "feature-x-0123456", "0123456"], channel: "feature",
            dropped: ["edge-feature-x-20200110"]),
        RealCase(
            ref: "refs/heads/hotfix/0.5.1", real: ["edge-hotfix-0.5.1-20200110", "hotfix-0.5.1-0123456", "0123456"],
            channel: "feature", dropped: ["edge-hotfix-0.5.1-20200110"]),
    ]

    @Test(arguments: realCases)
    func tagsAgainstTheRealReusableBuild(_ c: RealCase) throws {
        let plan = try ReleaseTags.plan(
            TagRequest(
                event: "push", ref: c.ref, sha: Self.sha, date: Self.date, defaultBranch: c.defaultBranch,
                service: "auth", runNumber: c.run, runAttempt: c.attempt), spec: TestSpec.load())
        #expect(plan.channel == c.channel)
        let expected = Set(c.real).subtracting(c.dropped).union(c.added)
        #expect(Set(plan.tagNames) == expected)
        #expect(plan.tagNames.count == expected.count)
        #expect(plan.tags.allSatisfy { $0.hasPrefix("ghcr.io/project-unisonos/unison-auth:") })
        #expect(plan.labels.contains("org.opencontainers.image.title=unison-auth"))
        #expect(plan.labels.contains("org.opencontainers.image.source=https://github.com/project-unisonos/unison-auth"))
        if plan.prerelease { #expect(!plan.tagNames.contains { ReleaseTags.isMovingTag($0) }) }
    }

    @Test func aPullRequestGetsTheDefaultRules() throws {
        let plan = try ReleaseTags.plan(
            TagRequest(event: "pull_request", ref: "refs/pull/7/merge", sha: Self.sha, date: Self.date, service: "auth"),
            spec: TestSpec.load())
        #expect(plan.channel == nil)
        #expect(plan.tagNames == ["pr-7"])
    }

    /// Even a spec whose pre-release rules ask for latest (as the real workflow's do) does not get it.
    @Test func aPreReleaseNeverGetsMovingTags() throws {
        var yaml = TestSpec.yaml
        let item = "      - \"type=raw,value={channel.version}\"\n"
        let at = try #require(yaml.range(of: item))
        yaml.insert(contentsOf: ["latest", "v0.5", "v0"].map { "      - \"type=raw,value=\($0)\"\n" }.joined(), at: at.upperBound)
        let flavor = try #require(yaml.range(of: "flavor: [\"latest=false\"]"))
        yaml.replaceSubrange(flavor, with: "flavor: [\"latest=true\"]")
        let spec = try SpecLoader.load(text: yaml)
        #expect(spec.channel(named: "alpha")?.tags.count == 5)
        let plan = try ReleaseTags.plan(
            TagRequest(
                event: "push", ref: "refs/tags/v0.5.0-alpha.1", sha: Self.sha, date: Self.date,
                images: ["ghcr.io/x/y"]), spec: spec)
        #expect(plan.tagNames == ["v0.5.0-alpha.1", "0123456"])
        #expect(!plan.version.latest)
        #expect(plan.warnings.contains { $0.contains("dropped latest, v0.5, v0") })
    }

    @Test(
        arguments: [
            ("v0.5.0-wsl2", "v0.5.0", "wsl2"), ("v0.5.0-wsl", "v0.5.0", "wsl2"), ("v0.5.0-linux-vm", "v0.5.0", "linux-vm"),
            ("v0.5.0-vm", "v0.5.0", "linux-vm"), ("v0.5.0-bare-metal", "v0.5.0", "bare-metal"), ("v0.5.0-metal", "v0.5.0", "bare-metal"),
            ("v0.5.0-baremetal", "v0.5.0", "bare-metal"), ("v0.0.0-test-wsl", "v0.0.0-test", "wsl2"),
            ("v0.5.0-alpha.1", "v0.5.0-alpha.1", nil), ("v0.5.0", "v0.5.0", nil), ("v0.5.0-beta.2", "v0.5.0-beta.2", nil),
        ] as [(String, String, String?)])
    func targetSuffixes(_ tag: String, _ version: String, _ target: String?) {
        let split = ReleaseTarget.split(tag)
        #expect(split.version == version)
        #expect(split.target?.rawValue == target)
    }

    @Test func perTargetAndRollingTags() {
        let stable = TargetTagPlan.plan(version: "v0.5.0", channel: "stable")
        #expect(!stable.bundle)
        #expect(stable.targets.map(\.tag) == ["v0.5.0-wsl2", "v0.5.0-linux-vm", "v0.5.0-bare-metal"])
        #expect(stable.targets.map(\.rolling) == ["latest-wsl", "latest-linux-vm", "latest-bare-metal"])
        #expect(stable.targets[2].assets == ["unisonos-baremetal-v0.5.0.iso"])
        #expect(stable.targets[0].assets == ["unisonos-wsl2-v0.5.0.tar.gz", "unisonos-wsl2-v0.5.0.wsl"])
        #expect(stable.targets[1].assets == ["unisonos-linux-vm-v0.5.0.qcow2", "unisonos-linux-vm-v0.5.0.vmdk"])
        let beta = TargetTagPlan.plan(version: "v0.5.0-beta.3", channel: "beta")
        #expect(beta.targets.map(\.tag) == ["v0.5.0-beta.3-wsl2", "v0.5.0-beta.3-linux-vm", "v0.5.0-beta.3-bare-metal"])
        #expect(beta.targets.allSatisfy { $0.rolling == nil })
    }

    @Test func explicitRulesReplaceTheChannel() throws {
        let plan = try ReleaseTags.plan(
            TagRequest(
                event: "push", ref: "refs/tags/v1.2.3", sha: Self.sha, date: Self.date,
                images: ["ghcr.io/x/y"], tags: ["type=semver,pattern={{version}}"], flavor: []),
            spec: TestSpec.load())
        #expect(plan.channel == nil)
        #expect(plan.tags == ["ghcr.io/x/y:1.2.3", "ghcr.io/x/y:latest"])
    }

    @Test func globs() {
        #expect(Glob.matches("main", "main"))
        #expect(!Glob.matches("main", "mainline"))
        #expect(Glob.matches("release/*", "release/0.5"))
        #expect(!Glob.matches("release/*", "release/0.5/x"))
        #expect(Glob.matches("release/**", "release/0.5/x"))
        #expect(Glob.matches("v*.*.*", "v1.2.3"))
        #expect(Glob.matches("v?.?", "v1.2"))
        #expect(!Glob.matches("v*.*.*", "v1.2"))
    }
}

@Suite(.tags(.unit))
struct ChannelRuleValidationTests {
    @Test func theTestSpecsRulesAreValid() throws {
        #expect(ChannelResolver.validateRules(try TestSpec.load().channels).isEmpty)
    }

    @Test func aBrokenRuleIsReportedWithItsChannel() throws {
        let yaml = TestSpec.yaml.replacingOccurrences(
            of: "\"type=raw,value={channel.version}-run{run.attempt},enable={ref.is_branch}\"",
            with: "\"type=raw,value={channel.version},enable=maybe\""
        )
        .replacingOccurrences(of: "flavor: [\"latest=auto\"]", with: "flavor: [\"latest=sometimes\"]")
        let problems = ChannelResolver.validateRules(try SpecLoader.load(text: yaml).channels)
        #expect(problems.map(\.channel) == ["beta", "stable"])
        #expect(problems[0].message.contains("enable must evaluate to true or false"))
        #expect(problems[1].field == "flavor")
    }

    @Test(
        "release tags: short tags and latest for a release, only the full tag for a pre-release",
        arguments: [
            ("v1.2.3", ["v1.2.3", "v1.2", "v1", "latest"]),
            ("0.5.0", ["v0.5.0", "v0.5", "v0", "latest"]),
            ("v0.6.0-beta.1", ["v0.6.0-beta.1"]),
            ("v2.0.0+build.7", ["v2.0.0", "v2.0", "v2", "latest"]),
        ])
    func releaseTags(version: String, tags: [String]) throws {
        #expect(ReleaseTags.defaults(for: try #require(SemVer(version))) == tags)
        // One policy: the tags a release adds past its own are exactly the moving ones.
        #expect(ReleaseTags.defaults(for: try #require(SemVer(version))).dropFirst().allSatisfy(ReleaseTags.isMovingTag))
    }
}
