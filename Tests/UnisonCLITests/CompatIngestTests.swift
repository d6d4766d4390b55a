import Foundation
import Testing
import UnisonCore
import UnisonTestSupport

@testable import UnisonOps

/// `compat ingest`: reports from planted machines folded into a copy of unison-docs'
/// `dev/compatibility-matrix.md` (its real form: `Release` header, repository columns, `0.1.x`
/// cells), the result read back by `compat show` (the one matrix reader `workspace check` uses).
@Suite("compat ingest", .tags(.unit))
struct CompatIngestTests {
    /// unison-docs `dev/compatibility-matrix.md` as the snapshot has it.
    static let realMatrix = """
        # Compatibility Matrix

        | Release | unison-orchestrator | unison-context | unison-io-speech | unison-io-canvas | unison-gen | unison-policy | unison-storage | unison-hal |
        |---------|---------------------|----------------|------------------|------------------|------------|---------------|----------------|-----------|
        | 0.0.1   | 0.1.x               | 0.1.x          | 0.1.x            | 0.1.x            | 0.1.x      | 0.1.x         | 0.1.x          | 0.1.x     |

        """

    static func report(
        target: String = "vm", version: String = "0.0.1", ram: String = "8GiB", disk: String = "128GiB",
        pack: String = "default", ok: Bool = true, step: String? = nil
    ) -> PilotReport {
        PilotReport(
            day: "2026-12-03", unisonctl: "0.0.0", target: target, release: .init(version: version, channel: "beta"),
            hardware: .init(arch: "x86_64", cores: 4, avx: true, avx2: true, avx512: false, ramClass: ram, diskClass: disk, gpu: ["none"]),
            install: .init(outcome: "installed", mode: "image"),
            firstBoot: .init(outcome: ok ? "ok" : "failed", failedStep: ok ? nil : step, minutesAfterInstall: 3),
            answers: .init(source: "cidata", applied: true), stack: [], models: .init(pack: pack, preloaded: 1, verified: ok),
            doctor: [], diag: nil)
    }

    /// The real matrix's columns are repositories: `compat add` must put a service's cell under
    /// its repository's column (the spec maps one to the other), never add a column of its own,
    /// and `compat check`/`compat ingest` must read the result the same way.
    @Test func addKeysCellsByRepositoryAsTheRealMatrixDoesAndIngestReadsThem() throws {
        let dir = try TempDir.create("ops-compat-add")
        defer { try? FileManager.default.removeItem(at: dir) }
        let matrix = dir.appendingPathComponent("compatibility-matrix.md")
        try Data(Self.realMatrix.utf8).write(to: matrix)
        let spec = Unisonctl.repoRoot.appendingPathComponent("unison.yaml").path
        let add = try Unisonctl.run([
            "compat", "add", "--version", "0.2.0", "--service", "orchestrator=0.2.x", "--service", "unison-context=0.2.x",
            "--spec", spec, "--file", matrix.path,
        ])
        #expect(add.status == 0, "\(add.stderrString)")
        let show = try Unisonctl.run(["compat", "show", "--file", matrix.path, "--json"])
        let shown = try #require(try JSONSerialization.jsonObject(with: show.stdout) as? [String: Any])
        #expect(
            shown["services"] as? [String] == [
                "unison-orchestrator", "unison-context", "unison-io-speech", "unison-io-canvas", "unison-gen",
                "unison-policy", "unison-storage", "unison-hal",
            ], "\(show.stdoutString)")
        let rows = try #require(shown["rows"] as? [[String: Any]])
        let cells = (rows.first?["services"] as? [String: Any])?.keys.sorted()
        #expect(cells == ["unison-context", "unison-orchestrator"])
        // Two names of one column that disagree are refused, and nothing is written.
        let before = try Data(contentsOf: matrix)
        let conflict = try Unisonctl.run([
            "compat", "add", "--version", "0.3.0", "--service", "orchestrator=0.3.x", "--service", "unison-orchestrator=0.2.x",
            "--spec", spec, "--file", matrix.path,
        ])
        #expect(conflict.status == 2 && conflict.stderrString.contains("column unison-orchestrator"), "\(conflict.stderrString)")
        #expect(try Data(contentsOf: matrix) == before)

        // compat check finds the repository's column from a service name.
        let check = try Unisonctl.run([
            "compat", "check", "--file", matrix.path, "--platform", "0.2.0", "--spec", spec,
            "--installed", "orchestrator=v0.2.4", "--installed", "context=v0.2.0",
        ])
        #expect(check.status == 0 && check.stdoutString == "matches v0.2.0\n", "\(check.stdoutString)\(check.stderrString)")
        // compat ingest reads the row compat add wrote.
        let report = dir.appendingPathComponent("r.json")
        try JSONOutput.encoder().encode(Self.report(version: "0.2.0")).write(to: report)
        let ingest = try Unisonctl.run(["compat", "ingest", report.path, "--matrix", matrix.path, "--spec", spec])
        #expect(ingest.status == 0, "\(ingest.stderrString)")
        #expect(!ingest.stdoutString.contains("release 0.2.0 has no row"), "\(ingest.stdoutString)")
        #expect(try String(contentsOf: matrix, encoding: .utf8).contains("| vm | 0.2.0 |"))
    }

    @Test func foldIntoTheRealMatrixCountsOnceAndSuggests() throws {
        let dir = try TempDir.create("ops-ingest")
        defer { try? FileManager.default.removeItem(at: dir) }
        let matrix = dir.appendingPathComponent("compatibility-matrix.md")
        try Data(Self.realMatrix.utf8).write(to: matrix)
        var paths: [String] = []
        let reports = [
            Self.report(), Self.report(ram: "4GiB"), Self.report(ram: "4GiB", ok: false, step: "ollama"),
            Self.report(target: "iso", version: "0.2.0", ram: "4GiB", disk: "16GiB", ok: false, step: "ollama"),
        ]
        for (i, r) in reports.enumerated() {
            let url = dir.appendingPathComponent("r\(i).json")
            try JSONOutput.encoder().encode(r).write(to: url)
            paths.append(url.path)
        }
        let spec = Unisonctl.repoRoot.appendingPathComponent("unison.yaml").path
        let first = try Unisonctl.run(["compat", "ingest"] + paths + ["--matrix", matrix.path, "--spec", spec])
        #expect(first.status == 0, "\(first.stderrString)")
        let out = first.stdoutString
        #expect(out.contains("4 reports counted"))
        #expect(out.contains("vm 0.0.1 [4 cores, 4GiB RAM, 128GiB disk, AVX2, GPU none]: 1 passed, 1 failed"), "\(out)")
        #expect(out.contains("note: release 0.2.0 has no row in the matrix"))
        #expect(
            out.contains("suggestion: model pack 'default' needs 8GB of RAM, but 3 of 4 pilots using it have less; make 'light' the default"),
            "\(out)")
        #expect(out.contains("suggestion: target iso: first boot failed on 1 of 1 reports (at ollama)"))
        #expect(out.contains("pilots using 'default' have a root disk below its 20GB minimum"))

        let text = try String(contentsOf: matrix, encoding: .utf8)
        // The real table is untouched, byte for byte; the section follows it.
        #expect(text.hasPrefix(Self.realMatrix))
        #expect(text.contains("| vm | 0.0.1 | 4 cores, 8GiB RAM, 128GiB disk, AVX2, GPU none | 1 | 0 |\n"))
        #expect(text.contains("| iso | 0.2.0 | 4 cores, 4GiB RAM, 16GiB disk, AVX2, GPU none | 0 | 1 |\n"))
        // Rows newest release first.
        #expect(text.range(of: "| iso | 0.2.0")!.lowerBound < text.range(of: "| vm | 0.0.1")!.lowerBound)

        // Still the matrix the one reader reads (compat show; workspace check scans with it).
        let show = try Unisonctl.run(["compat", "show", "--file", matrix.path, "--json"])
        #expect(show.status == 0, "\(show.stderrString)")
        let doc = try #require(try JSONSerialization.jsonObject(with: show.stdout) as? [String: Any])
        #expect((doc["services"] as? [String])?.count == 8 && (doc["rows"] as? [Any])?.count == 1)

        // Ingesting the same reports again counts nothing; a new one adds to its row.
        let again = try Unisonctl.run(["compat", "ingest"] + paths + ["--matrix", matrix.path, "--spec", spec])
        #expect(again.stdoutString.contains("0 reports counted, 4 already counted"))
        #expect(try String(contentsOf: matrix, encoding: .utf8) == text)
        let extra = dir.appendingPathComponent("r9.json")
        var fifth = Self.report()
        fifth.day = "2026-12-04"
        try JSONOutput.encoder().encode(fifth).write(to: extra)
        #expect(try Unisonctl.run(["compat", "ingest", extra.path, "--matrix", matrix.path, "--spec", spec]).status == 0)
        #expect(try String(contentsOf: matrix, encoding: .utf8).contains("| vm | 0.0.1 | 4 cores, 8GiB RAM, 128GiB disk, AVX2, GPU none | 2 | 0 |\n"))
    }

    @Test func badInputChangesNothing() throws {
        let dir = try TempDir.create("ops-ingest-bad")
        defer { try? FileManager.default.removeItem(at: dir) }
        let matrix = dir.appendingPathComponent("m.md")
        try Data(Self.realMatrix.utf8).write(to: matrix)
        let notReport = dir.appendingPathComponent("x.json")
        try Data("{\"schema\": \"unisonctl.doctor/v1\"}".utf8).write(to: notReport)
        let r = try Unisonctl.run(["compat", "ingest", notReport.path, "--matrix", matrix.path])
        #expect(r.status == 2 && r.stderrString.contains("not a pilot report"))
        let broken = dir.appendingPathComponent("broken.md")
        try Data("# no table here\n".utf8).write(to: broken)
        let good = dir.appendingPathComponent("good.json")
        try JSONOutput.encoder().encode(Self.report()).write(to: good)
        let noTable = try Unisonctl.run(["compat", "ingest", good.path, "--matrix", broken.path])
        #expect(noTable.status != 0 && noTable.stderrString.contains("Release"))
        #expect(try String(contentsOf: broken, encoding: .utf8) == "# no table here\n")
        #expect(try String(contentsOf: matrix, encoding: .utf8) == Self.realMatrix)
    }
}
