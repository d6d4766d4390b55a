import Foundation
import Testing
import UnisonCore
import UnisonSpec
import UnisonTestSupport
import UnisonWorkspace

// The workspace target's CLI tests: `workspace check`, `spec drift` and `readme check|fix` run as
// subprocesses over the fixtures UnisonWorkspaceTests builds its in-process tests on.

/// `workspace check` on the clean workspace and on the small platform's gaps.
@Suite(.tags(.interop)) struct WorkspaceCheckCLITests {
    @Test func cliExitsZeroWithEmptyFindingsOnTheCleanWorkspace() throws {
        let spec = try Specs.real()
        let (sandbox, meta) = try CleanWorkspace.build(spec: spec)
        let result = try WorkspaceCLI.run(["workspace", "check", "--spec", Paths.realSpec.path, meta.path, "--json"], cwd: sandbox.root)
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(object["schema"] as? String == "unisonctl.workspace-check/v1")
        #expect((object["findings"] as? [Any])?.isEmpty == true)
        #expect(result.stdout.hasPrefix("{\n  \"schema\""))

        let markdown = try WorkspaceCLI.run(["workspace", "check", "--spec", Paths.realSpec.path, "--markdown", meta.path], cwd: sandbox.root)
        #expect(markdown.status == 0)
        #expect(markdown.stdout.hasPrefix("# UnisonOS workspace gap report"))
        #expect(markdown.stdout.contains("No gaps found"))
    }

    /// `workspace check` as a subprocess: exit 1 with findings of error level, the exact JSON
    /// shape, the Markdown report, and bad input.
    @Test func cliReportsGapsAndExitCodes() throws {
        let sandbox = try Sandbox()
        let specFile = sandbox.root.appendingPathComponent("small.yaml")
        try Data(Specs.smallText.utf8).write(to: specFile)
        let meta = try ImageRuleWorkspace.workspace(sandbox, spec: try Specs.small())

        let json = try WorkspaceCLI.run(["workspace", "check", "--spec", specFile.path, "--json", meta.path], cwd: sandbox.root)
        #expect(json.status == 1, "\(json.stderr)")
        #expect(json.stdout.hasPrefix("{\n  \"schema\" : \"unisonctl.workspace-check/v1\",\n  \"findings\" : ["))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(Set(object.keys) == ["schema", "findings"])
        let findings = try #require(object["findings"] as? [[String: Any]])
        #expect(!findings.isEmpty)
        for finding in findings {
            #expect(Set(finding.keys) == ["rule", "severity", "repo", "file", "line", "message", "hint"])
            #expect(["error", "warning", "info"].contains(finding["severity"] as? String ?? ""))
        }
        let noPush = try #require(findings.first { $0["rule"] as? String == "ghcr.no-push-workflow" })
        #expect(noPush["line"] is NSNull && noPush["repo"] as? String == "unison-auth")
        #expect(
            findings.contains {
                $0["rule"] as? String == "ghcr.bad-reference" && $0["line"] as? Int == 7
                    && $0["file"] as? String == "unison-devstack/docker-compose.yml"
            })

        let reportFile = sandbox.root.appendingPathComponent("out/gaps.md")
        let markdown = try WorkspaceCLI.run(
            ["workspace", "check", "--spec", specFile.path, "--markdown", "--output", reportFile.path, meta.path],
            cwd: sandbox.root)
        #expect(markdown.status == 1 && markdown.stdout.isEmpty)
        let text = try String(contentsOf: reportFile, encoding: .utf8)
        #expect(text.hasPrefix("# UnisonOS workspace gap report\n"))
        #expect(text.contains("| `ghcr.bad-reference` | error | "))
        #expect(text.contains("\n## unison-devstack\n"))
        #expect(text.contains("| error | `ghcr.bad-reference` | `unison-devstack/docker-compose.yml:7` |"))

        // Only warnings: exit 0.
        let warningsOnly = try Sandbox()
        let clean = try SmallWorkspace.meta(warningsOnly, spec: try Specs.small())
        try warningsOnly.write(clean, "scratch.txt", "x")
        let ok = try WorkspaceCLI.run(["workspace", "check", "--spec", specFile.path, clean.path], cwd: sandbox.root)
        #expect(ok.status == 0, "\(ok.stdout)")
        #expect(ok.stdout.contains("scratch.txt: warning: [git.untracked]"))
        #expect(ok.stdout.hasSuffix("0 errors, 1 warning, 0 info\n"))

        let missing = try WorkspaceCLI.run(
            ["workspace", "check", "--spec", specFile.path, sandbox.root.appendingPathComponent("nope").path], cwd: sandbox.root)
        #expect(missing.status == 2 && missing.stderr.contains("does not exist"))
        let both = try WorkspaceCLI.run(["workspace", "check", "--spec", specFile.path, "--json", "--markdown", meta.path], cwd: sandbox.root)
        #expect(both.status == 2)
    }
}

/// `spec drift` on a planted workspace, clean and drifted.
@Suite(.tags(.interop)) struct SpecDriftCLITests {
    @Test func cliExitsOneWithJSONOnDriftAndZeroWhenClean() throws {
        let (ws, specURL) = try DriftFixture.make()
        defer { try? FileManager.default.removeItem(at: ws.deletingLastPathComponent()) }
        let clean = try WorkspaceCLI.run(["spec", "drift", ws.path, "--spec", specURL.path], cwd: ws)
        #expect(clean.status == 0, "\(clean.stdout)\(clean.stderr)")
        #expect(clean.stdout.contains("spec drift: 0 disagreement(s) with the spec, 0 between repositories"))

        let (bad, badSpec) = try DriftFixture.make(["unison-auth/Dockerfile": "FROM scratch\nEXPOSE 9000\n"])
        defer { try? FileManager.default.removeItem(at: bad.deletingLastPathComponent()) }
        let text = try WorkspaceCLI.run(["spec", "drift", bad.path, "--spec", badSpec.path], cwd: bad)
        #expect(text.status == 1)
        #expect(text.stdout.contains("unison-auth/Dockerfile:2: dockerfile.port: "), "\(text.stdout)")
        #expect(text.stdout.contains("  spec: ") && text.stdout.contains("unison.yaml:20:11"))
        let json = try WorkspaceCLI.run(["spec", "drift", bad.path, "--spec", badSpec.path, "--json"], cwd: bad)
        #expect(json.status == 1)
        let report = try JSONDecoder().decode(DriftReport.self, from: Data(json.stdout.utf8))
        #expect(report.schema == "unisonctl.spec-drift/v1")
        #expect(report.drift.map(\.kind) == [.dockerfilePort])
        let missing = try WorkspaceCLI.run(["spec", "drift", bad.path + "/nope", "--spec", badSpec.path], cwd: bad)
        #expect(missing.status == 2)
    }
}

/// `unisonctl readme check|fix` as a subprocess: exit codes, output, idempotence.
@Suite(.tags(.interop)) struct ReadmeCLITests {
    @Test func checkFailsUntilFixAddsTheSections() throws {
        let sandbox = try Sandbox()
        let specFile = sandbox.root.appendingPathComponent("small.yaml")
        try Data(Specs.smallText.utf8).write(to: specFile)
        let dir = sandbox.root.appendingPathComponent("unison-policy")
        try sandbox.write(dir, "README.md", "# policy\n\nPolicy decisions for the platform's service calls.\n")
        try sandbox.write(dir, "Makefile", "run:\n\ttrue\ntest:\n\ttrue\n")

        var result = try WorkspaceCLI.run(["readme", "check", "--spec", specFile.path, "unison-policy/README.md"], cwd: sandbox.root)
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("unison-policy/README.md: error: [readme.missing-section]"))

        result = try WorkspaceCLI.run(["readme", "check", "--spec", specFile.path, "--json", "unison-policy"], cwd: sandbox.root)
        #expect(result.status == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(object["schema"] as? String == "unisonctl.readme-check/v1")
        let findings = try #require(object["findings"] as? [[String: Any]])
        #expect(findings.filter { $0["rule"] as? String == "readme.missing-section" }.count == 4)

        result = try WorkspaceCLI.run(["readme", "fix", "--spec", specFile.path, "unison-policy"], cwd: sandbox.root)
        #expect(result.status == 0)
        #expect(result.stdout == "unison-policy/README.md: added role, run, test, docs\n")
        let afterFirst = try Data(contentsOf: dir.appendingPathComponent("README.md"))
        result = try WorkspaceCLI.run(["readme", "fix", "--spec", specFile.path, "--json", "unison-policy/README.md"], cwd: sandbox.root)
        #expect(result.status == 0)
        #expect(result.stdout.hasPrefix("{\n  \"schema\" : \"unisonctl.readme-fix/v1\""))
        #expect(try Data(contentsOf: dir.appendingPathComponent("README.md")) == afterFirst)

        result = try WorkspaceCLI.run(["readme", "check", "--spec", specFile.path, "unison-policy"], cwd: sandbox.root)
        #expect(result.status == 0, "\(result.stdout)")

        // A README whose directory names no repo, then the same with --repo.
        try sandbox.write(sandbox.root.appendingPathComponent("elsewhere"), "README.md", "# x\n")
        result = try WorkspaceCLI.run(["readme", "check", "--spec", specFile.path, "elsewhere/README.md", "unison-policy"], cwd: sandbox.root)
        #expect(result.status == 1)
        #expect(result.stdout.contains("elsewhere/README.md: error: [readme.unknown-repo]") && result.stdout.contains("--repo NAME"))
        #expect(result.stdout.contains("1 error, 0 warnings"), "\(result.stdout)")  // unison-policy is still checked (and clean)
        result = try WorkspaceCLI.run(["readme", "fix", "--spec", specFile.path, "elsewhere"], cwd: sandbox.root)
        #expect(result.status == 1 && result.stdout.contains("elsewhere/README.md: skipped, 'elsewhere' is not a repo of the spec"))
        result = try WorkspaceCLI.run(
            ["readme", "check", "--spec", specFile.path, "--repo", "unison-policy", "elsewhere/README.md"], cwd: sandbox.root)
        #expect(result.status == 1)
        result = try WorkspaceCLI.run(["readme", "check", "--spec", specFile.path], cwd: sandbox.root)
        #expect(result.status == 2)
    }
}
