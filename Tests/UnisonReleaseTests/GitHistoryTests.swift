import Foundation
import Testing
import UnisonCore
import UnisonTestSupport

@testable import UnisonRelease

/// Next versions read from real git repositories made by the test.
@Suite(.tags(.interop))
struct GitHistoryTests {
    struct Scenario: CustomTestStringConvertible, Sendable {
        var name: String
        /// `commit:<message>`, `tag:<name>`, `atag:<name>` (annotated), `branch:<name>`, `checkout:<name>`
        var steps: [String]
        var bumpMinorPreMajor = true
        var previous: String?
        var next: String?
        var commits: Int
        var testDescription: String { name }
    }

    static let scenarios: [Scenario] = [
        Scenario(
            name: "feature after a release", steps: ["commit:feat: a", "tag:v1.2.3", "commit:fix: b", "commit:feat(api): c"],
            previous: "v1.2.3", next: "v1.3.0", commits: 2),
        Scenario(
            name: "fixes only", steps: ["commit:feat: a", "atag:v1.2.3", "commit:fix: b", "commit:perf: c", "commit:docs: d"],
            previous: "v1.2.3", next: "v1.2.4", commits: 3),
        Scenario(
            name: "breaking below 1.0 bumps minor", steps: ["commit:feat: a", "tag:v0.4.1", "commit:feat!: drop v1"],
            previous: "v0.4.1", next: "v0.5.0", commits: 1),
        Scenario(
            name: "breaking below 1.0 without bumpMinorPreMajor",
            steps: [
                "commit:feat: a", "tag:v0.4.1",
                "commit:fix: x\n\nBREAKING CHANGE: renamed",
            ], bumpMinorPreMajor: false, previous: "v0.4.1", next: "v1.0.0", commits: 1),
        Scenario(
            name: "breaking footer after 1.0", steps: ["commit:feat: a", "tag:v1.0.0", "commit:fix: x\n\nBREAKING-CHANGE: gone"],
            previous: "v1.0.0", next: "v2.0.0", commits: 1),
        Scenario(
            name: "chores alone: no release", steps: ["commit:feat: a", "tag:v1.0.0", "commit:chore: deps", "commit:ci: cache"],
            previous: "v1.0.0", next: nil, commits: 2),
        Scenario(name: "nothing since the tag", steps: ["commit:feat: a", "tag:v1.0.0"], previous: "v1.0.0", next: nil, commits: 0),
        Scenario(
            name: "Release-As forces the version", steps: ["commit:feat: a", "tag:v1.0.0", "commit:chore: go\n\nRelease-As: 2.0.0"],
            previous: "v1.0.0", next: "v2.0.0", commits: 1),
        Scenario(name: "first release", steps: ["commit:chore: init", "commit:feat: first"], previous: nil, next: "v0.1.0", commits: 2),
        Scenario(
            name: "pre-release tags are not a base",
            steps: [
                "commit:feat: a", "tag:v1.0.0", "commit:feat: b", "tag:v1.1.0-beta.1",
                "commit:fix: c",
            ], previous: "v1.0.0", next: "v1.1.0", commits: 2),
        Scenario(
            name: "the highest release wins, not the newest tag name",
            steps: [
                "commit:feat: a", "tag:v1.9.0", "commit:fix: b",
                "tag:v1.10.0", "commit:fix: c",
            ], previous: "v1.10.0", next: "v1.10.1", commits: 1),
        Scenario(
            name: "tags on other branches do not count",
            steps: [
                "commit:feat: a", "tag:v1.0.0", "branch:side", "checkout:side",
                "commit:feat: side", "tag:v1.1.0", "checkout:main", "commit:fix: main",
            ], previous: "v1.0.0", next: "v1.0.1", commits: 1),
        Scenario(
            name: "merged branches bring their commits",
            steps: [
                "commit:feat: a", "tag:v1.0.0", "branch:topic", "checkout:topic",
                "commit:feat(x): on topic", "checkout:main", "commit:fix: on main", "merge:topic",
            ],
            previous: "v1.0.0", next: "v1.1.0", commits: 2),
        Scenario(
            name: "non-semver tags are ignored", steps: ["commit:feat: a", "tag:release-1", "tag:v1.0.0", "commit:fix: b", "tag:latest"],
            previous: "v1.0.0", next: "v1.0.1", commits: 1),
    ]

    @Test(arguments: scenarios)
    func nextVersion(_ s: Scenario) throws {
        let tmp = try TempDir("history")
        let repo = try TestRepo.create(at: tmp.path("repo"))
        for step in s.steps {
            let (verb, arg) = (step.prefix { $0 != ":" }, String(step.drop { $0 != ":" }.dropFirst()))
            switch verb {
            case "commit": try repo.commit(arg)
            case "tag": try repo.tag(arg)
            case "atag": try repo.tag(arg, annotated: true)
            case "branch": try repo.git("branch", arg)
            case "checkout": try repo.git("checkout", "-q", arg)
            case "merge": try repo.git(["merge", "-q", "--no-ff", "-m", "Merge branch '\(arg)'", arg])
            default: Issue.record("unknown step \(step)")
            }
        }
        let next = try VersionCalculator.next(repository: repo.repository, rules: BumpRules(bumpMinorPreMajor: s.bumpMinorPreMajor))
        #expect(next.previousTag == s.previous)
        #expect(next.next?.tagString(forceV: true) == s.next)
        #expect(next.commits.count == s.commits)
        #expect(next.commits.allSatisfy { $0.sha.count == 40 })
    }

    @Test func commitsKeepTheirWholeMessage() throws {
        let tmp = try TempDir("history")
        let repo = try TestRepo.create(at: tmp.path("repo"))
        let sha = try repo.commit("feat(api): tokens\n\nBody line\nwith \u{1e} odd bytes and a | pipe.\n\nRefs: #1")
        let commits = try repo.repository.commits(from: nil)
        #expect(commits.count == 1)
        #expect(commits[0].sha == sha)
        #expect(commits[0].message == "feat(api): tokens\n\nBody line\nwith \u{1e} odd bytes and a | pipe.\n\nRefs: #1")
        #expect(commits[0].author == "Test")
        #expect(ConventionalCommit(message: commits[0].message)?.footers.first?.value == "#1")
    }

    @Test func emptyRepositoryAndNonRepository() throws {
        let tmp = try TempDir("history")
        let repo = try TestRepo.create(at: tmp.path("empty"))
        let next = try VersionCalculator.next(repository: repo.repository, rules: BumpRules())
        #expect(next.next == nil)
        #expect(next.reason == "no commits")
        try FileManager.default.createDirectory(at: tmp.path("plain"), withIntermediateDirectories: true)
        #expect(throws: ReleaseError.notAGitRepository(path: tmp.path("plain").path)) {
            _ = try VersionCalculator.next(repository: GitRepository(directory: tmp.path("plain")), rules: BumpRules())
        }
    }
}
