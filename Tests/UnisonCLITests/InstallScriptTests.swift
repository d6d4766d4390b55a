import Foundation
import Testing
import UnisonCore
import UnisonTestSupport

@testable import UnisonInstall

/// scripts/install.sh end to end: a local HTTP server on 127.0.0.1 serves release assets, a
/// small shell script stands in for the unisonctl binary and records that it ran.
@Suite("install.sh", .serialized, .tags(.interop))
struct InstallScriptTests {
    static let script = Unisonctl.repoRoot.appendingPathComponent("scripts/install.sh")

    /// A static file server for `dir` that logs every request path to `requests.log`.
    final class AssetServer {
        static let code = #"""
            import functools, os, signal, sys
            from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
            signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT])
            root, ready, log = sys.argv[1], sys.argv[2], sys.argv[3]
            class H(SimpleHTTPRequestHandler):
                def log_message(self, *a): pass
                def do_GET(self):
                    with open(log, "a") as f: f.write(self.path + "\n")
                    super().do_GET()
            srv = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(H, directory=root))
            with open(ready + ".tmp", "w") as f: f.write(str(srv.server_address[1]))
            os.rename(ready + ".tmp", ready)
            srv.serve_forever()
            """#

        let process = Process()
        let dir: URL
        let log: URL
        var port = 0

        init(serving root: URL, work: URL) throws {
            dir = work
            log = work.appendingPathComponent("requests.log")
            let code = work.appendingPathComponent("server.py"), ready = work.appendingPathComponent("port")
            try Data(Self.code.utf8).write(to: code)
            process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            process.arguments = [code.path, root.path, ready.path, log.path]
            try process.run()
            let deadline = Date().addingTimeInterval(20)
            while !FileManager.default.fileExists(atPath: ready.path) {
                guard Date() < deadline, process.isRunning else { throw CocoaError(.fileReadNoSuchFile) }
                usleep(20_000)
            }
            port = Int(try String(contentsOf: ready, encoding: .utf8))!
        }

        var requests: [String] { ((try? String(contentsOf: log, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init) }
        func stop() { if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() } }
        deinit { stop() }
    }

    struct Release {
        let work: URL
        let assets: URL
        let ranLog: URL
        let server: AssetServer
        var url: String { "http://127.0.0.1:\(server.port)" }
    }

    static var arch: String {
        var u = utsname()
        uname(&u)
        let machine = withUnsafeBytes(of: &u.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return machine == "aarch64" || machine == "arm64" ? "arm64" : "amd64"
    }

    /// Publishes a release `tag` holding a stand-in unisonctl, the spec and SHA256SUMS, checked
    /// with sha256sum; `tamper` changes the binary after the sums were written.
    static func publish(_ assets: URL, tag: String, version: String, ranLog: URL, tamper: Bool = false, listBinary: Bool = true) throws {
        let dir = assets.appendingPathComponent(tag)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let binary = "unisonctl-linux-\(arch)"
        let stand_in =
            "#!/bin/sh\nprintf 'ran:' >> '\(ranLog.path)'\nfor a in \"$@\"; do printf ' %s' \"$a\" >> '\(ranLog.path)'; done\necho >> '\(ranLog.path)'\n"
        try Data(stand_in.utf8).write(to: dir.appendingPathComponent(binary))
        try Data("schema: 1\n".utf8).write(to: dir.appendingPathComponent("unison.yaml"))
        let names = (listBinary ? [binary] : []) + ["unison.yaml"]
        let sums = try SystemProcessRunner().run(["sha256sum"] + names, workingDirectory: dir)
        #expect(sums.status == 0)
        try sums.stdout.write(to: dir.appendingPathComponent("SHA256SUMS-v\(version).txt"))
        #expect(try SystemProcessRunner().run(["sha256sum", "-c", "SHA256SUMS-v\(version).txt"], workingDirectory: dir).status == 0)
        if tamper {
            try Data((stand_in + "echo evil >> '\(ranLog.path)'\n").utf8).write(to: dir.appendingPathComponent(binary))
        }
    }

    static func release(_ label: String) throws -> Release {
        let work = try TempDir.create("install-installsh-\(label)")
        let assets = work.appendingPathComponent("assets")
        try FileManager.default.createDirectory(at: assets, withIntermediateDirectories: true)
        return Release(
            work: work, assets: assets, ranLog: work.appendingPathComponent("ran.log"),
            server: try AssetServer(serving: assets, work: work))
    }

    static func runScript(_ release: Release, _ args: [String], env: [String: String] = [:], script: URL = script) throws -> ProcessResult {
        var environment = [
            "UNISON_RELEASE_URL": release.url, "UNISON_OSRELEASE_FILE": release.work.appendingPathComponent("osrelease").path,
            "PATH": "/usr/bin:/bin", "TMPDIR": release.work.path, "WSL_DISTRO_NAME": "",
        ]
        for (k, v) in env { environment[k] = v }
        return try SystemProcessRunner().run(["sh", script.path] + args, environment: environment)
    }

    @Test("is shellcheck-clean POSIX sh whose last line calls the one function holding everything")
    func shape() throws {
        let r = try SystemProcessRunner().run(["shellcheck", "-s", "sh", Self.script.path])
        #expect(r.status == 0, "\(r.stdoutString)")
        let text = try String(contentsOf: Self.script, encoding: .utf8)
        let code = text.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        #expect(code.first == "unison_install() {")
        #expect(code.last == "unison_install \"$@\"")
        #expect(code.dropLast().last == "}")
    }

    @Test("downloads, verifies, installs and runs unisonctl install with the version and passed-through arguments")
    func endToEnd() throws {
        let release = try Self.release("e2e")
        defer { release.server.stop(); try? FileManager.default.removeItem(at: release.work) }
        try Self.publish(release.assets, tag: "v1.2.3", version: "1.2.3", ranLog: release.ranLog)
        try Data("6.1.0-generic\n".utf8).write(to: release.work.appendingPathComponent("osrelease"))
        let prefix = release.work.appendingPathComponent("bin")
        let r = try Self.runScript(release, ["--version", "v1.2.3", "--prefix", prefix.path, "--root", "/tmp/x y", "--models", "default"])
        #expect(r.status == 0, "\(r.stderrString)")
        #expect(r.stderrString.contains("verified unisonctl-linux-\(Self.arch) sha256:"))
        let installed = prefix.appendingPathComponent("unisonctl")
        #expect(RootFiles.mode(installed.deletingLastPathComponent(), "/unisonctl") == 0o755)
        let ran = try String(contentsOf: release.ranLog, encoding: .utf8)
        #expect(ran.hasPrefix("ran: install native --channel stable --version 1.2.3 --spec "), "\(ran)")
        #expect(ran.contains("/unison.yaml --root /tmp/x y --models default\n"), "\(ran)")
        #expect(
            release.server.requests == [
                "/v1.2.3/SHA256SUMS-v1.2.3.txt", "/v1.2.3/unisonctl-linux-\(Self.arch)", "/v1.2.3/SHA256SUMS-v1.2.3.txt.sig",
                "/v1.2.3/unison.yaml",
            ])
        #expect(r.stderrString.contains("this release has no signature for SHA256SUMS-v1.2.3.txt"))
        // Nothing of the download is left behind.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: release.work.path).filter { $0.hasPrefix("unison-install.") }
        #expect(leftovers.isEmpty)
    }

    /// The names install.sh downloads are the ones `release attest` writes (and unison-platform's
    /// release workflow publishes): `SHA256SUMS-v<version>.txt`, its `.sig`, the allowed signers
    /// `unisonos-allowed-signers-v<version>.txt`, and the spec as `unison.yaml`.
    @Test("install.sh installs from a directory `unisonctl release attest` produced, checking its sums and signature")
    func fromAttestedRelease() throws {
        let release = try Self.release("attested")
        defer { release.server.stop(); try? FileManager.default.removeItem(at: release.work) }
        let dir = release.assets.appendingPathComponent("v1.2.3")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let stand_in =
            "#!/bin/sh\nprintf 'ran:' >> '\(release.ranLog.path)'\nfor a in \"$@\"; do printf ' %s' \"$a\" >> '\(release.ranLog.path)'; done\necho >> '\(release.ranLog.path)'\n"
        try Data(stand_in.utf8).write(to: dir.appendingPathComponent("unisonctl-linux-\(Self.arch)"))
        let spec = Unisonctl.repoRoot.appendingPathComponent("unison.yaml")
        try FileManager.default.copyItem(at: spec, to: dir.appendingPathComponent("unison.yaml"))
        let attest = try SystemProcessRunner().run([
            InstallCLITests.binary.path, "release", "attest", dir.path, "--version", "1.2.3", "--ephemeral-key",
            "--spec", spec.path, "--commit", String(repeating: "a", count: 40),
        ])
        #expect(attest.status == 0, "\(attest.stderrString)")
        try Data("6.1.0-generic\n".utf8).write(to: release.work.appendingPathComponent("osrelease"))

        let prefix = release.work.appendingPathComponent("bin")
        let r = try Self.runScript(release, ["--version", "1.2.3", "--prefix", prefix.path])
        #expect(r.status == 0, "\(r.stderrString)")
        #expect(r.stderrString.contains("verified the SSH signature of SHA256SUMS-v1.2.3.txt"), "\(r.stderrString)")
        #expect(r.stderrString.contains("verified unisonctl-linux-\(Self.arch) sha256:"))
        let ran = try String(contentsOf: release.ranLog, encoding: .utf8)
        #expect(ran.hasPrefix("ran: install native --channel stable --version 1.2.3 --spec "), "\(ran)")
        #expect(ran.contains("/unison.yaml\n"), "\(ran)")
        #expect(
            release.server.requests == [
                "/v1.2.3/SHA256SUMS-v1.2.3.txt", "/v1.2.3/unisonctl-linux-\(Self.arch)",
                "/v1.2.3/SHA256SUMS-v1.2.3.txt.sig", "/v1.2.3/unisonos-allowed-signers-v1.2.3.txt",
                "/v1.2.3/unison.yaml",
            ])
    }

    @Test("WSL is detected from the kernel release; a channel resolves through its VERSION file")
    func wslAndChannel() throws {
        let release = try Self.release("wsl")
        defer { release.server.stop(); try? FileManager.default.removeItem(at: release.work) }
        try Self.publish(release.assets, tag: "stable", version: "2.0.1", ranLog: release.ranLog)
        try Data("v2.0.1\n".utf8).write(to: release.assets.appendingPathComponent("stable/VERSION"))
        try Data("5.15.153.1-microsoft-standard-WSL2\n".utf8).write(to: release.work.appendingPathComponent("osrelease"))
        let r = try Self.runScript(release, ["--prefix", release.work.appendingPathComponent("bin").path])
        #expect(r.status == 0, "\(r.stderrString)")
        #expect(try String(contentsOf: release.ranLog, encoding: .utf8).hasPrefix("ran: install wsl --channel stable --version 2.0.1 "))
        #expect(release.server.requests.first == "/stable/VERSION")
    }

    @Test("a tampered binary is refused and never run; nothing is installed")
    func tampered() throws {
        let release = try Self.release("tamper")
        defer { release.server.stop(); try? FileManager.default.removeItem(at: release.work) }
        try Self.publish(release.assets, tag: "v1.2.3", version: "1.2.3", ranLog: release.ranLog, tamper: true)
        let prefix = release.work.appendingPathComponent("bin")
        let r = try Self.runScript(release, ["--version", "1.2.3", "--prefix", prefix.path])
        #expect(r.status != 0)
        #expect(r.stderrString.contains("checksum mismatch for unisonctl-linux-\(Self.arch)"), "\(r.stderrString)")
        #expect(!FileManager.default.fileExists(atPath: release.ranLog.path), "the tampered binary ran")
        #expect(!FileManager.default.fileExists(atPath: prefix.appendingPathComponent("unisonctl").path))
        // The independent check agrees that the file does not match.
        #expect(
            try SystemProcessRunner().run(
                ["sha256sum", "-c", "SHA256SUMS-v1.2.3.txt"], workingDirectory: release.assets.appendingPathComponent("v1.2.3")
            ).status != 0)
    }

    @Test(
        "a pinned --sha256 is checked too: a release replaced together with its sums file is refused; without a pin a warning says the sums come from the same server"
    )
    func pinned() throws {
        let release = try Self.release("pinned")
        defer { release.server.stop(); try? FileManager.default.removeItem(at: release.work) }
        try Self.publish(release.assets, tag: "v1.2.3", version: "1.2.3", ranLog: release.ranLog)
        let binary = release.assets.appendingPathComponent("v1.2.3/unisonctl-linux-\(Self.arch)")
        let genuine = try SystemProcessRunner().run(["sha256sum", binary.path]).stdoutString.split(separator: " ").first.map(String.init) ?? ""
        #expect(genuine.count == 64)
        let prefix = release.work.appendingPathComponent("bin")
        // The pin matches: installed, and said so.
        let ok = try Self.runScript(release, ["--version", "1.2.3", "--prefix", prefix.path, "--download-only", "--sha256", genuine.uppercased()])
        #expect(ok.status == 0, "\(ok.stderrString)")
        #expect(ok.stderrString.contains("sha256:\(genuine) (pinned)") && !ok.stderrString.contains("warning"), "\(ok.stderrString)")
        // Without a pin: installed with a warning.
        let unpinned = try Self.runScript(release, ["--version", "1.2.3", "--prefix", prefix.path, "--download-only"])
        #expect(
            unpinned.status == 0 && unpinned.stderrString.contains("warning: SHA256SUMS-v1.2.3.txt comes from the same server"),
            "\(unpinned.stderrString)")
        // The server replaces the binary and rewrites its sums file to match: only the pin notices.
        try FileManager.default.removeItem(at: prefix)
        try Self.publish(release.assets, tag: "v1.2.3", version: "1.2.3", ranLog: release.work.appendingPathComponent("evil.log"))
        let bad = try Self.runScript(release, ["--version", "1.2.3", "--prefix", prefix.path], env: ["UNISON_INSTALL_SHA256": genuine])
        #expect(bad.status != 0)
        #expect(bad.stderrString.contains("not the pinned \(genuine)"), "\(bad.stderrString)")
        #expect(!FileManager.default.fileExists(atPath: prefix.appendingPathComponent("unisonctl").path))
        #expect(!FileManager.default.fileExists(atPath: release.work.appendingPathComponent("evil.log").path))
        // A pin that is not a SHA-256 is refused before any download.
        let before = release.server.requests.count
        #expect(try Self.runScript(release, ["--sha256", "xyz"]).status != 0)
        #expect(release.server.requests.count == before)
    }

    @Test("a binary the sums file does not list is refused")
    func unlisted() throws {
        let release = try Self.release("unlisted")
        defer { release.server.stop(); try? FileManager.default.removeItem(at: release.work) }
        try Self.publish(release.assets, tag: "v1.2.3", version: "1.2.3", ranLog: release.ranLog, listBinary: false)
        let r = try Self.runScript(release, ["--version", "1.2.3", "--prefix", release.work.appendingPathComponent("bin").path])
        #expect(r.status != 0)
        #expect(r.stderrString.contains("lists no checksum for unisonctl-linux-"))
        #expect(!FileManager.default.fileExists(atPath: release.ranLog.path))
    }

    @Test("a truncated download runs nothing: no request is made, nothing installed", arguments: [0.3, 0.6, 0.95])
    func truncated(fraction: Double) throws {
        let release = try Self.release("trunc")
        defer { release.server.stop(); try? FileManager.default.removeItem(at: release.work) }
        try Self.publish(release.assets, tag: "v1.2.3", version: "1.2.3", ranLog: release.ranLog)
        let full = try Data(contentsOf: Self.script)
        let cut = release.work.appendingPathComponent("install-cut.sh")
        try full.prefix(Int(Double(full.count) * fraction)).write(to: cut)
        let prefix = release.work.appendingPathComponent("bin")
        _ = try Self.runScript(release, ["--version", "1.2.3", "--prefix", prefix.path], script: cut)
        #expect(release.server.requests.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: release.ranLog.path))
        #expect(!FileManager.default.fileExists(atPath: prefix.path))
    }

    @Test("bad arguments are refused before any download", arguments: [["--channel", "weekly"], ["--version", "latest"], ["--mode", "vm"]])
    func badArguments(args: [String]) throws {
        let release = try Self.release("badargs")
        defer { release.server.stop(); try? FileManager.default.removeItem(at: release.work) }
        let r = try Self.runScript(release, args)
        #expect(r.status == 1)
        #expect(r.stderrString.contains("unison-install: error:"))
        #expect(release.server.requests.isEmpty)
    }
}
