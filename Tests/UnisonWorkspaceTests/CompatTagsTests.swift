import Foundation
import Testing
import UnisonCore
import UnisonRelease
import UnisonSpec
import UnisonTestSupport

@testable import UnisonWorkspace

/// The matrix and the release tags, on real repositories.
@Suite(.tags(.interop)) struct CompatAndTagRuleTests {
    static let matrix = """
        # Compatibility

        | platform | auth | orchestrator | policy-engine | Storage |
        |---|---|---|---|---|
        | v0.4.0 | v0.4.2 | >=0.4.0 <0.5.0 | - | |
        | v0.5.0 | v0.5.0 | latest | | |
        | v0.4.0 | v0.4.0 | | | |
        | 0.x | | | | |

        """

    @Test func gapsInTheMatrixAndTheTagsAreFoundWithTheirLines() throws {
        let spec = try Specs.small()
        let sandbox = try Sandbox()
        for repo in spec.repos where repo.role != .workspace {
            var files = try GoodRepo.files(repo, spec: spec)
            var tags: [String] = []
            switch repo.name {
            case "unison-platform": tags = ["v0.3.0", "v0.4.0", "v0.5.0-beta.1", "alpha2", "0.2.0"]
            case "unison-auth": tags = ["v0.4.0", "v0.4.1"]
            case "unison-orchestrator": tags = ["v0.4.0"]
            case "unison-policy": tags = ["release-1"]
            case "unison-docs": files["dev/compatibility-matrix.md"] = Self.matrix
            default: break
            }
            try sandbox.repo(repo.name, files: files, tags: tags)
        }
        let metaRepo = try #require(spec.repo(named: "unison-workspace"))
        let meta = try sandbox.meta(
            submodules: spec.repos.filter { $0.role != .workspace }.map(\.name),
            name: "unison-workspace", files: try GoodRepo.files(metaRepo, spec: spec))
        let report = try WorkspaceCheck.run(directory: meta, spec: spec, runner: sandbox.runner)
        let f = report.findings
        let file = "unison-docs/dev/compatibility-matrix.md"

        #expect(f.with(.compatUnknownColumn).map { "\($0.file!):\($0.line!) \($0.severity.rawValue)" } == ["\(file):3 warning", "\(file):3 warning"])
        #expect(f.with(.compatUnknownColumn).contains { $0.message.contains("'policy-engine'") })
        let missingColumn = f.with(.compatMissingServiceColumn)
        #expect(
            missingColumn.count == 1 && missingColumn[0].message.contains("'policy'") && missingColumn[0].line == 3
                && missingColumn[0].severity == .error)
        #expect(f.with(.compatBadCell).map(\.line) == [6, 8])
        #expect(f.with(.compatBadCell).first?.message.contains("'latest'") == true)
        #expect(f.with(.compatDuplicateRow).map(\.line) == [7])
        #expect(f.with(.compatDuplicateRow).first?.severity == .error)
        // The release parser stops at line 6, which is already reported as a bad cell.
        #expect(f.with(.compatUnreadable).isEmpty)
        let withoutRow = f.with(.compatReleaseWithoutRow)
        #expect(
            withoutRow.count == 1 && withoutRow[0].message.contains("v0.3.0") && withoutRow[0].repo == "unison-docs"
                && withoutRow[0].file == file && withoutRow[0].line == nil && withoutRow[0].severity == .error)

        let missingTags = f.with(.tagsServiceMissingReleaseTag)
        #expect(
            missingTags.map { "\($0.repo) \($0.line!) \($0.severity.rawValue)" } == ["unison-auth 5 error", "unison-auth 6 warning"],
            "\(missingTags.described)")
        #expect(missingTags[0].message.contains("v0.4.2") && missingTags[0].file == file)

        let notSemver = f.with(.tagsNotSemver)
        #expect(
            Set(notSemver.map { "\($0.repo) \($0.message.split(separator: "'")[1])" })
                == ["unison-platform alpha2", "unison-platform 0.2.0", "unison-policy release-1"])
        #expect(notSemver.allSatisfy { $0.severity == .warning && $0.file == nil })
    }

    @Test func missingMatrixOrTableIsAnError() throws {
        let spec = try Specs.small()
        let sandbox = try Sandbox()
        try SmallWorkspace.sources(sandbox, spec: spec)
        let docs = sandbox.root.appendingPathComponent("src/unison-docs")
        try sandbox.git(docs, "rm", "-q", "dev/compatibility-matrix.md")
        try sandbox.git(docs, "commit", "-q", "-m", "no matrix")
        let src = sandbox.root.appendingPathComponent("src")
        var report = try WorkspaceCheck.run(directory: src, spec: spec, runner: sandbox.runner)
        #expect(report.findings.with(.compatMissingMatrix).map(\.file) == ["unison-docs/dev/compatibility-matrix.md"])

        try sandbox.commit(docs, "dev/compatibility-matrix.md", "# Matrix\n\nTo do.\n")
        report = try WorkspaceCheck.run(directory: src, spec: spec, runner: sandbox.runner)
        let finding = try #require(report.findings.with(.compatMissingMatrix).first)
        #expect(finding.message.contains("no table") && finding.severity == .error)

        // A table the scan reads but the release tooling rejects: a service named twice.
        try sandbox.commit(
            docs, "dev/compatibility-matrix.md",
            "# Matrix\n\n| platform | auth | orchestrator | policy | auth |\n|---|---|---|---|---|\n| v0.4.0 | v0.4.0 | v0.4.0 | v0.4.0 | v0.4.0 |\n")
        report = try WorkspaceCheck.run(directory: src, spec: spec, runner: sandbox.runner)
        let unreadable = try #require(report.findings.with(.compatUnreadable).first)
        #expect(unreadable.line == 3 && unreadable.message.contains("appears twice") && unreadable.severity == .error)
        #expect(report.findings.filter { $0.rule.rawValue.hasPrefix("compat.") }.count == 1, "\(report.findings.described)")
    }
}
