import Foundation
import Testing
import UnisonCore
import UnisonTestSupport

@testable import UnisonRelease

/// `release plan`, notes and the compatibility matrix over a workspace of real git repos.
@Suite(.tags(.interop))
struct ReleasePlanTests {
    /// A planted workspace: the workspace itself a git repo (so git run in an empty submodule
    /// directory would answer for it); unison-platform on master, tagged v0.4.0 and
    /// v0.5.0-alpha.1, checked out on a feature branch; unison-docs a submodule not checked
    /// out; unison-orchestrator: feat since v0.3.0; unison-auth: chores since v0.4.0;
    /// unison-storage: never released.
    static func workspace() throws -> (TempDir, URL) {
        let tmp = try TempDir("plan")
        let ws = tmp.path("ws")
        let parent = try TestRepo.create(at: ws)
        try parent.commit("feat: workspace commit that no repo may count")
        try parent.commit("feat!: another one")
        try FileManager.default.createDirectory(at: ws.appendingPathComponent("unison-docs"), withIntermediateDirectories: true)
        let orch = try TestRepo.create(at: ws.appendingPathComponent("unison-orchestrator"))
        try orch.commit("feat: routing")
        try orch.tag("v0.3.0")
        try orch.commit("feat(intents): priority queue")
        try orch.commit("fix: nil context\n\nBREAKING CHANGE: context is required")
        try orch.commit("chore: lint")
        let auth = try TestRepo.create(at: ws.appendingPathComponent("unison-auth"))
        try auth.commit("feat: jwt")
        try auth.tag("v0.4.0", annotated: true)
        try auth.commit("chore: deps")
        try auth.commit("docs: readme")
        let storage = try TestRepo.create(at: ws.appendingPathComponent("unison-storage"))
        try storage.commit("chore: init")
        try storage.commit("fix: fsync")
        let platform = try TestRepo.create(at: ws.appendingPathComponent("unison-platform"))
        try platform.git("checkout", "-q", "-b", "master")
        try platform.commit("feat: release engine")
        try platform.tag("v0.4.0")
        try platform.commit("fix: installer")
        try platform.tag("v0.5.0-alpha.1", annotated: true)
        try platform.commit("perf: faster tar")
        try platform.git("checkout", "-q", "-b", "feature/wip")
        try platform.commit("feat: unfinished work on a feature branch")
        return (tmp, ws)
    }

    @Test func planOnThePolicy() throws {
        let (tmp, ws) = try Self.workspace()
        _ = tmp
        let plan = try ReleasePlanner.plan(spec: TestSpec.load(), version: #require(SemVer("v0.5.0")), workspace: ws)
        #expect(plan.channel == "stable")
        #expect(plan.repos.map(\.repo) == ["unison-platform", "unison-docs", "unison-orchestrator", "unison-auth", "unison-storage"])
        let byName = Dictionary(uniqueKeysWithValues: plan.repos.map { ($0.repo, $0) })

        let docs = try #require(byName["unison-docs"])
        #expect(docs.status == .notCheckedOut)
        #expect(docs.commits.isEmpty)
        #expect(docs.participates == false)
        #expect(docs.reason.contains("not checked out"))

        let platform = try #require(byName["unison-platform"])
        #expect(platform.branch == "master")
        #expect(platform.participates)
        #expect(platform.nextVersion == "v0.5.0")
        #expect(platform.lastTag == "v0.5.0-alpha.1")
        #expect(platform.commits.map(\.subject) == ["perf: faster tar", "fix: installer"])  // master only, since v0.4.0

        let orch = try #require(byName["unison-orchestrator"])
        #expect(orch.branch == "main")
        #expect(orch.lastTag == "v0.3.0")
        #expect(orch.commits.count == 3)
        #expect(orch.nextVersion == "v0.5.0")  // the platform's version, not its own bump
        #expect(orch.participates)
        let auth = try #require(byName["unison-auth"])
        #expect(auth.participates == false)
        #expect(auth.imageTag == "v0.4.0")  // pinned at its last release
        #expect(auth.reason.contains("no releasable commits"))
        #expect(byName["unison-storage"]?.nextVersion == "v0.5.0")
        #expect(plan.matrixRow == ["orchestrator": "v0.5.0", "auth": "v0.4.0", "storage": "v0.5.0"])

        let md = ReleasePlanner.markdown(plan, spec: try TestSpec.load())
        #expect(md.contains("| unison-orchestrator | main | v0.3.0 | 3 | v0.5.0 | yes | v0.5.0 |"))
        #expect(md.contains("| unison-docs | - | - | 0 | - | no | - | not-checked-out: "))
        // The matrix's repository columns, as `compat add` heads them.
        #expect(
            md.contains(
                "| platform | unison-orchestrator | unison-auth | unison-storage |\n|---|---|---|---|\n| v0.5.0 | v0.5.0 | v0.4.0 | v0.5.0 |"),
            "\(md)")
    }

    /// Existing platform tags, the alpha included, are respected.
    @Test(arguments: [
        ("v0.5.0-alpha.1", false, "already tagged v0.5.0-alpha.1"),
        ("v0.4.9", false, "v0.5.0-alpha.1 already exists"),
        ("v0.4.0", false, "already tagged v0.4.0"),
        ("v0.5.0-alpha.2", true, "after v0.5.0-alpha.1"),
        ("v0.5.0-beta.1", true, "after v0.5.0-alpha.1"),
    ])
    func existingPlatformTags(_ version: String, _ participates: Bool, _ reason: String) throws {
        let (tmp, ws) = try Self.workspace()
        _ = tmp
        let plan = try ReleasePlanner.plan(spec: TestSpec.load(), version: #require(SemVer(version)), workspace: ws)
        let platform = try #require(plan.repos.first { $0.repo == "unison-platform" })
        #expect(platform.participates == participates)
        #expect(platform.status == (participates ? .ok : .versionTaken))
        #expect(platform.reason.contains(reason), "\(platform.reason)")
        if version == "v0.5.0-alpha.2" { #expect(plan.channel == "alpha") }
    }

    /// A service whose own release is newer than the platform version keeps it and is reported.
    @Test func aServiceAheadOfThePlatformIsReported() throws {
        let (tmp, ws) = try Self.workspace()
        _ = tmp
        let plan = try ReleasePlanner.plan(spec: TestSpec.load(), version: #require(SemVer("v0.2.0")), workspace: ws)
        let orch = try #require(plan.repos.first { $0.repo == "unison-orchestrator" })
        #expect(orch.status == .versionTaken)
        #expect(orch.imageTag == "v0.3.0")
        #expect(!orch.participates)
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
        #expect(notes.contains("| auth | v0.4.0 |"))
    }

    @Test func matrixRoundTripAndAdd() throws {
        var matrix = CompatibilityMatrix(services: ["orchestrator", "auth", "storage"])
        try matrix.add(
            .init(
                platform: #require(SemVer("v0.4.0")),
                services: [
                    "orchestrator": #require(VersionConstraint("v0.3.0")), "auth": #require(VersionConstraint(">=1.1.0 <1.3.0")),
                ]))
        try matrix.add(
            .init(
                platform: #require(SemVer("v0.5.0")),
                services: [
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

    @Test(
        arguments: [
            (["orchestrator": "v0.4.0", "auth": "v1.2.0", "storage": "v0.1.0"], nil, true, "v0.5.0", 0),
            (["orchestrator": "v0.3.0", "auth": "v1.1.7"], nil, true, "v0.4.0", 0),
            (["orchestrator": "v0.3.0", "auth": "v1.3.0"], nil, false, "v0.4.0", 1),
            (["orchestrator": "v0.4.0", "auth": "v1.2.0"], nil, false, "v0.5.0", 1),  // storage missing
            (["orchestrator": "v0.4.0", "auth": "v1.2.0", "storage": "v0.1.0"], "v0.4.0", false, "v0.4.0", 2),
            (["orchestrator": "v0.3.0", "auth": "v1.2.0", "storage": "v0.1.0"], nil, false, "v0.5.0", 1),  // a tie: the newest row
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
        ("v1.2.3", "1.2.3+build", true), (">=1.3.0-beta.1 <1.3.0", "1.3.0-beta.4", true), ("<1.3.0", "1.2.0-rc.1", false), ("=1.2.3", "1.2.4", false),
        (">1.0.0 <=2.0.0", "2.0.0", true), (">1.0.0", "1.0.0", false),
    ])
    func constraints(_ text: String, _ version: String, _ ok: Bool) throws {
        #expect(try #require(VersionConstraint(text)).isSatisfied(by: #require(SemVer(version))) == ok)
    }
}
