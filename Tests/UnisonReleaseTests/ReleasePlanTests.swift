import Foundation
import Testing
import UnisonCore
@testable import UnisonRelease

/// `release plan`, notes and the compatibility matrix over a workspace of real git repos.
struct ReleasePlanTests {
    /// unison-orchestrator: feat since v0.3.0; unison-auth: chores since v1.2.0; unison-storage:
    /// no release tag yet but a fix; unison-platform: a fix; unison-docs missing.
    static func workspace() throws -> (TempDir, URL) {
        let tmp = try TempDir("plan")
        let ws = tmp.path("ws")
        let orch = try TestRepo.create(at: ws.appendingPathComponent("unison-orchestrator"))
        try orch.commit("feat: routing")
        try orch.tag("v0.3.0")
        try orch.commit("feat(intents): priority queue")
        try orch.commit("fix: nil context\n\nBREAKING CHANGE: context is required")
        try orch.commit("chore: lint")
        let auth = try TestRepo.create(at: ws.appendingPathComponent("unison-auth"))
        try auth.commit("feat: jwt")
        try auth.tag("v1.2.0", annotated: true)
        try auth.commit("chore: deps")
        try auth.commit("docs: readme")
        let storage = try TestRepo.create(at: ws.appendingPathComponent("unison-storage"))
        try storage.commit("chore: init")
        try storage.commit("fix: fsync")
        let platform = try TestRepo.create(at: ws.appendingPathComponent("unison-platform"))
        try platform.commit("feat: release engine")
        try platform.tag("v0.4.0")
        try platform.commit("perf: faster tar")
        return (tmp, ws)
    }

    @Test func planAcrossRepositories() throws {
        let (tmp, ws) = try Self.workspace()
        _ = tmp
        let plan = try ReleasePlanner.plan(spec: TestSpec.load(), version: #require(SemVer("v0.5.0")), workspace: ws)
        #expect(plan.channel == "stable")
        #expect(plan.repos.map(\.repo) == ["unison-platform", "unison-docs", "unison-orchestrator", "unison-auth", "unison-storage"])
        let byName = Dictionary(uniqueKeysWithValues: plan.repos.map { ($0.repo, $0) })
        #expect(byName["unison-docs"]?.status == .missing)
        #expect(byName["unison-docs"]?.participates == false)
        let orch = try #require(byName["unison-orchestrator"])
        #expect(orch.lastTag == "v0.3.0")
        #expect(orch.commits.count == 3)
        #expect(orch.nextVersion == "v0.4.0")       // breaking below 1.0: minor
        #expect(orch.participates)
        #expect(orch.imageTag == "v0.4.0")
        let auth = try #require(byName["unison-auth"])
        #expect(auth.participates == false)
        #expect(auth.imageTag == "v1.2.0")           // pinned at its last release
        #expect(auth.reason == "no releasable commits")
        #expect(byName["unison-storage"]?.nextVersion == "v0.1.0")
        #expect(byName["unison-platform"]?.nextVersion == "v0.4.1")
        #expect(plan.matrixRow == ["orchestrator": "v0.4.0", "auth": "v1.2.0", "storage": "v0.1.0"])

        let md = ReleasePlanner.markdown(plan, spec: try TestSpec.load())
        #expect(md.contains("| unison-orchestrator | v0.3.0 | 3 | v0.4.0 | yes | v0.4.0 |"))
        #expect(md.contains("| platform | orchestrator | auth | storage |\n|---|---|---|---|\n| v0.5.0 | v0.4.0 | v1.2.0 | v0.1.0 |"))
    }

    @Test func notesGroupCommitsByType() throws {
        let (tmp, ws) = try Self.workspace()
        _ = tmp
        let plan = try ReleasePlanner.plan(spec: TestSpec.load(), version: #require(SemVer("v0.5.0")), workspace: ws)
        let notes = ReleaseNotes.markdown(plan)
        let breaking = try #require(notes.range(of: "## Breaking changes"))
        let features = try #require(notes.range(of: "## Features"))
        let fixes = try #require(notes.range(of: "## Bug fixes"))
        let perf = try #require(notes.range(of: "## Performance"))
        #expect(breaking.lowerBound < features.lowerBound && features.lowerBound < fixes.lowerBound && fixes.lowerBound < perf.lowerBound)
        #expect(notes.contains("- **unison-orchestrator**: context is required ("))
        #expect(notes.contains("- **unison-orchestrator** (intents): priority queue ("))
        #expect(notes.contains("- **unison-storage**: fsync ("))
        #expect(notes.contains("- **unison-platform**: faster tar ("))
        // Chores, docs and non-participating repos stay out.
        #expect(!notes.contains("lint"))
        #expect(!notes.contains("unison-auth**"))
        #expect(notes.contains("| auth | v1.2.0 |"))
    }

    @Test func matrixRoundTripAndAdd() throws {
        var matrix = CompatibilityMatrix(services: ["orchestrator", "auth", "storage"])
        try matrix.add(.init(platform: #require(SemVer("v0.4.0")), services: [
            "orchestrator": #require(VersionConstraint("v0.3.0")), "auth": #require(VersionConstraint(">=1.1.0 <1.3.0")),
        ]))
        try matrix.add(.init(platform: #require(SemVer("v0.5.0")), services: [
            "orchestrator": #require(VersionConstraint("v0.4.0")), "auth": #require(VersionConstraint("v1.2.0")),
            "storage": #require(VersionConstraint("v0.1.0")), "io-speech": #require(VersionConstraint("v0.2.0")),
        ]))
        let md = matrix.markdown()
        #expect(md.contains("| platform | orchestrator | auth | storage | io-speech |\n|---|---|---|---|---|\n"))
        #expect(md.contains("| v0.5.0 | v0.4.0 | v1.2.0 | v0.1.0 | v0.2.0 |\n| v0.4.0 | v0.3.0 | >=1.1.0 <1.3.0 | - | - |\n"))
        let parsed = try CompatibilityMatrix.parse(markdown: md)
        #expect(parsed == matrix)
        #expect(throws: ReleaseError.matrixRowExists(platform: "v0.5.0")) {
            try matrix.add(.init(platform: #require(SemVer("0.5.0")), services: [:]))
        }
        try matrix.add(.init(platform: #require(SemVer("0.5.0")), services: [:]), replace: true)
        let v050 = try #require(SemVer("v0.5.0"))
        #expect(matrix.row(for: v050)?.services.isEmpty == true)
    }

    @Test(arguments: [
        (["orchestrator": "v0.4.0", "auth": "v1.2.0", "storage": "v0.1.0"], nil, true, "v0.5.0", 0),
        (["orchestrator": "v0.3.0", "auth": "v1.1.7"], nil, true, "v0.4.0", 0),
        (["orchestrator": "v0.3.0", "auth": "v1.3.0"], nil, false, "v0.4.0", 1),
        (["orchestrator": "v0.4.0", "auth": "v1.2.0"], nil, false, "v0.5.0", 1),      // storage missing
        (["orchestrator": "v0.4.0", "auth": "v1.2.0", "storage": "v0.1.0"], "v0.4.0", false, "v0.4.0", 2),
        (["orchestrator": "v0.3.0", "auth": "v1.2.0", "storage": "v0.1.0"], nil, false, "v0.5.0", 1), // a tie: the newest row
    ] as [([String: String], String?, Bool, String, Int)])
    func checkInstalledVersions(_ installed: [String: String], _ platform: String?, _ ok: Bool, _ row: String, _ diffs: Int) throws {
        let md = """
        Some text before.

        | platform | orchestrator | `auth` | storage |
        |:--|---|---|---|
        | v0.5.0 | v0.4.0 | v1.2.0 | v0.1.0 |
        | `v0.4.0` | v0.3.0 | >=1.1.0 <1.3.0 | - |

        Text after.
        """
        let matrix = try CompatibilityMatrix.parse(markdown: md)
        let result = matrix.check(installed: installed.mapValues { SemVer($0)! }, platform: platform.flatMap { SemVer($0) })
        #expect(result.ok == ok)
        #expect(result.platform == row)
        #expect(result.differences.count == diffs)
    }

    @Test(arguments: [
        ("no table here", 1, "no table"),
        ("| platform | a |\n| v1.0.0 | v1 |", 2, "separator"),
        ("| platform | a | a |\n|---|---|---|", 1, "appears twice"),
        ("| platform | a |\n|---|---|\n| v1.0.0 | v1.0.0 | x |", 3, "3 cells"),
        ("| platform | a |\n|---|---|\n| one | v1.0.0 |", 3, "not a platform version"),
        ("| platform | a |\n|---|---|\n| v1.0.0 | ~>1.0 |", 3, "not a version or range"),
        ("x\n| platform | a |\n|---|---|\n| v1.0.0 | v1.0.0 |\n| 1.0.0 | v1.0.1 |", 5, "a second row"),
    ])
    func badMatricesNameTheLine(_ md: String, _ line: Int, _ reason: String) {
        let error = #expect(throws: ReleaseError.self) { _ = try CompatibilityMatrix.parse(markdown: md, path: "m.md") }
        #expect(error?.description.hasPrefix("m.md:\(line): ") == true, "\(error?.description ?? "")")
        #expect(error?.description.contains(reason) == true)
    }

    @Test(arguments: [
        (">=1.2.0 <1.3.0", "1.2.9", true), (">=1.2.0 <1.3.0", "1.3.0", false), (">=1.2.0 <1.3.0", "1.3.0-beta.1", false),
        ("v1.2.3", "1.2.3+build", true), (">=1.3.0-beta.1 <1.3.0", "1.3.0-beta.4", true), ("<1.3.0", "1.2.0-rc.1", false), ("=1.2.3", "1.2.4", false), (">1.0.0 <=2.0.0", "2.0.0", true), (">1.0.0", "1.0.0", false),
    ])
    func constraints(_ text: String, _ version: String, _ ok: Bool) throws {
        #expect(try #require(VersionConstraint(text)).isSatisfied(by: #require(SemVer(version))) == ok)
    }
}
