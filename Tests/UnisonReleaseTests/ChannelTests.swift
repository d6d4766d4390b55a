import Foundation
import Testing
import UnisonCore
import UnisonSpec
@testable import UnisonRelease

/// Which channel a ref publishes to, the beta numbering, and the UnisonOS tags each channel gives.
@Suite(.tags(.interop))
struct ChannelTests {
    @Test(arguments: [
        ("refs/heads/main", "push", "nightly"),
        ("refs/heads/main", "schedule", "nightly"),
        ("refs/heads/main", "workflow_dispatch", "nightly"),
        ("refs/heads/release/0.5", "push", "beta"),
        ("refs/tags/v0.5.0-beta.3", "push", "beta"),
        ("refs/tags/v0.5.0", "push", "stable"),
        ("refs/tags/v1.2.3", "push", "stable"),
        ("refs/tags/v1.2.3-rc.1", "push", nil),
        ("refs/tags/sometag", "push", nil),
        ("refs/heads/feature/x", "push", nil),
        ("refs/heads/release/0.5/hotfix", "push", nil),
        ("refs/pull/7/merge", "pull_request", nil),
        ("refs/heads/main", "pull_request", nil),
    ] as [(String, String, String?)])
    func channelOfARef(_ ref: String, _ event: String, _ expected: String?) throws {
        let spec = try TestSpec.load()
        #expect(ChannelResolver.channel(for: ref, event: event, channels: spec.channels)?.name == expected)
    }

    @Test(arguments: [
        ([], "v0.5.0-beta.1"),
        (["v0.5.0-beta.1", "v0.5.0-beta.2"], "v0.5.0-beta.3"),
        (["v0.5.0-beta.9", "v0.5.0-beta.10", "v0.5.0-beta.2"], "v0.5.0-beta.11"),
        (["v0.4.0-beta.7", "v0.6.0-beta.3", "v0.5.0", "v0.5.0-rc.4", "0.5.0-beta.8"], "v0.5.0-beta.1"),
    ])
    func betaNumbering(_ tags: [String], _ expected: String) throws {
        let spec = try TestSpec.load()
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
        let spec = try TestSpec.load()
        let r = try ChannelResolver.resolve(ref: "refs/heads/release/0.5", event: "push", channels: spec.channels, repository: repo.repository)
        #expect(r.version == "v0.5.0-beta.3")
        #expect(r.reason.contains("v0.5.0-beta.2"))
    }

    @Test func aReleaseBranchNeedsAVersionLine() throws {
        let spec = try TestSpec.load()
        #expect(throws: ReleaseError.self) {
            try ChannelResolver.resolve(ref: "refs/heads/release/next", event: "push", channels: spec.channels, existingTags: [])
        }
        #expect(throws: ReleaseError.self) {
            try ChannelResolver.resolve(ref: "main", event: "push", channels: spec.channels, existingTags: [])
        }
    }

    static let sha = "0123456789abcdef0123456789abcdef01234567"
    static let date = Date(timeIntervalSince1970: 1_578_616_200)

    /// The UnisonOS policy comes out of the spec's rules, not code.
    @Test(arguments: [
        ("push", "refs/heads/main", "nightly", ["edge-main", "edge-main-20200110", "sha-0123456"]),
        ("schedule", "refs/heads/main", "nightly", ["edge-main", "edge-main-20200110", "sha-0123456"]),
        ("push", "refs/heads/release/0.5", "beta", ["sha-0123456"]),
        ("push", "refs/tags/v0.5.0-beta.3", "beta", ["v0.5.0-beta.3", "sha-0123456"]),
        ("push", "refs/tags/v1.4.2", "stable", ["v1.4.2", "v1.4", "v1", "sha-0123456", "latest"]),
        ("push", "refs/heads/feature/x", nil, ["feature-x"]),
        ("pull_request", "refs/pull/7/merge", nil, ["pr-7"]),
    ] as [(String, String, String?, [String])])
    func unisonPolicyTags(_ event: String, _ ref: String, _ channel: String?, _ tags: [String]) throws {
        let plan = try ReleaseTags.plan(TagRequest(event: event, ref: ref, sha: Self.sha, date: Self.date, service: "auth"), spec: TestSpec.load())
        #expect(plan.channel == channel)
        #expect(plan.tags == tags.map { "ghcr.io/project-unisonos/unison-auth:\($0)" })
        #expect(plan.labels.contains("org.opencontainers.image.title=unison-auth"))
        #expect(plan.labels.contains("org.opencontainers.image.source=https://github.com/project-unisonos/unison-auth"))
    }

    @Test func explicitRulesReplaceTheChannel() throws {
        let plan = try ReleaseTags.plan(TagRequest(event: "push", ref: "refs/tags/v1.2.3", sha: Self.sha, date: Self.date,
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
        let yaml = TestSpec.yaml.replacingOccurrences(of: "\"type=semver,pattern={{raw}}\"", with: "\"type=semver,pattern={{raw}},enable=maybe\"")
            .replacingOccurrences(of: "flavor: [\"latest=auto\"]", with: "flavor: [\"latest=sometimes\"]")
        let problems = ChannelResolver.validateRules(try SpecLoader.load(text: yaml).channels)
        #expect(problems.map(\.channel) == ["beta", "stable"])
        #expect(problems[0].message.contains("enable must evaluate to true or false"))
        #expect(problems[1].field == "flavor")
    }
}
