// The StagedUpdate test that runs unisonctl: moved whole from UnisonOpsTests/StagedUpdateTests.swift.
import Foundation
import Testing
import UnisonCore
import UnisonSpec
import UnisonTestSupport

@testable import UnisonOps

@Suite("staged updates (unisonctl)", .serialized, .tags(.unit))
struct StagedUpdateCLITests {
    /// The commands, through the built binary and --root.
    @Test func theCommandsThroughTheCLI() throws {
        let (root, _) = try StagedUpdateFixture.root()
        defer { try? FileManager.default.removeItem(at: root) }
        let spec = OpsFixture.repoRoot.appendingPathComponent("unison.yaml").path
        let file = root.appendingPathComponent("apply.json")
        try StagedUpdateFixture.artifact(services: [
            "auth": ["image": "ghcr.io/project-unisonos/unison-auth:v1@\(StagedUpdateFixture.digest)", "action": "switch-image"]
        ]).write(
            to: file)
        var r = try OpsCLI.run(["show-staged-update", "--root", root.path, "--spec", spec])
        #expect(r.status == 0)
        #expect(r.stderrString.contains("no staged update"))
        r = try OpsCLI.run(["stage-update", file.path, "--root", root.path, "--spec", spec])
        #expect(r.status == 0, "\(r.stderrString)")
        r = try OpsCLI.run(["show-staged-update", "--root", root.path, "--spec", spec])
        #expect(r.stdoutString.contains("\"job_id\" : \"job-0123456789ab\""))
        r = try OpsCLI.run(["finalize-staged-update", "--root", root.path, "--spec", spec, "--updates-port", "9"])
        #expect(r.status == 1)
        #expect(r.stderrString.contains("the staged files are kept"))
        r = try OpsCLI.run(["clear-staged-update", "--root", root.path, "--spec", spec])
        #expect(r.stdoutString == "cleared the staged update\n")
        r = try OpsCLI.run(["stage-update", root.appendingPathComponent("missing.json").path, "--root", root.path, "--spec", spec])
        #expect(r.status == 2)
    }
}
