import Foundation
import Testing
import UnisonCore
import UnisonSpec
import UnisonTestSupport

@testable import UnisonWorkspace

/// Layout and cleanliness, on real repositories: missing and unknown repos, uninitialised and
/// moved submodules, dirty trees, detached heads, unexpected branches.
@Suite(.tags(.interop)) struct GitLayoutTests {
    @Test func layoutAndCleanlinessFindingsCarryTheirLocations() throws {
        let spec = try Specs.small()
        let sandbox = try Sandbox()
        try SmallWorkspace.sources(sandbox, spec: spec)
        try sandbox.repo("unison-payments", files: ["README.md": "# payments\n"])
        let metaRepo = try #require(spec.repo(named: "unison-workspace"))
        let meta = try sandbox.meta(
            submodules: [
                "unison-auth", "unison-devstack", "unison-docs", "unison-orchestrator",
                "unison-platform", "unison-payments",
            ],
            name: "unison-workspace", files: try GoodRepo.files(metaRepo, spec: spec))
        // A plain clone inside the workspace that the spec does not know.
        try sandbox.git(
            sandbox.root, "clone", "-q", sandbox.root.appendingPathComponent("src/unison-payments").path,
            meta.appendingPathComponent("scratch-tool").path)
        // Dirty: a modified tracked file and an untracked one in a submodule, a modified file in the meta repo.
        let auth = meta.appendingPathComponent("unison-auth")
        try sandbox.write(auth, "README.md", "# changed\n")
        try sandbox.write(auth, "notes.txt", "todo\n")
        try sandbox.write(meta, "Makefile", "bootstrap:\n\ttrue\n")
        // A feature branch.
        try sandbox.git(meta.appendingPathComponent("unison-orchestrator"), "switch", "-q", "-c", "feature/x")
        // A submodule moved to a new commit the meta repository does not record (still on main).
        let devstack = meta.appendingPathComponent("unison-devstack")
        try sandbox.commit(devstack, "CHANGES.md", "next\n")
        let movedTo = try sandbox.git(devstack, "rev-parse", "HEAD")
        // Detached on a commit of its own (not on main): detached and out of sync.
        let platform = meta.appendingPathComponent("unison-platform")
        try sandbox.git(platform, "checkout", "-q", "--detach")
        try sandbox.commit(platform, "hotfix.txt", "x\n")
        // Detached exactly at the recorded commit, which is on main: information only.
        try sandbox.git(meta.appendingPathComponent("unison-docs"), "checkout", "-q", "--detach")

        let report = try WorkspaceCheck.run(directory: meta, spec: spec, runner: sandbox.runner)
        let f = report.findings

        let missing = f.with(.layoutMissingRepo)
        #expect(missing.map(\.repo) == ["unison-policy"])
        #expect(missing.first?.severity == .error && missing.first?.file == nil)

        let unknown = f.with(.layoutUnknownRepo)
        #expect(unknown.count == 2)
        let gitmodules = try String(contentsOf: meta.appendingPathComponent(".gitmodules"), encoding: .utf8)
        let paymentsLine =
            try #require(
                gitmodules.split(separator: "\n", omittingEmptySubsequences: false)
                    .firstIndex { $0 == "[submodule \"unison-payments\"]" }) + 1
        #expect(unknown.contains { $0.file == ".gitmodules" && $0.line == paymentsLine && $0.repo == "unison-workspace" && $0.severity == .warning })
        #expect(unknown.contains { $0.file == "scratch-tool" && $0.line == nil })

        let dirty = f.with(.gitDirty)
        #expect(Set(dirty.map { "\($0.repo) \($0.file ?? "-")" }) == ["unison-auth unison-auth/README.md", "unison-workspace Makefile"])
        #expect(dirty.allSatisfy { $0.severity == .error && $0.line == nil })
        let untracked = f.with(.gitUntracked)
        #expect(untracked.map(\.file) == ["unison-auth/notes.txt"], "\(untracked.described)")

        let branch = f.with(.gitUnexpectedBranch)
        #expect(branch.map(\.repo) == ["unison-orchestrator"])
        #expect(branch.first?.message.contains("'feature/x'") == true && branch.first?.severity == .warning)

        let detached = f.with(.gitDetachedHead)
        #expect(detached.first { $0.repo == "unison-platform" }?.severity == .warning)
        #expect(detached.first { $0.repo == "unison-docs" }?.severity == .info)
        #expect(detached.count == 2)

        let sync = f.with(.gitSubmoduleOutOfSync)
        #expect(Set(sync.map(\.repo)) == ["unison-devstack", "unison-platform"])
        let devstackSync = try #require(sync.first { $0.repo == "unison-devstack" })
        #expect(devstackSync.file == "unison-devstack" && devstackSync.severity == .error)
        #expect(devstackSync.message.contains(String(movedTo.prefix(12))))
        #expect(report.hasErrors)

        // Checking a release branch: --branch changes the expectation.
        let onFeature = try WorkspaceCheck.run(directory: meta, spec: spec, expectedBranch: "feature/x", runner: sandbox.runner)
        #expect(!onFeature.findings.with(.gitUnexpectedBranch).contains { $0.repo == "unison-orchestrator" })
        #expect(onFeature.findings.with(.gitUnexpectedBranch).contains { $0.repo == "unison-auth" })
    }

    @Test func uninitialisedSubmodulesAreReportedAtTheirGitmodulesLine() throws {
        let spec = try Specs.small()
        let sandbox = try Sandbox()
        let meta = try SmallWorkspace.meta(sandbox, spec: spec)
        let clone = sandbox.root.appendingPathComponent("plain-clone")
        try sandbox.git(sandbox.root, "clone", "-q", meta.path, clone.path)
        try sandbox.git(clone, "submodule", "update", "-q", "--init", "unison-auth")

        let report = try WorkspaceCheck.run(directory: clone, spec: spec, runner: sandbox.runner)
        let uninitialized = report.findings.with(.gitSubmoduleUninitialized)
        let names = spec.repos.filter { $0.role != .workspace && $0.name != "unison-auth" }.map(\.name).sorted()
        #expect(uninitialized.map(\.repo) == names)
        let lines = try String(contentsOf: clone.appendingPathComponent(".gitmodules"), encoding: .utf8)
            .split(separator: "\n", omittingEmptySubsequences: false)
        for finding in uninitialized {
            #expect(finding.file == ".gitmodules" && finding.severity == .error)
            let line = try #require(finding.line)
            #expect(lines[line - 1] == "[submodule \"\(finding.repo)\"]")
        }
        // Not initialised is not missing; the initialised one is detached where it should be.
        #expect(report.findings.with(.layoutMissingRepo).isEmpty)
        #expect(report.findings.with(.gitDetachedHead, repo: "unison-auth").map(\.severity) == [.info])
    }

    @Test func siblingLayoutReportsRepositoriesWithoutCommits() throws {
        let spec = try Specs.small()
        let sandbox = try Sandbox()
        try SmallWorkspace.sources(sandbox, spec: spec, skip: ["unison-policy"])
        let src = sandbox.root.appendingPathComponent("src")
        try FileManager.default.createDirectory(at: src.appendingPathComponent("unison-policy"), withIntermediateDirectories: true)
        try sandbox.git(src.appendingPathComponent("unison-policy"), "init", "-q")
        try FileManager.default.createDirectory(at: src.appendingPathComponent("not-a-repo"), withIntermediateDirectories: true)

        let report = try WorkspaceCheck.run(directory: src, spec: spec, runner: sandbox.runner)
        let noCommits = report.findings.with(.gitNoCommits)
        #expect(noCommits.map(\.repo) == ["unison-policy"])
        #expect(noCommits.first?.file == "unison-policy")
        // The meta repository is the one missing repo; a plain directory is not a repo.
        #expect(report.findings.with(.layoutMissingRepo).map(\.repo) == ["unison-workspace"])
        #expect(report.findings.with(.layoutUnknownRepo).isEmpty)
    }

    @Test func badWorkspaceDirectoryIsBadInput() throws {
        let spec = try Specs.small()
        let sandbox = try Sandbox()
        #expect(throws: WorkspaceError.self) {
            try WorkspaceCheck.run(directory: sandbox.root.appendingPathComponent("nope"), spec: spec, runner: sandbox.runner)
        }
        try sandbox.write(sandbox.root, "file.txt", "x")
        do {
            _ = try WorkspaceCheck.run(directory: sandbox.root.appendingPathComponent("file.txt"), spec: spec, runner: sandbox.runner)
            Issue.record("a file is not a workspace")
        } catch let error as WorkspaceError {
            #expect(error.exitStatus == .badInput)
            #expect(error.description.contains("file.txt"))
        }
    }
}
