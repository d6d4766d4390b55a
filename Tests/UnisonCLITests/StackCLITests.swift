import Foundation
import Testing
import UnisonCore
import UnisonTestSupport

/// start, stop, restart, status, logs and recover through the built CLI against an install
/// staged with `install native --root`, with stand-in docker/systemctl/journalctl on PATH that
/// record what they were asked to run: the same result on a host with or without Docker.
@Suite("stack commands through the CLI (--root, stand-in docker and systemctl)", .tags(.unit))
struct StackCLITests {
    static var specPath: String { Unisonctl.repoRoot.appendingPathComponent("unison.yaml").path }

    /// A staged install (secrets generated, nothing started), with the stand-in tools.
    func staged(_ label: String) throws -> (root: URL, tools: StandInTools) {
        let root = try TempDir.create(label)
        let install = try Unisonctl.run(["install", "native", "--root", root.path, "--spec", Self.specPath, "--no-binary", "--no-start"])
        #expect(install.status == 0, "\(install.stderrString)")
        return (root, try StandInTools())
    }

    @Test("without systemd under the root, each command runs docker compose on the staged files")
    func compose() throws {
        let (root, tools) = try staged("stack-compose")
        defer { try? FileManager.default.removeItem(at: root); tools.cleanup() }
        let project = [
            "compose", "-f", root.path + "/opt/unison-platform/compose.yaml", "-p", "unison",
            "--env-file", root.path + "/etc/unison/platform.env",
        ]
        let checks = [["docker", "--version"], ["docker", "compose", "version"]]
        let cases: [([String], [[String]])] = [
            (["start"], [project + ["up", "--detach", "--remove-orphans"]]),
            (["stop"], [project + ["down"]]),
            (["restart"], [project + ["up", "--detach", "--remove-orphans", "--force-recreate"]]),
            (["status"], [project + ["ps", "--all"]]),
            (["recover"], [project + ["down", "--remove-orphans"], project + ["up", "--detach", "--remove-orphans", "--force-recreate"]]),
            (["logs", "auth", "--tail", "7"], [project + ["logs", "--no-color", "--tail", "7", "auth"]]),
        ]
        for (args, expected) in cases {
            tools.reset()
            let r = try Unisonctl.run(args + ["--root", root.path, "--spec", Self.specPath], environment: tools.environment)
            #expect(r.status == 0, "\(args): \(r.stderrString)")
            #expect(r.stderrString.contains("note: systemd is not running here"), "\(args): \(r.stderrString)")
            #expect(tools.calls() == checks + expected.map { ["docker"] + $0 }, "\(args)")
        }
        // What the tools printed reaches the user: compose's table, the log lines.
        let status = try Unisonctl.run(["status", "--root", root.path, "--spec", Self.specPath], environment: tools.environment)
        #expect(status.stdoutString.contains("unison-auth-1 running"), "\(status.stdoutString)")
        let logs = try Unisonctl.run(["logs", "auth", "--root", root.path, "--spec", Self.specPath], environment: tools.environment)
        #expect(logs.stdoutString.contains("stand-in log line for auth"), "\(logs.stdoutString)")
        let json = try Unisonctl.run(["status", "--json", "--root", root.path, "--spec", Self.specPath], environment: tools.environment)
        let outcome = try #require(try JSONSerialization.jsonObject(with: json.stdout) as? [String: Any])
        #expect(outcome["schema"] as? String == "unisonctl.stack/v1")
        #expect(outcome["backend"] as? String == "compose")
    }

    @Test("with systemd running under the root and the unit installed, start/stop/restart go through systemctl")
    func systemd() throws {
        let (root, tools) = try staged("stack-systemd")
        defer { try? FileManager.default.removeItem(at: root); tools.cleanup() }
        try FileManager.default.createDirectory(atPath: root.path + "/run/systemd/system", withIntermediateDirectories: true)
        for verb in ["start", "stop", "restart"] {
            tools.reset()
            let r = try Unisonctl.run([verb, "--root", root.path, "--spec", Self.specPath], environment: tools.environment)
            #expect(r.status == 0, "\(verb): \(r.stderrString)")
            #expect(tools.calls().last == ["systemctl", verb, "unison-platform.service"], "\(verb): \(tools.calls())")
        }
        tools.reset()
        let logs = try Unisonctl.run(["logs", "--tail", "5", "--root", root.path, "--spec", Self.specPath], environment: tools.environment)
        #expect(logs.status == 0, "\(logs.stderrString)")
        #expect(tools.calls() == [["journalctl", "--unit", "unison-platform.service", "--no-pager", "--lines", "5"]])
        // --follow streams the tool's output straight through (the stand-in ends at once).
        tools.reset()
        let followed = try Unisonctl.run(["logs", "--follow", "--root", root.path, "--spec", Self.specPath], environment: tools.environment)
        #expect(followed.status == 0, "\(followed.stderrString)")
        #expect(followed.stdoutString.contains("stand-in journal"))
        #expect(tools.calls() == [["journalctl", "--unit", "unison-platform.service", "--no-pager", "--lines", "200", "--follow"]])
        // `follow` is `logs --follow`, under the same root.
        let follow = try Unisonctl.run(["follow", "--root", root.path, "--spec", Self.specPath], environment: tools.environment)
        #expect(follow.status == 0, "\(follow.stderrString)")
        #expect(follow.stdoutString.contains("stand-in journal"))
        #expect(tools.calls().last == ["journalctl", "--unit", "unison-platform.service", "--no-pager", "--lines", "200", "--follow"])
        // `systemctl status` of a stopped unit exits 3: reported, not a failure.
        let status = try Unisonctl.run(["status", "--root", root.path, "--spec", Self.specPath], environment: tools.environment)
        #expect(status.status == 0, "\(status.stderrString)")
        #expect(status.stdoutString.contains("unison-platform.service - stand-in"))
    }

    @Test("an unsafe env file stops start before docker compose runs; a root without an install is a clear error")
    func refusals() throws {
        let (root, tools) = try staged("stack-refuse")
        defer { try? FileManager.default.removeItem(at: root); tools.cleanup() }
        let envPath = root.path + "/etc/unison/platform.env"
        let text =
            try String(contentsOfFile: envPath, encoding: .utf8).split(separator: "\n")
            .map { $0.hasPrefix("POSTGRES_PASSWORD=") ? "POSTGRES_PASSWORD=postgres" : String($0) }.joined(separator: "\n") + "\n"
        try Data(text.utf8).write(to: URL(fileURLWithPath: envPath))
        let start = try Unisonctl.run(["start", "--root", root.path, "--spec", Self.specPath], environment: tools.environment)
        #expect(start.status != 0)
        #expect(start.stderrString.contains("POSTGRES_PASSWORD"), "\(start.stderrString)")
        #expect(!tools.calls().contains { $0.contains("up") }, "\(tools.calls())")

        let empty = try TempDir.create("stack-empty")
        defer { try? FileManager.default.removeItem(at: empty) }
        let none = try Unisonctl.run(["status", "--root", empty.path, "--spec", Self.specPath], environment: tools.environment)
        #expect(none.status != 0)
        #expect(none.stderrString.contains("/opt/unison-platform/compose.yaml"), "\(none.stderrString)")
    }
}
