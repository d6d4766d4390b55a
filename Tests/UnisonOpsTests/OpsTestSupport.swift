import Foundation
import Testing
import UnisonCore
import UnisonSpec
@testable import UnisonOps

/// A ProcessRunner that records every command and answers from a script of prefixes.
final class FakeRunner: ProcessRunner, @unchecked Sendable {
    private let lock = NSLock()
    private var calls: [[String]] = []
    /// First matching prefix wins; nil result means "tool not found".
    let answers: [([String], ProcessResult?)]

    init(_ answers: [([String], ProcessResult?)]) { self.answers = answers }

    var commands: [[String]] { lock.lock(); defer { lock.unlock() }; return calls }

    func run(_ arguments: [String], environment: [String: String]?, input: Data?, workingDirectory: URL?) throws -> ProcessResult {
        lock.lock(); calls.append(arguments); lock.unlock()
        for (prefix, result) in answers where arguments.starts(with: prefix) {
            guard let result else { throw ProcessError.notFound(tool: arguments[0], hint: nil) }
            return result
        }
        return ProcessResult(status: 0, stdout: Data(), stderr: Data())
    }

    static func ok(_ out: String = "") -> ProcessResult { ProcessResult(status: 0, stdout: Data(out.utf8), stderr: Data()) }
    static func fail(_ status: Int32, _ err: String = "") -> ProcessResult { ProcessResult(status: status, stdout: Data(), stderr: Data(err.utf8)) }

    /// Docker with the compose plugin.
    static var withDocker: FakeRunner {
        FakeRunner([(["docker", "--version"], ok("Docker version 27.0.0")), (["docker", "compose", "version"], ok("Docker Compose version v2.29.0"))])
    }
    /// No docker binary at all.
    static var noDocker: FakeRunner { FakeRunner([(["docker"], nil)]) }
}

enum OpsFixture {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func tempDir(_ label: String) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("unison-ops-\(label)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    static func repoSpec() throws -> PlatformSpec { try SpecLoader.load(file: repoRoot.appendingPathComponent("unison.yaml")) }

    /// A small spec whose services are infrastructure entries on the given ports.
    static func specText(services: [(name: String, port: Int, health: String?, healthCommand: String?)],
                         minRam: String = "1MB", minDisk: String = "1MB") -> String {
        var text = """
        schema: 1
        platform: {name: unisonos, org: project-unisonos}
        repos: [{name: unison-docs, role: docs}]
        services: []
        infrastructure:

        """
        for s in services {
            text += "  - name: \(s.name)\n    image: docker.io/library/\(s.name):1\n    port: \(s.port)\n"
            if let h = s.health { text += "    health: \(h)\n" }
            if let c = s.healthCommand { text += "    healthCommand: \"\(c)\"\n" }
        }
        text += """
        channels:
          nightly: {tags: ["type=edge,branch=main"]}
          beta: {tags: ["type=semver,pattern={{version}}"]}
          stable: {tags: ["type=semver,pattern={{version}}"]}
        models:
          packs:
            - {name: light, minRam: \(minRam), minDisk: \(minDisk)}
            - {name: big, minRam: 100TB, minDisk: 100TB}
        bases:
          - {name: deb, kind: mmdebstrap, suite: bookworm}
        targets:
          wsl: {base: deb, models: light}
        installer:
          secrets: [{name: TEST_SECRET, bytes: 16}]

        """
        return text
    }

    static func spec(_ text: String) throws -> PlatformSpec { try SpecLoader.load(text: text, file: "test.yaml") }
}

/// Real HTTP servers on 127.0.0.1 (python3), one per mode: `ok` answers 200, `fail` 500, `slow`
/// sleeps a minute before answering, `flaky` answers 503 to its first three requests then 200,
/// `refuse` holds a bound port without listening (connections are refused), and every
/// `barrier…` mode answers 200 only once a request has reached each `barrier…` server (504 when
/// that has not happened within 30 s): only a checker that asks them all at once passes.
final class HealthServers {
    static let script = #"""
    import json, signal, socket, sys, threading, time
    # The test runner's threads block signals and children inherit that mask.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT])
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    ready_file, modes = sys.argv[1], sys.argv[2:]
    ports, servers, held = {}, [], []
    barrier = threading.Barrier(max(1, sum(m.startswith("barrier") for m in modes)), timeout=30)

    def handler(mode):
        state = {"count": 0}
        class H(BaseHTTPRequestHandler):
            def log_message(self, *a): pass
            def do_GET(self):
                state["count"] += 1
                if mode == "slow":
                    time.sleep(60)
                code = {"ok": 200, "fail": 500, "slow": 200}.get(mode, 200)
                if mode.startswith("barrier"):
                    try:
                        barrier.wait()
                    except threading.BrokenBarrierError:
                        code = 504
                if mode == "flaky":
                    code = 503 if state["count"] <= 3 else 200
                body = json.dumps({"mode": mode, "path": self.path}).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
        return H

    for mode in modes:
        if mode == "refuse":
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            held.append(s)
            ports[mode] = s.getsockname()[1]
            continue
        srv = ThreadingHTTPServer(("127.0.0.1", 0), handler(mode))
        srv.daemon_threads = True
        servers.append(srv)
        ports[mode] = srv.server_address[1]
        threading.Thread(target=srv.serve_forever, daemon=True).start()

    with open(ready_file + ".tmp", "w") as f:
        json.dump(ports, f)
    import os
    os.rename(ready_file + ".tmp", ready_file)
    while True:
        time.sleep(3600)
    """#

    let process = Process()
    let dir: URL
    var ports: [String: Int] = [:]

    init(_ modes: [String]) throws {
        dir = try OpsFixture.tempDir("servers")
        let scriptURL = dir.appendingPathComponent("servers.py")
        try Data(Self.script.utf8).write(to: scriptURL)
        let ready = dir.appendingPathComponent("ready.json")
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [scriptURL.path, ready.path] + modes
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(20)
        while !FileManager.default.fileExists(atPath: ready.path) {
            guard Date() < deadline, process.isRunning else { throw CocoaError(.fileReadNoSuchFile) }
            usleep(20_000)
        }
        ports = try JSONDecoder().decode([String: Int].self, from: Data(contentsOf: ready))
    }

    func stop() {
        // SIGKILL: a signal mask inherited from the test runner could leave SIGTERM blocked.
        if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
        try? FileManager.default.removeItem(at: dir)
    }

    deinit { stop() }
}

/// The `unisonctl` built beside the test bundle, or $UNISONCTL_BIN.
enum OpsCLI {
    static var binary: URL {
        if let env = ProcessInfo.processInfo.environment["UNISONCTL_BIN"] { return URL(fileURLWithPath: env) }
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("unisonctl")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return OpsFixture.repoRoot.appendingPathComponent(".build/debug/unisonctl")
    }

    static func run(_ args: [String], env: [String: String] = [:]) throws -> ProcessResult {
        var environment = ["NO_COLOR": "1"]
        for (k, v) in env { environment[k] = v }
        return try SystemProcessRunner().run([binary.path] + args, environment: environment, input: nil, workingDirectory: FileManager.default.temporaryDirectory)
    }
}

/// Stand-in `docker` and `systemctl` executables in a directory put first on PATH for CLI tests:
/// each logs its argv (one line per call, arguments separated by tabs) and answers like the real
/// tool would on a host with Docker, the compose plugin and a running engine (`engineUp: false`:
/// `docker info` fails as with a stopped daemon).
struct StandInTools {
    let dir: URL
    var bin: URL { dir.appendingPathComponent("bin") }
    var log: URL { dir.appendingPathComponent("calls.log") }

    init(engineUp: Bool = true) throws {
        dir = try OpsFixture.tempDir("stand-in")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        let record = """
        #!/bin/sh
        { printf '%s' "$(basename "$0")"; for a in "$@"; do printf '\\t%s' "$a"; done; printf '\\n'; } >> '\(log.path)'

        """
        let docker = record + """
        case "$1" in
          --version) echo "Docker version 27.0.0, build standin"; exit 0 ;;
          info) \(engineUp ? "echo 27.0.0; exit 0" : "echo 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock' >&2; exit 1") ;;
          compose) ;;
          *) echo "stand-in docker: unexpected $1" >&2; exit 64 ;;
        esac
        for a in "$@"; do last=$a; done
        case " $* " in
          *" compose version "*) echo "Docker Compose version v2.29.0" ;;
          *" ps "*) printf 'NAME STATUS\\nunison-auth-1 running\\n' ;;
          *" logs "*) echo "auth-1  | stand-in log line for $last" ;;
          *" config "*) ;;
          *" up "* | *" down"*) echo "stand-in compose: $*" >&2 ;;
        esac
        exit 0

        """
        let systemctl = record + """
        case "$1" in
          status) echo "unison-platform.service - stand-in"; exit 3 ;;
          is-enabled) echo enabled ;;
          is-active) echo active ;;
        esac
        exit 0

        """
        for (name, text) in [("docker", docker), ("systemctl", systemctl), ("journalctl", record + "echo stand-in journal\n")] {
            let url = bin.appendingPathComponent(name)
            try Data(text.utf8).write(to: url)
            chmod(url.path, 0o755)
        }
    }

    /// PATH with the stand-ins first.
    var environment: [String: String] {
        ["PATH": bin.path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")]
    }

    /// Every call so far, as argv arrays (the tool's name first).
    func calls() -> [[String]] {
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
    }

    func reset() { try? FileManager.default.removeItem(at: log) }
    func cleanup() { try? FileManager.default.removeItem(at: dir) }
}
