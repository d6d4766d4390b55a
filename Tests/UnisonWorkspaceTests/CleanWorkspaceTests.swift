import Foundation
import Testing
import UnisonCore
import UnisonSpec
import UnisonTestSupport

@testable import UnisonWorkspace

/// A workspace laid out like UnisonOS's (every repo of the project's own unison.yaml as a
/// submodule of the meta repository, each kept the way the rules ask) must give no error and
/// no warning: the checks raise no false alarm.
@Suite(.tags(.interop)) struct CleanWorkspaceTests {
    @Test func unisonOSLayoutHasNoErrorAndNoWarning() throws {
        let spec = try Specs.real()
        let (sandbox, meta) = try CleanWorkspace.build(spec: spec)
        let report = try WorkspaceCheck.run(directory: meta, spec: spec, runner: sandbox.runner)
        #expect(report.findings.isEmpty, "unexpected findings:\n\(report.findings.described)")
        #expect(!report.hasErrors)
        #expect(report.exitStatus == .ok)
        _ = sandbox
    }

    /// A fresh `git clone --recurse-submodules` leaves every submodule detached at the recorded
    /// commit: that is reported as information only.
    @Test func freshRecursiveCloneIsClean() throws {
        let spec = try Specs.real()
        let (sandbox, meta) = try CleanWorkspace.build(spec: spec)
        let clone = sandbox.root.appendingPathComponent("clone")
        try sandbox.git(sandbox.root, "clone", "-q", "--recurse-submodules", meta.path, clone.path)
        let report = try WorkspaceCheck.run(directory: clone, spec: spec, runner: sandbox.runner)
        #expect(report.findings.serious.isEmpty, "unexpected findings:\n\(report.findings.serious.described)")
        let detached = report.findings.with(.gitDetachedHead)
        #expect(detached.count == spec.repos.filter { $0.checkout != .external }.count - 1)
        #expect(detached.allSatisfy { $0.severity == .info })
    }

    /// The same workspace as sibling clones in a plain directory (no meta repository).
    @Test func siblingClonesAreAccepted() throws {
        let spec = try Specs.small()
        let sandbox = try Sandbox()
        for repo in spec.repos where repo.role != .service {
            try sandbox.repo(repo.name, files: try GoodRepo.files(repo, spec: spec))
        }
        for repo in spec.repos where repo.role == .service {
            try sandbox.repo(repo.name, files: try GoodRepo.files(repo, spec: spec), tags: ["v0.4.0"])
        }
        try sandbox.commit(
            sandbox.root.appendingPathComponent("src/unison-docs"), "dev/compatibility-matrix.md",
            "| platform | auth | orchestrator | policy |\n|---|---|---|---|\n| v0.4.0 | v0.4.0 | v0.4.0 | v0.4.0 |\n")
        let report = try WorkspaceCheck.run(directory: sandbox.root.appendingPathComponent("src"), spec: spec, runner: sandbox.runner)
        #expect(report.findings.isEmpty, "unexpected findings:\n\(report.findings.described)")
    }
}
