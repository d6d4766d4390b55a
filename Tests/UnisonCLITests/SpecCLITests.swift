import Foundation
import Testing
import UnisonTestSupport

@Suite(.tags(.unit)) struct SpecCLITests {
    @Test func rootHelpIsGolden() throws {
        let r = try CLI.run(["--help"])
        #expect(r.status == 0)
        try CLI.expectGolden(r.stdout, "help.txt")
    }

    @Test func specHelpIsGolden() throws {
        let r = try CLI.run(["spec", "--help"])
        #expect(r.status == 0)
        try CLI.expectGolden(r.stdout, "spec-help.txt")
    }

    @Test func versionFlag() throws {
        let r = try CLI.run(["--version"])
        #expect(r.status == 0)
        #expect(r.stdout.range(of: #"^[0-9]+\.[0-9]+\.[0-9]+"#, options: .regularExpression) != nil, "\(r.stdout)")
    }

    @Test func validateShippedSpec() throws {
        let r = try CLI.run(["spec", "validate"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("ok (17 services"))
    }

    @Test func specShowJSONIsGolden() throws {
        let r = try CLI.run(["spec", "show", "--json"])
        #expect(r.status == 0)
        let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        #expect(object?["schema"] as? Int == 1)
        try CLI.expectGolden(r.stdout, "spec-show.json")
    }

    @Test func specFoundUpwardAndFromEnvironment() throws {
        let nested = CLI.repoRoot.appendingPathComponent("Sources/UnisonSpec")
        #expect(try CLI.run(["spec", "validate"], cwd: nested).status == 0)
        let elsewhere = try CLI.tempDir()
        defer { try? FileManager.default.removeItem(at: elsewhere) }
        let missing = try CLI.run(["spec", "validate"], cwd: elsewhere)
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("no unison.yaml found"))
        let viaEnv = try CLI.run(
            ["spec", "show", "--json"], cwd: elsewhere,
            environment: ["UNISON_SPEC": CLI.repoRoot.appendingPathComponent("unison.yaml").path])
        #expect(viaEnv.status == 0)
    }

    @Test func brokenSpecExitsTwoWithLocationsAndWritesNothing() throws {
        let dir = try CLI.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let broken = CLI.repoRoot.appendingPathComponent("Tests/UnisonSpecTests/Fixtures/broken/several-at-once.yaml")
        try FileManager.default.copyItem(at: broken, to: dir.appendingPathComponent("unison.yaml"))
        let before = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        let r = try CLI.run(["spec", "validate"], cwd: dir)
        #expect(r.status == 2)
        try CLI.expectGolden(r.stderr, "spec-validate-broken.txt")
        let json = try CLI.run(["spec", "validate", "--json"], cwd: dir)
        #expect(json.status == 2)
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect(object?["valid"] as? Bool == false)
        #expect((object?["diagnostics"] as? [Any])?.count == 3)
        let roles = try CLI.run(["repos", "roles", "--output", dir.appendingPathComponent("roles.md").path], cwd: dir)
        #expect(roles.status == 2)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == before)
    }

    @Test func channelRulesAreCheckedByTheReleaseEngine() throws {
        let dir = try CLI.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let minimal = try String(contentsOf: CLI.repoRoot.appendingPathComponent("Tests/UnisonSpecTests/Fixtures/minimal.yaml"), encoding: .utf8)
        let broken = minimal.replacingOccurrences(of: "type=edge,branch=main", with: "type=bogus,value=x")
        #expect(broken != minimal)
        try Data(broken.utf8).write(to: dir.appendingPathComponent("unison.yaml"))
        let r = try CLI.run(["spec", "validate"], cwd: dir)
        #expect(r.status == 2)
        #expect(r.stderr.contains("unison.yaml:20:20: error: channel 'nightly' tags rule 'type=bogus,value=x'"), "\(r.stderr)")
    }

    @Test func usageErrorsExitTwo() throws {
        #expect(try CLI.run(["spec", "frobnicate"]).status == 2)
        #expect(try CLI.run(["spec", "show", "--no-such-flag"]).status == 2)
        #expect(try CLI.run(["spec", "validate", "/nonexistent/unison.yaml"]).status == 2)
    }

    @Test func repoRoleMapIsCheckedInAndCurrent() throws {
        let r = try CLI.run(["repos", "roles"])
        #expect(r.status == 0)
        let checkedIn = try String(contentsOf: CLI.repoRoot.appendingPathComponent("docs/repo-roles.md"), encoding: .utf8)
        #expect(r.stdout == checkedIn, "docs/repo-roles.md is stale: run `unisonctl repos roles --output docs/repo-roles.md`")
    }

    @Test func completionScripts() throws {
        for shell in ["bash", "zsh", "fish"] {
            let r = try CLI.run(["--generate-completion-script", shell])
            #expect(r.status == 0)
            #expect(r.stdout.contains("unisonctl"))
        }
    }
}
