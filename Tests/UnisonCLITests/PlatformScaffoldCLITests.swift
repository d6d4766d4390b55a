import Foundation
import Testing
import UnisonTestSupport

/// `platform scaffold` on a unison-platform checkout whose Makefile has its own image targets
/// (as the real one does) and whose images/README.md says something else.
@Suite(.tags(.unit)) struct PlatformScaffoldCLITests {
    static let realLikeMakefile = """
        .PHONY: up image-wsl
        up: ## Start the stack
        \tdocker compose up -d
        image-wsl: ## Build WSL rootfs/script (scaffolding)
        \t@echo "WSL build scaffolding"

        """

    @Test func writesChecksAndNeverOverwritesSilently() throws {
        let dir = try CLI.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data(Self.realLikeMakefile.utf8).write(to: dir.appendingPathComponent("Makefile"))
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("images"), withIntermediateDirectories: true)
        let theirs = Data("# Platform Images\n\nScaffolding.\n".utf8)
        try theirs.write(to: dir.appendingPathComponent("images/README.md"))

        // --check on the untouched checkout: nothing written, everything reported.
        var r = try CLI.run(["platform", "scaffold", dir.path, "--check", "--json"])
        #expect(r.status == 1, "\(r.stderr)")
        var report = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        var states = try #require(report["entries"] as? [[String: String]])
        #expect(states.first { $0["path"] == "images/README.md" }?["state"] == "differs")
        #expect(states.first { $0["path"] == "qa/README.md" }?["state"] == "missing")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("qa/README.md").path))

        // Writing: the differing README is left as it was and said so; the Makefile is not edited.
        r = try CLI.run(["platform", "scaffold", dir.path])
        #expect(r.status == 1)
        #expect(r.stdout.contains("differs     images/README.md"))
        #expect(r.stdout.contains("created     images/unisonctl.mk"))
        #expect(r.stdout.contains("line 4 defines image-wsl itself"))
        #expect(r.stdout.contains("does not `include images/unisonctl.mk`"))
        #expect(try Data(contentsOf: dir.appendingPathComponent("images/README.md")) == theirs)
        #expect(try String(contentsOf: dir.appendingPathComponent("Makefile"), encoding: .utf8) == Self.realLikeMakefile)

        // Wired and forced: every file the scaffold's, make reads the targets (GNU make, dry run).
        try Data(".PHONY: up\nup:\n\tdocker compose up -d\ninclude images/unisonctl.mk\n".utf8).write(to: dir.appendingPathComponent("Makefile"))
        r = try CLI.run(["platform", "scaffold", dir.path, "--force"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("overwritten images/README.md"))
        r = try CLI.run(["platform", "scaffold", dir.path, "--check", "--json"])
        #expect(r.status == 0, "\(r.stdout)")
        report = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        states = try #require(report["entries"] as? [[String: String]])
        #expect(states.allSatisfy { $0["state"] == "unchanged" })
        let make = try TestProcess.runMerged([
            "make", "-n", "-C", dir.path, "image-wsl", "image-vm", "image-iso", "VERSION=v0.5.0-alpha.1", "UNISONCTL=/opt/u",
        ])
        #expect(make.status == 0, "\(make.output)")
        #expect(make.output.contains("/opt/u image build wsl --spec unison.yaml --out \"images/out\" --version v0.5.0-alpha.1"))
        #expect(make.output.contains("/opt/u image build iso"))
        #expect(try CLI.run(["platform", "scaffold", dir.path, "--check", "--force"]).status == 2)
    }
}
