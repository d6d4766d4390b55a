import Foundation
import Testing
import UnisonCore
import UnisonSpec
import UnisonTestSupport

@testable import UnisonInstall

@Suite("Install into a root directory", .tags(.unit))
struct HostRootInstallTests {
    @Test("the tree, modes and recorded owners of a fresh install")
    func freshInstall() throws {
        let dir = try Fixture.tempDir("fresh")
        defer { try? FileManager.default.removeItem(at: dir) }
        let root = dir.appendingPathComponent("root")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let binary = try Fixture.fakeBinary(in: dir)
        let report = try Fixture.install(into: root, binary: binary)

        let expectations: [(String, UInt32)] = [
            ("/opt/unison-platform", 0o755), ("/opt/unison-platform/compose.yaml", 0o644),
            ("/opt/unison-platform/platform.env.template", 0o644), ("/opt/unison-platform/unison.yaml", 0o644),
            ("/opt/unison-platform/release.json", 0o644),
            ("/opt/unison-platform/bin/unison-env", 0o755), ("/opt/unison-platform/bin/unison-compose", 0o755),
            ("/opt/unison-platform/bin/unison-firstboot", 0o755),
            ("/etc/unison", 0o755), ("/etc/unison/platform.env", 0o600),
            ("/etc/systemd/system/unison-platform.service", 0o644), ("/etc/systemd/system/unison-firstboot.service", 0o644),
            ("/usr/local/bin/unisonctl", 0o755), ("/var/lib/unison", 0o755), ("/var/lib/unison/models", 0o755),
            ("/var/lib/unison/keys", 0o700), ("/var/lib/unison/keys/bootstrap-token", 0o400),
            ("/var/lib/unison/keys/context-root", 0o400), ("/var/lib/unison/keys/storage-root", 0o400),
            ("/var/lib/unison/keys/channel-root", 0o400), ("/var/lib/unison/keys/channel-workload-secret", 0o400),
            ("/var/lib/unison/install-manifest.json", 0o644),
        ]
        for (path, mode) in expectations {
            #expect(Fixture.mode(root, path) == mode, "\(path): \(String(Fixture.mode(root, path), radix: 8))")
        }
        #expect(
            try FileManager.default.destinationOfSymbolicLink(
                atPath: root.path + "/etc/systemd/system/multi-user.target.wants/unison-platform.service")
                == "/etc/systemd/system/unison-platform.service")
        #expect(try Data(contentsOf: URL(fileURLWithPath: root.path + "/usr/local/bin/unisonctl")) == Data(contentsOf: binary))
        #expect(!Fixture.exists(root, "/etc/wsl.conf"))

        // Secrets: generated, hex, of the spec's size, all different; no placeholder left.
        let env = try Fixture.read(root, "/etc/unison/platform.env")
        let spec = try Fixture.spec()
        var values: Set<String> = []
        for secret in spec.installer.secrets {
            let value = try #require(EnvFile.value(of: secret.name, in: env))
            #expect(value.count == secret.bytes * 2 && value.allSatisfy(\.isHexDigit), "\(secret.name)=\(value)")
            values.insert(value)
        }
        #expect(values.count == spec.installer.secrets.count)
        #expect(EnvFile.problems(in: env, secrets: spec.installer.secrets).isEmpty)
        let fileSecrets = spec.installer.fileSecrets.map { spec.installer.path(of: $0) }
        #expect(Set(report.generatedSecrets) == Set(spec.installer.secrets.map(\.name) + fileSecrets))
        // File secrets: hex of the spec's size, each different, created with their final mode.
        var fileValues: Set<String> = []
        for secret in spec.installer.fileSecrets {
            let value = try Fixture.read(root, spec.installer.path(of: secret))
            #expect(value.count == secret.bytes * 2 && value.allSatisfy(\.isHexDigit), "\(secret.file)")
            fileValues.insert(value)
        }
        #expect(fileValues.count == spec.installer.fileSecrets.count)

        // The manifest records owners (applied when running as root, recorded either way).
        let manifest = try JSONDecoder().decode(
            InstallManifest.self, from: Data(contentsOf: URL(fileURLWithPath: root.path + "/var/lib/unison/install-manifest.json")))
        #expect(manifest.schema == "unisonctl.install-manifest/v1")
        #expect(manifest.ownershipApplied == (geteuid() == 0))
        let envEntry = try #require(manifest.entries.first { $0.path == "/etc/unison/platform.env" })
        #expect(envEntry.uid == 0 && envEntry.gid == 0 && envEntry.mode == "0600" && envEntry.role == .config && envEntry.created)
        #expect(manifest.entries.contains { $0.path == "/opt" && $0.kind == .directory && $0.created })
        #expect(manifest.entries.first { $0.path == "/var/lib/unison/models" }?.role == .data)
        let token = try #require(manifest.entries.first { $0.path == "/var/lib/unison/keys/bootstrap-token" })
        #expect(token.uid == 1000 && token.gid == 1000 && token.mode == "0400" && token.role == .config)
        var st = stat()
        lstat(root.path + "/etc/unison/platform.env", &st)
        if geteuid() == 0 { #expect(st.st_uid == 0 && st.st_gid == 0) }
    }

    @Test(
        "a second install into the same root changes no file: same bytes, same mtimes, same inodes",
        arguments: [InstallMode.native, .docker, .wsl])
    func idempotent(mode: InstallMode) throws {
        let dir = try Fixture.tempDir("idem")
        defer { try? FileManager.default.removeItem(at: dir) }
        let root = dir.appendingPathComponent("root")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let binary = try Fixture.fakeBinary(in: dir)
        try Fixture.install(into: root, mode: mode, binary: binary)
        let before = try Fixture.snapshot(root)
        usleep(20_000)
        let report = try Fixture.install(into: root, mode: mode, binary: binary)
        let after = try Fixture.snapshot(root)
        #expect(before == after)
        #expect(!report.changedFiles, "\(report.changes.filter { $0.action != .unchanged && $0.action != .kept })")
        #expect(report.generatedSecrets.isEmpty)
    }

    @Test("an upgrade keeps a changed env value and appends only the keys the new release adds")
    func upgradeKeepsSettings() throws {
        let dir = try Fixture.tempDir("upgrade")
        defer { try? FileManager.default.removeItem(at: dir) }
        let root = dir.appendingPathComponent("root")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        var spec = try Fixture.spec()
        try Fixture.install(into: root, spec: spec)
        let envPath = root.path + "/etc/unison/platform.env"
        var env = try String(contentsOfFile: envPath, encoding: .utf8)
        let jwt = try #require(EnvFile.value(of: "UNISON_JWT_SECRET", in: env))
        env = env.replacingOccurrences(of: "UNISON_LOG_LEVEL=info", with: "UNISON_LOG_LEVEL=debug")
        env += "# my own note\nMY_SETTING=kept\n"
        try Data(env.utf8).write(to: URL(fileURLWithPath: envPath))

        // The next release adds a setting and a secret, and moves to a new version.
        spec.installer.env["UNISON_NEW_SETTING"] = "on"
        spec.installer.secrets.append(makeSecret("UNISON_NEW_TOKEN", 20))
        let report = try Fixture.install(into: root, spec: spec, version: SemVer("0.6.0"))
        let upgraded = try String(contentsOfFile: envPath, encoding: .utf8)
        #expect(upgraded.hasPrefix(env), "existing lines must be untouched")
        #expect(EnvFile.value(of: "UNISON_LOG_LEVEL", in: upgraded) == "debug")
        #expect(EnvFile.value(of: "UNISON_JWT_SECRET", in: upgraded) == jwt)
        #expect(EnvFile.value(of: "MY_SETTING", in: upgraded) == "kept")
        #expect(EnvFile.value(of: "UNISON_NEW_SETTING", in: upgraded) == "on")
        #expect(EnvFile.value(of: "UNISON_NEW_TOKEN", in: upgraded)?.count == 40)
        #expect(Set(report.appendedEnvKeys) == ["UNISON_NEW_SETTING", "UNISON_NEW_TOKEN"])
        #expect(Fixture.mode(root, "/etc/unison/platform.env") == 0o600)
        #expect(try Fixture.read(root, "/opt/unison-platform/compose.yaml").contains("unison-orchestrator:v0.6.0\""))
    }

    @Test("uninstall removes everything it installed and keeps data and settings; --purge removes those too")
    func uninstall() throws {
        let dir = try Fixture.tempDir("uninstall")
        defer { try? FileManager.default.removeItem(at: dir) }
        let root = dir.appendingPathComponent("root")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("etc/systemd/system"), withIntermediateDirectories: true)
        try Data("[boot]\nsystemd=false\n".utf8).write(to: root.appendingPathComponent("etc/wsl.conf"))
        try Fixture.install(into: root, mode: .wsl, binary: try Fixture.fakeBinary(in: dir))
        #expect(try Fixture.read(root, "/etc/wsl.conf") == "[boot]\nsystemd = true\ncommand = /opt/unison-platform/bin/unison-wsl-boot\n")
        // Data written by the running platform.
        try Data("rows".utf8).write(to: URL(fileURLWithPath: root.path + "/var/lib/unison/models/blob"))
        let token = try Fixture.read(root, "/var/lib/unison/keys/bootstrap-token")

        var host = try HostRoot(root)
        let report = try Uninstaller.uninstall(root: &host, manifestPath: "/var/lib/unison/install-manifest.json", purge: false)
        let left = try Fixture.snapshot(root).keys.sorted()
        #expect(
            left == [
                "etc", "etc/systemd", "etc/systemd/system", "etc/unison", "etc/unison/platform.env", "etc/wsl.conf",
                "var", "var/lib", "var/lib/unison", "var/lib/unison/install-manifest.json", "var/lib/unison/keys",
                "var/lib/unison/keys/bootstrap-token", "var/lib/unison/keys/channel-root",
                "var/lib/unison/keys/channel-workload-secret", "var/lib/unison/keys/context-root",
                "var/lib/unison/keys/storage-root", "var/lib/unison/models", "var/lib/unison/models/blob",
            ], "\(left)")
        #expect(report.changes.contains { $0.path == "/etc/wsl.conf" && $0.action == .kept })

        // Reinstall over the kept settings: the env file is reused, not regenerated.
        let env = try Fixture.read(root, "/etc/unison/platform.env")
        try Fixture.install(into: root, mode: .wsl)
        #expect(try Fixture.read(root, "/etc/unison/platform.env") == env)
        // File secrets are never overwritten.
        #expect(try Fixture.read(root, "/var/lib/unison/keys/bootstrap-token") == token)
        var host2 = try HostRoot(root)
        _ = try Uninstaller.uninstall(root: &host2, manifestPath: "/var/lib/unison/install-manifest.json", purge: true)
        #expect(try Fixture.snapshot(root).keys.sorted() == ["etc", "etc/systemd", "etc/systemd/system", "etc/wsl.conf"])
    }

    @Test("uninstall without an install says so")
    func uninstallNothing() throws {
        let root = try Fixture.tempDir("nothing")
        defer { try? FileManager.default.removeItem(at: root) }
        var host = try HostRoot(root)
        #expect(throws: InstallError.notInstalled(manifest: "/var/lib/unison/install-manifest.json")) {
            try Uninstaller.uninstall(root: &host, manifestPath: "/var/lib/unison/install-manifest.json", purge: false)
        }
    }

    @Test("a symlink planted in a staging root cannot lead the install outside it")
    func symlinkEscape() throws {
        let dir = try Fixture.tempDir("escape")
        defer { try? FileManager.default.removeItem(at: dir) }
        let root = dir.appendingPathComponent("root"), outside = dir.appendingPathComponent("outside")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: root.path + "/opt", withDestinationPath: outside.path)
        do {
            try Fixture.install(into: root)
            Issue.record("installed through a symlink")
        } catch let error as InstallError {
            #expect(error.description.contains("outside the install root"), "\(error)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside.path).isEmpty)
    }

    @Test("a file where a directory belongs stops the install with its path")
    func conflict() throws {
        let root = try Fixture.tempDir("conflict")
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root.appendingPathComponent("etc"), withIntermediateDirectories: true)
        try Data().write(to: root.appendingPathComponent("etc/unison"))
        #expect(throws: InstallError.conflict(path: "/etc/unison", found: "file", wanted: "directory")) {
            try Fixture.install(into: root)
        }
    }
}
