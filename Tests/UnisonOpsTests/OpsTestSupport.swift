import Foundation
import Testing
import UnisonCore
import UnisonSpec
import UnisonTestSupport

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
        FakeRunner([
            (["docker", "--version"], ok("Docker version 27.0.0")), (["docker", "compose", "version"], ok("Docker Compose version v2.29.0")),
        ])
    }
    /// No docker binary at all.
    static var noDocker: FakeRunner { FakeRunner([(["docker"], nil)]) }
}

enum OpsFixture {
    static let repoRoot = Unisonctl.repoRoot

    static func tempDir(_ label: String) throws -> URL { try TempDir.create("ops-\(label)") }

    static func repoSpec() throws -> PlatformSpec { try SpecLoader.load(file: repoRoot.appendingPathComponent("unison.yaml")) }

    /// A small spec whose services are infrastructure entries on the given ports.
    static func specText(
        services: [(name: String, port: Int, health: String?, healthCommand: String?)],
        minRam: String = "1MB", minDisk: String = "1MB"
    ) -> String {
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
        try process.waitForFile(ready)
        ports = try JSONDecoder().decode([String: Int].self, from: Data(contentsOf: ready))
    }

    func stop() {
        process.killAndWait()
        try? FileManager.default.removeItem(at: dir)
    }

    deinit { stop() }
}
