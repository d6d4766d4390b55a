import Foundation
import Testing
import UnisonTestSupport

/// `pilot report` through unisonctl on a planted machine (`PilotFixture`).
@Suite("pilot report", .tags(.unit))
struct PilotReportCLITests {
    @Test func cliShowsTheReportAndWritesItOnlyWhenConfirmed() throws {
        let (root, _) = try PilotFixture.plant("cli")
        defer { try? FileManager.default.removeItem(at: root) }
        let spec = OpsFixture.repoRoot.appendingPathComponent("unison.yaml").path
        let out = root.appendingPathComponent("report.json")
        // Not a terminal and no --yes: shown, not written.
        let refused = try OpsCLI.run(["pilot", "report", "--root", root.path, "--spec", spec, "--out", out.path])
        #expect(refused.status == 2 && refused.stdoutString.contains("\"schema\" : \"unisonctl.pilot-report/v1\""))
        #expect(!FileManager.default.fileExists(atPath: out.path))
        let written = try OpsCLI.run(["pilot", "report", "--root", root.path, "--spec", spec, "--out", out.path, "--yes", "--diag"])
        #expect(written.status == 0, "\(written.stderrString)")
        let data = try Data(contentsOf: out)
        #expect(data == Data(written.stdoutString.utf8))
        let doc = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let diag = try #require(doc["diag"] as? [String: Any])
        let bundle = root.appendingPathComponent(try #require(diag["file"] as? String))
        #expect(bundle.lastPathComponent.hasPrefix("unison-diag-pilot-"))
        #expect(try FieldFixture.sha256sum(bundle) == diag["sha256"] as? String)
        #expect((try FileManager.default.attributesOfItem(atPath: out.path)[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        #expect(try OpsCLI.run(["pilot", "report", "--root", root.path, "--spec", spec, "--diag"]).status == 2)
    }
}
