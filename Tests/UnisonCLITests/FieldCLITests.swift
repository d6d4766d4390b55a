import Foundation
import Testing
import UnisonCore
import UnisonSpec
import UnisonTestSupport

@testable import UnisonOps

/// `unisonctl firstboot|diag|telemetry` run as a subprocess: exit codes, --json, stdout lines.
@Suite("field commands (CLI)", .tags(.interop))
struct FieldCLITests {
    var specPath: String { Unisonctl.repoRoot.appendingPathComponent("unison.yaml").path }

    func json(_ r: ProcessResult) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: r.stdout) as? [String: Any], "not JSON: \(r.stdoutString) \(r.stderrString)")
    }

    @Test("firstboot: 0 with the marker as the last line, 1 with a FAILED line, 2 on bad arguments; --json carries the schema")
    func firstboot() throws {
        let root = try FieldFixture.stageImage("cli-fb", pack: "default")
        defer { try? FileManager.default.removeItem(at: root) }
        let store = root.appendingPathComponent("var/lib/unison/models")
        try FieldFixture.writeModel(store: store, name: FieldFixture.qwen, seed: "cli")

        let dead = "http://127.0.0.1:\(try TestNetwork.freePort())"
        let failed = try OpsCLI.run(["firstboot", "--root", root.path, "--spec", specPath, "--ollama", dead, "--timeout", "1", "--interval", "0.2"])
        #expect(failed.status == 1)
        // Secrets are seeded before the model checks, so even a failed first boot leaves them set.
        #expect(failed.stderrString.contains("firstboot: secrets: generated UNISON_JWT_SECRET"))
        #expect(
            failed.stdoutString.hasPrefix("UNISONOS-FIRSTBOOT-FAILED: ollama: the Ollama API at \(dead) does not answer"), "\(failed.stdoutString)")

        let server = try OllamaStoreServer(store: store)
        defer { server.stop() }
        let ok = try OpsCLI.run(["firstboot", "--root", root.path, "--spec", specPath, "--ollama", server.url, "--timeout", "20"])
        #expect(ok.status == 0, "\(ok.stderrString)")
        #expect(ok.stdoutString.split(separator: "\n").last == "UNISONOS-FIRSTBOOT-OK")
        #expect(ok.stderrString.contains("firstboot: secrets: every secret was already set"))

        let again = try OpsCLI.run(["firstboot", "--root", root.path, "--spec", specPath, "--ollama", server.url, "--json"])
        #expect(again.status == 0)
        let report = try json(again)
        #expect(report["schema"] as? String == "unisonctl.firstboot/v1" && report["alreadyDone"] as? Bool == true)

        let forced = try OpsCLI.run(["firstboot", "--root", root.path, "--spec", specPath, "--ollama", server.url, "--json", "--force"])
        let models = try json(forced)["models"] as? [[String: Any]]
        let serverDigest = try #require(models?.first?["serverDigest"] as? String, "\(forced.stdoutString)")
        #expect(forced.status == 0 && serverDigest.hasPrefix("sha256:") && serverDigest == models?.first?["storeDigest"] as? String)

        for bad in [["--ollama", "https://127.0.0.1"], ["--ollama", "http://bad_host:11434"], ["--timeout", "0"], ["--timeout", "-3"]] {
            let r = try OpsCLI.run(["firstboot", "--root", root.path, "--spec", specPath] + bad)
            #expect(r.status == 2, "\(bad): \(r.stderrString)")
        }
    }

    @Test("diag: --json names the bundle, which sha256sum -c accepts; a missing output directory is exit 2")
    func diag() throws {
        let root = try FieldFixture.stageNative("cli-diag")
        defer { try? FileManager.default.removeItem(at: root) }
        let out = try TempDir.create("ops-cli-diag-out")
        defer { try? FileManager.default.removeItem(at: out) }
        // PATH without docker or systemctl: both recorded as missing.
        let r = try OpsCLI.run(
            ["diag", "--root", root.path, "--spec", specPath, "--output", out.path, "--json", "--collector-timeout", "15"],
            env: ["PATH": "/nonexistent"])
        #expect(r.status == 0, "\(r.stderrString)")
        let result = try json(r)
        #expect(result["schema"] as? String == "unisonctl.diag-result/v1")
        let bundle = try #require(result["bundle"] as? String)
        #expect(bundle.hasPrefix(out.path + "/unison-diag-") && bundle.hasSuffix("Z.tar.gz"))
        let check = try SystemProcessRunner().run(
            ["/bin/sh", "-c", "tar -xzf \"$1\" && cd unison-diag-* && sha256sum -c --quiet SHA256SUMS", "sh", bundle],
            environment: nil, input: nil, workingDirectory: out)
        #expect(check.status == 0, "\(check.stdoutString)\(check.stderrString)")

        let bad = try OpsCLI.run(["diag", "--root", root.path, "--spec", specPath, "--output", "/nonexistent-dir/b.tar.gz"])
        #expect(bad.status == 2 && bad.stderrString.contains("/nonexistent-dir"))
    }

    @Test("diag: a tool that hangs is ended by its deadline (coreutils timeout) and left behind by nothing")
    func diagHungTool() throws {
        let root = try FieldFixture.stageNative("cli-diag-hang")
        defer { try? FileManager.default.removeItem(at: root) }
        let bin = try TempDir.create("ops-cli-diag-bin")
        defer { try? FileManager.default.removeItem(at: bin) }
        // Stand-ins for systemd's tools, which cannot run here: one answers, one hangs.
        try Data("#!/bin/sh\necho 'unison-platform.service - inactive'\nexit 3\n".utf8).write(to: bin.appendingPathComponent("systemctl"))
        try Data("#!/bin/sh\necho 'journal line before the hang'\nexec sleep 47.125\n".utf8).write(to: bin.appendingPathComponent("journalctl"))
        for tool in ["systemctl", "journalctl"] { chmod(bin.appendingPathComponent(tool).path, 0o755) }
        let out = try TempDir.create("ops-cli-diag-hang-out")
        defer { try? FileManager.default.removeItem(at: out) }
        let r = try OpsCLI.run(
            [
                "diag", "--root", root.path, "--spec", specPath, "--output", out.appendingPathComponent("b.tar.gz").path,
                "--collector-timeout", "3",
            ], env: ["PATH": bin.path + ":/usr/bin:/bin"])
        #expect(r.status == 0, "\(r.stderrString)")
        // The deadline, not the tool, ended the wait: the journal says "(timed out)" and no sleep is left.
        let journal = try SystemProcessRunner().run(
            ["tar", "-xzOf", "b.tar.gz", "--wildcards", "*/systemd/journal.txt"],
            environment: nil, input: nil, workingDirectory: out
        ).stdoutString
        #expect(journal.contains("journal line before the hang") && journal.contains("(timed out)"), "\(journal)")
        let left = try SystemProcessRunner().run(["pgrep", "-f", "sleep 47.125"])
        #expect(left.status == 1, "a hung tool was left running: \(left.stdoutString)")
    }

    @Test("telemetry: status, enable, record, refused field (2), show, export, purge, disable; --help says nothing is sent")
    func telemetry() throws {
        let root = try TempDir.create("ops-cli-tm")
        defer { try? FileManager.default.removeItem(at: root) }
        func run(_ args: [String]) throws -> ProcessResult { try OpsCLI.run(args + ["--root", root.path, "--spec", specPath]) }

        let help = try OpsCLI.run(["telemetry", "--help"])
        let helpText = help.stdoutString.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(help.status == 0 && helpText.contains("Nothing is ever sent over the network"), "\(help.stdoutString)")

        let status = try run(["telemetry", "status", "--json"])
        #expect(
            try status.status == 0 && (try json(status))["enabled"] as? Bool == false
                && (try json(status))["schema"] as? String == "unisonctl.telemetry-status/v1")
        let off = try run(["telemetry", "record", "--field", "service_health=ok"])
        #expect(off.status == 0 && off.stdoutString.contains("not recorded"))
        #expect(!FileManager.default.fileExists(atPath: root.path + "/var/lib/unison/telemetry"))

        #expect(try run(["telemetry", "enable"]).status == 0)
        let rec = try run(["telemetry", "record", "--field", "service_health=ok", "--field", "uptime_bucket=7200", "--json"])
        #expect(try rec.status == 0 && (try json(rec))["recorded"] as? Bool == true)
        let refused = try run(["telemetry", "record", "--field", "mac_address=00:11:22:33:44:55"])
        #expect(refused.status == 2 && refused.stderrString.contains("'mac_address' is not allowed"))
        #expect(try run(["telemetry", "record", "--field", "nonsense"]).status == 2)

        let shown = try run(["telemetry", "show"])
        #expect(shown.status == 0 && shown.stdoutString.contains("service_health=ok uptime_bucket=1h-1d"))
        let summaryFile = root.appendingPathComponent("share.json").path
        #expect(try run(["telemetry", "export", "--output", summaryFile]).status == 0)
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: summaryFile))) as? [String: Any]
        #expect(summary?["events"] as? Int == 1 && summary?["schema"] as? String == "unisonctl.telemetry-export/v1")

        let purged = try run(["telemetry", "purge", "--json"])
        #expect(try purged.status == 0 && ((try json(purged))["removed"] as? [String])?.count == 1)
        #expect(try run(["telemetry", "disable"]).status == 0)
        #expect(try run(["telemetry", "record", "--field", "service_health=ok"]).stdoutString.contains("not recorded"))
    }
}

@Suite("first-boot unit hand-over", .tags(.interop))
struct FirstBootHandOverTests {
    func run(_ root: URL) throws -> ProcessResult {
        try SystemProcessRunner().run(
            ["sh", root.path + "/opt/unison-platform/bin/unison-firstboot"],
            environment: ["UNISON_ROOT": root.path, "PATH": "/usr/bin:/bin"], input: nil, workingDirectory: root)
    }

    @Test("the installed first-boot helper hands over to `unisonctl firstboot` when the binary and the spec are installed")
    func handsOver() throws {
        let root = try FieldFixture.stageImage("handover", pack: "none")
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(atPath: root.path + "/usr/local/bin", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: root.path + "/usr/local/bin/unisonctl", withDestinationPath: OpsCLI.binary.path)
        let r = try run(root)
        #expect(r.status == 0, "\(r.stdoutString)\(r.stderrString)")
        #expect(r.stdoutString.split(separator: "\n").last == "UNISONOS-FIRSTBOOT-OK")
        #expect(r.stderrString.contains("firstboot: models: model pack 'none' preloads no model"), "\(r.stderrString)")
        #expect(!r.stdoutString.contains("docker: "), "the shell path ran")
        let state = try Data(contentsOf: root.appendingPathComponent("var/lib/unison/.firstboot-done"))
        #expect(String(decoding: state, as: UTF8.self).contains("\"schema\" : \"unisonctl.firstboot/v1\""))
    }

    @Test("a binary that cannot run here: the shell helper does first boot itself")
    func fallsBack() throws {
        let root = try FieldFixture.stageImage("handover-fallback", pack: "none")
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(atPath: root.path + "/usr/local/bin", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: root.path + "/usr/local/bin/unisonctl", withDestinationPath: "/bin/false")
        let r = try run(root)
        #expect(r.status == 0 && r.stdoutString.split(separator: "\n").last == "UNISONOS-FIRSTBOOT-OK", "\(r.stdoutString)\(r.stderrString)")
        #expect(r.stdoutString.contains("docker: "))
    }
}
