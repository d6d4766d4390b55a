import Foundation
import Testing
import UnisonCore
import UnisonTestSupport

@testable import UnisonInstall

/// The built `unisonctl` run as a subprocess, as the acceptance checks do.
@Suite("unisonctl install/uninstall", .tags(.unit))
struct InstallCLITests {
    static var binary: URL { Unisonctl.binary }

    static func cli(_ args: [String]) throws -> ProcessResult {
        try SystemProcessRunner().run(
            [binary.path] + args + ["--spec", Unisonctl.repoRoot.appendingPathComponent("unison.yaml").path],
            environment: ["NO_COLOR": "1"], input: nil, workingDirectory: FileManager.default.temporaryDirectory)
    }

    @Test("install native --root stages a complete install; a second run changes no file; uninstall undoes it")
    func roundTrip() throws {
        let dir = try TempDir.create("install-cli")
        defer { try? FileManager.default.removeItem(at: dir) }
        let root = dir.appendingPathComponent("root")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)

        let dry = try Self.cli(["install", "native", "--root", root.path, "--dry-run", "--json"])
        #expect(dry.status == 0, "\(dry.stderrString)")
        let plan = try #require(try JSONSerialization.jsonObject(with: dry.stdout) as? [String: Any])
        #expect(plan["schema"] as? String == "unisonctl.install/v1")
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.path).isEmpty, "--dry-run wrote something")

        let first = try Self.cli(["install", "native", "--root", root.path])
        #expect(first.status == 0, "\(first.stderrString)")
        #expect(first.stdoutString.contains("host: skipped for a staging root"))
        // The binary installed is the one that ran.
        #expect(
            try Data(contentsOf: URL(fileURLWithPath: root.path + "/usr/local/bin/unisonctl"))
                == Data(contentsOf: Self.binary.resolvingSymlinksInPath()))
        let before = try RootFiles.snapshot(root)
        let second = try Self.cli(["install", "native", "--root", root.path])
        #expect(second.status == 0)
        #expect(second.stdoutString.contains("already up to date, nothing changed"), "\(second.stdoutString)")
        #expect(try RootFiles.snapshot(root) == before)

        let removed = try Self.cli(["uninstall", "--root", root.path, "--purge"])
        #expect(removed.status == 0, "\(removed.stderrString)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.path).isEmpty)
    }

    @Test("bad input exits 2 with one clear line")
    func badInput() throws {
        let dir = try TempDir.create("install-cli-bad")
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try Self.cli(["install", "docker", "--root", dir.path, "--models", "huge"])
        #expect(r.status == 2)
        #expect(r.stderrString.contains("unknown model pack 'huge'"))
        let v = try Self.cli(["install", "docker", "--root", dir.path, "--version", "one"])
        #expect(v.status == 2)
        #expect(v.stderrString.contains("--version 'one' is not a SemVer version"))
        let u = try Self.cli(["uninstall", "--root", dir.path])
        #expect(u.status == 2)
        #expect(u.stderrString.contains("nothing to uninstall"))
    }

    @Test("rootless staging: owners are recorded in the manifest, not applied, and the install still succeeds")
    func rootless() throws {
        let dir = try TempDir.create("install-rootless")
        defer { try? FileManager.default.removeItem(at: dir) }
        let root = dir.appendingPathComponent("root")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let spec = dir.appendingPathComponent("unison.yaml")
        try Data(try String(contentsOf: Unisonctl.repoRoot.appendingPathComponent("unison.yaml"), encoding: .utf8).utf8).write(to: spec)
        let binary = try RootFiles.fakeBinary(in: dir)
        for path in [dir.path, root.path, spec.path, binary.path] { chown(path, 65534, 65534) }
        // As root, drop to nobody for the run; as anyone else, the run is rootless already.
        let command =
            (geteuid() == 0 ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] : [])
            + [
                Self.binary.resolvingSymlinksInPath().path, "install", "native", "--root", root.path, "--spec", spec.path,
                "--unisonctl-binary", binary.path,
            ]
        let r = try SystemProcessRunner().run(command, environment: ["HOME": dir.path], input: nil, workingDirectory: dir)
        #expect(r.status == 0, "\(r.stderrString)")
        #expect(r.stdoutString.contains("owners recorded in the manifest, not applied"))
        let manifest = try JSONDecoder().decode(
            InstallManifest.self, from: Data(contentsOf: root.appendingPathComponent("var/lib/unison/install-manifest.json")))
        #expect(!manifest.ownershipApplied)
        #expect(manifest.entries.first { $0.path == "/etc/unison/platform.env" }.map { ($0.uid, $0.gid, $0.mode) } ?? (1, 1, nil) == (0, 0, "0600"))
        #expect(RootFiles.mode(root, "/etc/unison/platform.env") == 0o600)
    }
}
