// install.sh and the SSH signature of the checksum file (docs/verify.md): signed with
// ssh-keygen -Y sign here, checked by ssh-keygen -Y verify inside the script.
import Foundation
import Testing
import UnisonCore
import UnisonTestSupport

@Suite("install.sh: signed checksum files", .serialized, .tags(.interop))
struct InstallScriptSignatureTests {
    /// Signs the release's SHA256SUMS with a fresh ssh-keygen key and publishes the allowed
    /// signers as `release attest` does; returns the key's allowed_signers line.
    static func sign(_ release: InstallScriptTests.Release, tag: String, version: String) throws -> String {
        let dir = release.assets.appendingPathComponent(tag)
        let key = release.work.appendingPathComponent("key-\(UUID().uuidString)")
        #expect(try SystemProcessRunner().run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key.path]).status == 0)
        #expect(
            try SystemProcessRunner().run([
                "ssh-keygen", "-q", "-Y", "sign", "-f", key.path, "-n", "file",
                dir.appendingPathComponent("SHA256SUMS-v\(version).txt").path,
            ]).status == 0)
        let pub = try String(contentsOf: key.appendingPathExtension("pub"), encoding: .utf8)
        let line = "release@unisonos namespaces=\"file\" \(pub)"
        try Data(line.utf8).write(to: dir.appendingPathComponent("unisonos-allowed-signers-v\(version).txt"))
        return line
    }

    @Test("a signed checksum file is verified; a pinned key that did not sign it is refused and nothing runs")
    func signed() throws {
        let release = try InstallScriptTests.release("signed")
        defer { release.server.stop(); try? FileManager.default.removeItem(at: release.work) }
        try InstallScriptTests.publish(release.assets, tag: "v1.2.3", version: "1.2.3", ranLog: release.ranLog)
        _ = try Self.sign(release, tag: "v1.2.3", version: "1.2.3")
        let ok = try InstallScriptTests.runScript(
            release,
            [
                "--version", "1.2.3", "--prefix", release.work.appendingPathComponent("bin").path,
                "--download-only",
            ])
        #expect(ok.status == 0, "\(ok.stderrString)")
        #expect(ok.stderrString.contains("verified the SSH signature of SHA256SUMS-v1.2.3.txt"))
        #expect(ok.stderrString.contains("keys this release publishes"))

        // A key the user pinned, which did not sign this release.
        let other = release.work.appendingPathComponent("other")
        #expect(try SystemProcessRunner().run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", other.path]).status == 0)
        let pinned = release.work.appendingPathComponent("pinned")
        try Data("release@unisonos \(try String(contentsOf: other.appendingPathExtension("pub"), encoding: .utf8))".utf8).write(to: pinned)
        let prefix = release.work.appendingPathComponent("bin2")
        let refused = try InstallScriptTests.runScript(
            release, ["--version", "1.2.3", "--prefix", prefix.path],
            env: ["UNISON_ALLOWED_SIGNERS": pinned.path])
        #expect(refused.status != 0)
        #expect(refused.stderrString.contains("SSH signature of SHA256SUMS-v1.2.3.txt does not verify"), "\(refused.stderrString)")
        #expect(!FileManager.default.fileExists(atPath: prefix.appendingPathComponent("unisonctl").path))
        #expect(!FileManager.default.fileExists(atPath: release.ranLog.path))
    }

    @Test("a checksum file changed after signing is refused even when its lines match the binary")
    func resigned() throws {
        let release = try InstallScriptTests.release("resigned")
        defer { release.server.stop(); try? FileManager.default.removeItem(at: release.work) }
        try InstallScriptTests.publish(release.assets, tag: "v1.2.3", version: "1.2.3", ranLog: release.ranLog)
        _ = try Self.sign(release, tag: "v1.2.3", version: "1.2.3")
        let sums = release.assets.appendingPathComponent("v1.2.3/SHA256SUMS-v1.2.3.txt")
        try (try String(contentsOf: sums, encoding: .utf8) + "\n").write(to: sums, atomically: true, encoding: .utf8)
        let r = try InstallScriptTests.runScript(release, ["--version", "1.2.3", "--prefix", release.work.appendingPathComponent("bin").path])
        #expect(r.status != 0)
        #expect(r.stderrString.contains("does not verify"))
        #expect(!FileManager.default.fileExists(atPath: release.ranLog.path))
    }
}
