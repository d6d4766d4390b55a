import Testing
import UnisonCore
import UnisonTestSupport

@testable import UnisonRelease

/// Conventional Commits 1.0.0 parsing and the bump each commit asks for.
@Suite(.tags(.unit))
struct ConventionalCommitTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var message: String
        var type: String?
        var scope: String? = nil
        var breaking = false
        var bump = VersionBump.none
        var releaseAs: String? = nil
        var testDescription: String { message.split(separator: "\n").first.map(String.init) ?? "" }
    }

    static let cases: [Case] = [
        Case(message: "feat: add intents API", type: "feat", bump: .minor),
        Case(message: "feat(api): add intents API", type: "feat", scope: "api", bump: .minor),
        Case(message: "fix: handle empty body", type: "fix", bump: .patch),
        Case(message: "perf(cache): skip a copy", type: "perf", scope: "cache", bump: .patch),
        Case(message: "revert: feat: add intents API", type: "revert", bump: .patch),
        Case(message: "FIX: upper-case type", type: "fix", bump: .patch),
        Case(message: "chore: bump deps", type: "chore"),
        Case(message: "docs: explain channels", type: "docs"),
        Case(message: "ci: cache builds", type: "ci"),
        Case(message: "test: more cases", type: "test"),
        Case(message: "refactor!: drop the v1 API", type: "refactor", breaking: true, bump: .major),
        Case(message: "feat(auth)!: tokens are JWT only", type: "feat", scope: "auth", breaking: true, bump: .major),
        Case(message: "feat: new config\n\nBREAKING CHANGE: `extends` is gone", type: "feat", breaking: true, bump: .major),
        Case(message: "fix: x\n\nSome body.\n\nBREAKING-CHANGE: renamed", type: "fix", breaking: true, bump: .major),
        Case(message: "chore: release 1.0\n\nRelease-As: 1.0.0", type: "chore", releaseAs: "1.0.0"),
        Case(message: "fix: y\n\nrelease-as: v2.0.0\nRefs: #12", type: "fix", bump: .patch, releaseAs: "v2.0.0"),
        // Not conventional: no release decision.
        Case(message: "Update README.md", type: nil),
        Case(message: "feat:missing space", type: nil),
        Case(message: "feat(): empty scope", type: nil),
        Case(message: "feat: ", type: nil),
        Case(message: "Merge branch 'main' into dev", type: nil),
        // "breaking change" in lower case is not a footer token; mentioned in the body it means nothing.
        Case(message: "fix: z\n\nbreaking change: not really", type: "fix", bump: .patch),
        Case(message: "feat: a\n\nThe body mentions BREAKING CHANGE: inline, not as a footer paragraph start", type: "feat", bump: .minor),
    ]

    @Test(arguments: cases)
    func parsesAndBumps(_ c: Case) {
        let parsed = ConventionalCommit(message: c.message)
        #expect(parsed?.type == c.type)
        guard let parsed else { return }
        #expect(parsed.scope == c.scope)
        #expect(parsed.isBreaking == c.breaking)
        #expect(BumpRules().bump(for: parsed) == c.bump)
        #expect(parsed.releaseAs?.text == c.releaseAs)
    }

    @Test func footersAndBodyAreSeparated() throws {
        let c = try #require(
            ConventionalCommit(
                message: """
                    feat(api): allow provider-specific config

                    The body explains it,
                    over two lines.

                    Reviewed-by: Z
                    Refs #133
                    BREAKING CHANGE: the `provider` key
                      moved under `inference`
                    """))
        #expect(c.body == "The body explains it,\nover two lines.")
        #expect(c.footers.map(\.token) == ["Reviewed-by", "Refs", "BREAKING CHANGE"])
        #expect(c.footers[1].value == "133")
        #expect(c.breakingNote == "the `provider` key\n  moved under `inference`")
    }

    static func commit(_ message: String, _ n: Int) -> GitCommit {
        GitCommit(sha: String(repeating: String(n % 10), count: 40), author: "t", date: "2024-01-01T00:00:00Z", message: message)
    }

    /// (previous, commits newest first, bumpMinorPreMajor, expected next or nil, expected bump)
    @Test(
        arguments: [
            ("v1.2.3", ["fix: a", "chore: b"], true, "v1.2.4", VersionBump.patch),
            ("v1.2.3", ["fix: a", "feat: b", "docs: c"], true, "v1.3.0", .minor),
            ("v1.2.3", ["fix: a", "feat!: b"], true, "v2.0.0", .major),
            ("v0.4.2", ["feat!: b"], true, "v0.5.0", .minor),
            ("v0.4.2", ["feat!: b"], false, "v1.0.0", .major),
            ("v0.4.2", ["fix: a\n\nBREAKING CHANGE: x"], true, "v0.5.0", .minor),
            ("v0.4.2", ["feat: a"], true, "v0.5.0", .minor),
            ("v1.2.3", ["chore: a", "ci: b", "test: c", "docs: d"], true, nil, .none),
            ("v1.2.3", ["Random message"], true, nil, .none),
            ("v1.2.3", [], true, nil, .none),
            ("1.2.3", ["fix: no v"], true, "1.2.4", .patch),
            ("v1.2.3", ["chore: release\n\nRelease-As: 3.0.0", "feat: x"], true, "v3.0.0", .minor),
            ("v1.2.3", ["chore: newest\n\nRelease-As: 1.5.0", "chore: older\n\nRelease-As: 9.9.9"], true, "v1.5.0", .none),
        ] as [(String, [String], Bool, String?, VersionBump)])
    func nextVersionFromCommits(_ previous: String, _ messages: [String], _ bmpm: Bool, _ expected: String?, _ bump: VersionBump) throws {
        let commits = messages.enumerated().map { Self.commit($1, $0) }
        let next = VersionCalculator.next(
            previous: SemVer(previous), previousTag: previous, commits: commits,
            rules: BumpRules(bumpMinorPreMajor: bmpm))
        #expect(next.next?.tagString() == expected)
        #expect(next.bump == bump)
        #expect(next.commits.count == messages.count)
        if expected != nil { #expect(!next.deciding.isEmpty) }
    }

    @Test func firstReleaseStartsAtZeroOne() {
        let next = VersionCalculator.next(previous: nil, previousTag: nil, commits: [Self.commit("feat: first", 1)], rules: BumpRules())
        #expect(next.next?.tagString() == "v0.1.0")
        let none = VersionCalculator.next(previous: nil, previousTag: nil, commits: [Self.commit("chore: init", 1)], rules: BumpRules())
        #expect(none.next == nil)
    }

    @Test func decidingCommitsAreTheStrongest() {
        let commits = [Self.commit("fix: a", 1), Self.commit("feat: b", 2), Self.commit("feat(x): c", 3)]
        let next = VersionCalculator.next(previous: SemVer("v1.0.0"), previousTag: "v1.0.0", commits: commits, rules: BumpRules())
        #expect(next.deciding == [commits[1].sha, commits[2].sha])
    }
}
