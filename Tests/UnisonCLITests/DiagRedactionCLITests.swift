// `unisonctl diag` run as a user who cannot read the env file: moved whole from
// UnisonOpsTests/DiagRedactionTests.swift (the staged install is FieldFixture, in UnisonTestSupport).
import Foundation
import Testing
import UnisonCore
import UnisonTestSupport

@Suite("diag redaction against a planted root (unisonctl)", .tags(.interop))
struct DiagRedactionCLITests {
    func sh(_ command: String, cwd: URL) throws -> ProcessResult {
        try SystemProcessRunner().run(["/bin/sh", "-c", command], environment: nil, input: nil, workingDirectory: cwd)
    }

    /// The literal planted in compose.yaml (the same value as DiagRedactionTests.composeLiteral).
    static let composeLiteral = "compose-literal-pw-5"

    @Test("diag as a user who cannot read the env file: the bundle is written and says so (not 'does not exist')")
    func nonRoot() throws {
        // It drops to nobody with setpriv (util-linux), which needs root: the tests run as root,
        // as CI does (scripts/setup.sh installs packages). Elsewhere it fails rather than pass unrun.
        try #require(getuid() == 0, "this test drops privileges with setpriv and must run as root")
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv"), "setpriv (util-linux) is missing")
        let spec = try FieldFixture.spec()
        let root = try FieldFixture.stageNative("diag-nonroot")
        defer { try? FileManager.default.removeItem(at: root) }
        chmod(root.path, 0o755)
        let composePath = root.path + "/opt/unison-platform/compose.yaml"
        try Data((try String(contentsOfFile: composePath, encoding: .utf8) + "#   ADMIN_PASSWORD: \(Self.composeLiteral)\n").utf8)
            .write(to: URL(fileURLWithPath: composePath))
        let out = try OpsFixture.tempDir("diag-nonroot-out")
        defer { try? FileManager.default.removeItem(at: out) }
        chmod(out.path, 0o777)
        let cli = try SystemProcessRunner().run(
            [
                "/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                OpsCLI.binary.path, "diag", "--root", root.path, "--spec", OpsFixture.repoRoot.path + "/unison.yaml",
                "-o", out.path, "--collector-timeout", "5",
            ],
            environment: ["PATH": "/usr/bin:/bin", "HOME": "/nonexistent"], input: nil, workingDirectory: out)
        #expect(cli.status == 0, "\(cli.stdoutString)\(cli.stderrString)")
        let bundle = try #require(try FileManager.default.contentsOfDirectory(atPath: out.path).first { $0.hasSuffix(".tar.gz") })
        #expect(try sh("tar -xzf '\(bundle)'", cwd: out).status == 0)
        let dir = out.appendingPathComponent(String(bundle.dropLast(7)))
        let notCollected = try String(contentsOf: dir.appendingPathComponent("install/not-collected.txt"), encoding: .utf8)
        #expect(notCollected.contains("\(spec.installer.envFile) exists but could not be read: permission denied"), "\(notCollected)")
        #expect(!notCollected.contains("\(spec.installer.envFile) does not exist"))
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("install/platform.env.stat").path))
        #expect(try sh("grep -r -l -a -F -e '\(Self.composeLiteral)' .", cwd: out).stdoutString.isEmpty)
    }
}
