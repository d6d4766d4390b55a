import Foundation
import Testing
import UnisonCore
import UnisonSpec
import UnisonTestSupport

@testable import UnisonInstall

/// The installed helpers run by sh against a staged image root (UNISON_ROOT), the way the
/// first-boot unit runs them on a machine.
@Suite("Shell helpers", .tags(.interop))
struct ShellHelperTests {
    /// A staged image: the plan applied with secrets left for first boot.
    func stageImage(_ dir: URL) throws -> URL {
        let root = dir.appendingPathComponent("root")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let plan = try InstallPlan.make(spec: try Fixture.spec(), options: InstallOptions(mode: .image))
        var host = try HostRoot(root)
        _ = try plan.apply(to: &host)
        return root
    }

    func sh(_ root: URL, _ script: String, _ args: [String] = [], extraPath: String? = nil) throws -> ProcessResult {
        var env = ["UNISON_ROOT": root.path]
        if let extraPath { env["PATH"] = extraPath + ":/usr/bin:/bin" } else { env["PATH"] = "/usr/bin:/bin" }
        return try Fixture.run(["sh", root.path + "/opt/unison-platform/bin/" + script] + args, env: env)
    }

    @Test("first boot seeds the secrets, checks the file and prints the marker once, without Docker")
    func firstBoot() throws {
        let dir = try Fixture.tempDir("firstboot")
        defer { try? FileManager.default.removeItem(at: dir) }
        let root = try stageImage(dir)
        let envPath = root.path + "/etc/unison/platform.env"
        #expect(try String(contentsOfFile: envPath, encoding: .utf8).contains("POSTGRES_PASSWORD=CHANGE_ME"))
        // The check refuses the unseeded file.
        let unseeded = try sh(root, "unison-env", ["check"])
        #expect(unseeded.status == 78)
        #expect(unseeded.stderrString.contains("CHANGE_ME"))

        let result = try sh(root, "unison-firstboot")
        #expect(result.status == 0, "\(result.stdoutString)\(result.stderrString)")
        let lines = result.stdoutString.split(separator: "\n")
        #expect(lines.last == "UNISONOS-FIRSTBOOT-OK")
        #expect(result.stdoutString.contains("docker: not installed"))
        #expect(Fixture.exists(root, "/var/lib/unison/.firstboot-done"))
        #expect(Fixture.mode(root, "/etc/unison/platform.env") == 0o600)
        let env = try String(contentsOfFile: envPath, encoding: .utf8)
        let spec = try Fixture.spec()
        #expect(EnvFile.problems(in: env, secrets: spec.installer.secrets).isEmpty, "\(env)")
        for secret in spec.installer.secrets {
            #expect(EnvFile.value(of: secret.name, in: env)?.count == secret.bytes * 2)
        }
        // Seeding again changes nothing (same inode, same bytes).
        let before = try Fixture.snapshot(root)
        #expect(try sh(root, "unison-env", ["seed"]).status == 0)
        #expect(try Fixture.snapshot(root) == before)
    }

    @Test("first boot fails loudly, without the marker, when the install is incomplete")
    func firstBootIncomplete() throws {
        let dir = try Fixture.tempDir("firstboot-bad")
        defer { try? FileManager.default.removeItem(at: dir) }
        let root = try stageImage(dir)
        try FileManager.default.removeItem(atPath: root.path + "/opt/unison-platform/compose.yaml")
        let result = try sh(root, "unison-firstboot")
        #expect(result.status == 1)
        #expect(result.stdoutString.contains("UNISONOS-FIRSTBOOT-FAILED: /opt/unison-platform/compose.yaml is missing"))
        #expect(!result.stdoutString.contains("UNISONOS-FIRSTBOOT-OK"))
        #expect(!Fixture.exists(root, "/var/lib/unison/.firstboot-done"))
    }

    @Test("seed keeps a person's lines and appends new template keys, like the Swift seeding")
    func seedMerge() throws {
        let dir = try Fixture.tempDir("seed")
        defer { try? FileManager.default.removeItem(at: dir) }
        let root = try stageImage(dir)
        let envPath = root.path + "/etc/unison/platform.env"
        let mine = "# mine\nUNISON_LOG_LEVEL=debug\nUNISON_JWT_SECRET=0123456789abcdef0123456789abcdef\nPOSTGRES_PASSWORD=CHANGE_ME\n"
        try Data(mine.utf8).write(to: URL(fileURLWithPath: envPath))
        #expect(try sh(root, "unison-env", ["seed"]).status == 0)
        let text = try String(contentsOfFile: envPath, encoding: .utf8)
        #expect(text.hasPrefix("# mine\nUNISON_LOG_LEVEL=debug\nUNISON_JWT_SECRET=0123456789abcdef0123456789abcdef\nPOSTGRES_PASSWORD="))
        #expect(EnvFile.value(of: "POSTGRES_PASSWORD", in: text)?.count == 48)
        for key in ["GRAFANA_ADMIN_PASSWORD", "UNISON_CONSENT_KEY"] {
            #expect(EnvFile.value(of: key, in: text)?.allSatisfy(\.isHexDigit) == true, "\(key)")
        }
        #expect(EnvFile.value(of: "UNISON_MODEL_PACK", in: text) == "light")
        #expect(try sh(root, "unison-env", ["check"]).status == 0)
    }

    @Test(
        "check refuses unsafe files, as EnvFile.problems does",
        arguments: [
            ("POSTGRES_PASSWORD=password", "known development value"),
            ("POSTGRES_PASSWORD=", "empty"),
            ("POSTGRES_PASSWORD=short", "shorter than 16"),
            ("POSTGRES_PASSWORD=CHANGE_ME", "CHANGE_ME"),
        ])
    func checkRefuses(line: String, message: String) throws {
        let dir = try Fixture.tempDir("check")
        defer { try? FileManager.default.removeItem(at: dir) }
        let root = try stageImage(dir)
        #expect(try sh(root, "unison-env", ["seed"]).status == 0)
        let envPath = root.path + "/etc/unison/platform.env"
        var text = try String(contentsOfFile: envPath, encoding: .utf8)
        text = text.split(separator: "\n").map { $0.hasPrefix("POSTGRES_PASSWORD=") ? line : String($0) }.joined(separator: "\n") + "\n"
        try Data(text.utf8).write(to: URL(fileURLWithPath: envPath))
        let r = try sh(root, "unison-env", ["check"])
        #expect(r.status == 78)
        #expect(r.stderrString.contains(message), "\(r.stderrString)")
        #expect(
            EnvFile.problems(in: text, secrets: try Fixture.spec().installer.secrets).contains {
                $0.contains(message) || message == "CHANGE_ME" && $0.contains("placeholder")
            })
        // Mode is part of the check.
        #expect(try sh(root, "unison-env", ["seed"]).status == 0)
        chmod(envPath, 0o644)
        let loose = try sh(root, "unison-env", ["check"])
        #expect(loose.status == 78)
    }

    @Test("unison-compose says plainly that Docker is missing, and calls docker compose with the project when present")
    func composeWrapper() throws {
        let dir = try Fixture.tempDir("compose-sh")
        defer { try? FileManager.default.removeItem(at: dir) }
        let root = try stageImage(dir)
        let empty = dir.appendingPathComponent("empty-bin")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        let missing = try Fixture.run(
            ["/bin/sh", root.path + "/opt/unison-platform/bin/unison-compose", "up"],
            env: ["UNISON_ROOT": root.path, "PATH": empty.path])
        #expect(missing.status == 69)
        #expect(missing.stderrString.contains("Docker is not installed"))

        // A recording docker stands in for the real one.
        let fakeBin = dir.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: fakeBin, withIntermediateDirectories: true)
        let log = dir.appendingPathComponent("docker.log")
        try Data("#!/bin/sh\necho \"$*\" >> \(log.path)\n".utf8).write(to: fakeBin.appendingPathComponent("docker"))
        chmod(fakeBin.appendingPathComponent("docker").path, 0o755)
        let ok = try sh(root, "unison-compose", ["ps"], extraPath: fakeBin.path)
        #expect(ok.status == 0, "\(ok.stderrString)")
        let calls = try String(contentsOf: log, encoding: .utf8).split(separator: "\n")
        #expect(
            calls == [
                "compose version",
                "compose -f \(root.path)/opt/unison-platform/compose.yaml -p unison --env-file \(root.path)/etc/unison/platform.env ps",
            ])
    }

    @Test("WSL without systemd: the boot command runs first boot, then starts the stack when Docker is there")
    func wslBoot() throws {
        let dir = try Fixture.tempDir("wslboot")
        defer { try? FileManager.default.removeItem(at: dir) }
        let root = dir.appendingPathComponent("root")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        var host = try HostRoot(root)
        _ = try InstallPlan.make(spec: try Fixture.spec(), options: InstallOptions(mode: .wsl, secrets: .atFirstBoot)).apply(to: &host)

        let noDocker = try sh(root, "unison-wsl-boot")
        #expect(noDocker.status == 0, "\(noDocker.stderrString)")
        #expect(noDocker.stdoutString.contains("UNISONOS-FIRSTBOOT-OK"))
        #expect(noDocker.stderrString.contains("Docker is not installed; the stack was not started"))
        #expect(Fixture.exists(root, "/var/lib/unison/.firstboot-done"))

        let fakeBin = dir.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: fakeBin, withIntermediateDirectories: true)
        let log = dir.appendingPathComponent("docker.log")
        try Data("#!/bin/sh\necho \"$*\" >> \(log.path)\n".utf8).write(to: fakeBin.appendingPathComponent("docker"))
        chmod(fakeBin.appendingPathComponent("docker").path, 0o755)
        let started = try sh(root, "unison-wsl-boot", extraPath: fakeBin.path)
        #expect(started.status == 0, "\(started.stderrString)")
        #expect(!started.stdoutString.contains("UNISONOS-FIRSTBOOT-OK"), "first boot runs once")
        let calls = try String(contentsOf: log, encoding: .utf8)
        #expect(
            calls.hasSuffix(
                "compose -f \(root.path)/opt/unison-platform/compose.yaml -p unison --env-file \(root.path)/etc/unison/platform.env up -d --remove-orphans\n"
            ), "\(calls)")

        // With systemd running, the units do the work and the boot command does nothing.
        try FileManager.default.createDirectory(atPath: root.path + "/run/systemd/system", withIntermediateDirectories: true)
        try FileManager.default.removeItem(at: log)
        #expect(try sh(root, "unison-wsl-boot", extraPath: fakeBin.path).status == 0)
        #expect(!FileManager.default.fileExists(atPath: log.path))
    }
}
