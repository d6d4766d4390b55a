import Foundation
import Testing
import UnisonCore
import UnisonSpec
import UnisonTestSupport

@testable import UnisonInstall

/// Spec values reach root-run scripts, units and the env file as data, never as code — even
/// values `spec validate` would refuse (the generators do not rely on validation).
@Suite("hostile spec values in generated files", .tags(.interop))
struct HostileSpecValuesTests {
    /// A spec whose every generator-facing value tries to run `touch <pwn>`.
    static func hostileSpec(pwn: String) throws -> PlatformSpec {
        var spec = try Fixture.spec()
        let inject = "$(touch \(pwn))`touch \(pwn)`';touch \(pwn);'\""
        spec.platform.displayName = "Unison\nExecStartPre=/bin/touch \(pwn)\n%h\\"
        spec.installer.composeProject = "p" + inject
        spec.qa.boot.marker = "OK" + inject
        spec.installer.prefix = "/opt/uni son" + inject.replacingOccurrences(of: "/", with: "_")
        spec.installer.envFile = "/etc/uni$(touch x)'q/platform.env"
        spec.installer.dataDir = "/var/lib/uni`id`"
        spec.installer.env["LOG_LEVEL"] = "info\nINJECTED=1"
        spec.installer.env["BAD\nKEY"] = "x"
        return spec
    }

    static func write(_ text: String, _ url: URL, mode: Int = 0o755) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
        chmod(url.path, mode_t(mode))
    }

    @Test("first boot runs with injected marker, paths, project and version: nothing injected runs, the marker prints as written")
    func firstBootAsData() throws {
        let dir = try Fixture.tempDir("hostile-values")
        defer { try? FileManager.default.removeItem(at: dir) }
        let pwn = dir.appendingPathComponent("PWNED").path
        let spec = try Self.hostileSpec(pwn: pwn)
        let layout = InstallLayout(spec: spec)
        let root = dir.appendingPathComponent("root")
        func host(_ p: String) -> URL { URL(fileURLWithPath: root.path + p) }
        try Self.write("services: {}\n", host(layout.composeFile), mode: 0o644)
        try Self.write(EnvFile.template(spec: spec, modelPack: "light"), host(layout.envTemplate), mode: 0o644)
        try Self.write(HostScripts.envScript(spec: spec, layout: layout), host(layout.envScript))
        try Self.write(HostScripts.composeScript(layout: layout), host(layout.composeScript))
        let version = "1.0.0$(touch \(pwn))"
        try Self.write(
            HostScripts.firstBootScript(spec: spec, layout: layout, version: version, modelPack: "light';touch \(pwn);'"),
            host(layout.firstBootScript))
        try Self.write(HostScripts.wslBootScript(layout: layout), host(layout.wslBootScript))

        let run = try Fixture.run(["sh", host(layout.firstBootScript).path], env: ["UNISON_ROOT": root.path, "PATH": "/usr/bin:/bin"])
        #expect(run.status == 0, "\(run.stdoutString)\(run.stderrString)")
        #expect(run.stdoutString.split(separator: "\n").last.map(String.init) == spec.qa.boot.marker)
        #expect(run.stdoutString.contains("platform \(version), model pack light';touch \(pwn);'"))
        #expect(!FileManager.default.fileExists(atPath: pwn), "an injected command ran")
        #expect(FileManager.default.fileExists(atPath: host(layout.firstBootStamp).path))
        // The env file has the template's keys and no injected one.
        let env = try String(contentsOf: host(layout.envFile), encoding: .utf8)
        let keys = EnvFile.parse(env).compactMap { if case let .assignment(k, _) = $0 { return k } else { return nil } }
        #expect(!keys.contains("INJECTED") && !keys.contains("KEY"), "\(keys)")
        #expect(EnvFile.value(of: "LOG_LEVEL", in: env) == #"info\nINJECTED=1"#)

        // The compose wrapper hands the project and paths to docker as single arguments.
        let fakeBin = dir.appendingPathComponent("bin")
        let log = dir.appendingPathComponent("docker.log")
        try Self.write("#!/bin/sh\nfor a in \"$@\"; do printf '[%s]\\n' \"$a\" >> '\(log.path)'; done\n", fakeBin.appendingPathComponent("docker"))
        let compose = try Fixture.run(
            ["sh", host(layout.composeScript).path, "ps"],
            env: ["UNISON_ROOT": root.path, "PATH": fakeBin.path + ":/usr/bin:/bin"])
        #expect(compose.status == 0, "\(compose.stderrString)")
        let args = try String(contentsOf: log, encoding: .utf8)
        #expect(args.contains("[-p]\n[\(layout.composeProject)]\n"), "\(args)")
        #expect(args.contains("[\(root.path + layout.composeFile)]\n"), "\(args)")
        #expect(!FileManager.default.fileExists(atPath: pwn), "an injected command ran")

        // shellcheck reads every script as clean POSIX sh, injected values and all.
        let scripts = [layout.envScript, layout.composeScript, layout.firstBootScript, layout.wslBootScript].map { host($0).path }
        // Excluded: SC2016/SC2089/SC2090 say "this quoted text will not expand", which is the
        // point here (the plain scripts pass shellcheck unfiltered in GeneratedFilesTests).
        let check = try Fixture.run(["shellcheck", "-s", "sh", "--exclude=SC2016,SC2089,SC2090"] + scripts)
        #expect(check.status == 0, "\(check.stdoutString)")
    }

    @Test("units: a newline in displayName adds no setting, % is no specifier; systemd-analyze verify accepts them")
    func units() throws {
        let dir = try Fixture.tempDir("hostile-units")
        defer { try? FileManager.default.removeItem(at: dir) }
        var spec = try Fixture.spec()
        spec.platform.displayName = "Unison\nExecStartPre=/bin/touch /tmp/pwned\n%h 50% \\"
        let layout = InstallLayout(spec: spec)
        let platform = SystemdUnits.platformUnit(spec: spec, layout: layout)
        let firstBoot = SystemdUnits.firstBootUnit(spec: spec, layout: layout)
        for unit in [platform, firstBoot] {
            let lines = unit.split(separator: "\n")
            #expect(!lines.contains { $0.hasPrefix("ExecStartPre=/bin/touch") }, "\(unit)")
            #expect(lines.filter { $0.hasPrefix("Description=") }.count == 1)
            #expect(unit.contains("Description=Unison ExecStartPre=/bin/touch /tmp/pwned %%h 50%% "), "\(unit)")
            #expect(!lines.contains { $0.hasSuffix("\\") })
        }
        // Read back by systemd itself, in a staged root holding the helpers the units run.
        let root = dir.appendingPathComponent("root")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try Fixture.install(into: root, spec: spec)
        let systemUnits = root.appendingPathComponent("usr/lib/systemd")
        try FileManager.default.createDirectory(at: systemUnits, withIntermediateDirectories: true)
        #expect(try Fixture.run(["cp", "-a", "/usr/lib/systemd/system", systemUnits.path + "/"]).status == 0)
        let units = [layout.unitPath, layout.firstBootUnitPath].map { root.path + $0 }
        let verify = try Fixture.run(["systemd-analyze", "verify", "--man=no", "--root=\(root.path)"] + units, env: ["SYSTEMD_LOG_LEVEL": "notice"])
        let said = (verify.stdoutString + verify.stderrString).split(separator: "\n").filter { $0.contains("unison") }
        #expect(verify.status == 0 && said.isEmpty, "\(verify.stdoutString)\(verify.stderrString)")
        #expect(try String(contentsOfFile: units[0], encoding: .utf8) == platform)
    }

    @Test(
        "an Exec path that needs quoting is one quoted word",
        arguments: [
            ("/opt/plain/bin/x", "/opt/plain/bin/x"), ("/opt/a b/x", "\"/opt/a b/x\""), ("/opt/$x/%h", "\"/opt/$$x/%%h\""),
            ("/opt/q\"\\", "\"/opt/q\\\"\\\\\""), ("/opt/\n", "\"/opt/\\x0a\""),
        ])
    func execWords(value: String, expected: String) {
        #expect(SystemdUnits.word(value) == expected)
    }
}
