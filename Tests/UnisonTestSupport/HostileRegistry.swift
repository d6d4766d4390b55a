// A hostile registry on 127.0.0.1 for the credential-binding tests: one python3 process with
// two listeners. The "registry" asks for Basic credentials, says every blob is missing and
// opens upload sessions whose `Location` points at the second listener (another port, so
// another origin; optionally another scheme). The "collector" answers everything with a Basic
// 401 challenge and logs who sent an Authorization header. GET /__log on the registry returns
// every request both listeners saw.
import Foundation

#if canImport(Glibc)
import Glibc
#endif

package final class HostileRegistry: @unchecked Sendable {
    package struct Entry: Decodable {
        package var listener: String
        package var method: String
        package var path: String
        package var authorization: String?
    }

    package static let user = "unison"
    package static let password = "hostile-test-secret"

    package let port: Int
    package let collectorPort: Int
    private let process: Process
    private let dir: URL

    package var host: String { "127.0.0.1:\(port)" }

    /// `location` is the upload URL handed out; `COLLECTOR` in it is replaced by the
    /// collector's port.
    package init(location: String = "http://127.0.0.1:COLLECTOR/upload/session-1") throws {
        dir = try TempDir.create("hostile")
        let script = dir.appendingPathComponent("hostile.py")
        try Data(Self.source.utf8).write(to: script)
        let line: String
        (process, line) = try TestProcess.startAnnouncing(["python3", script.path, location, Self.user, Self.password])
        let parts = line.split(separator: " ").map(String.init)
        guard parts.count == 3, parts[0] == "PORTS", let a = Int(parts[1]), let b = Int(parts[2]) else {
            kill(process.processIdentifier, SIGKILL)
            throw TestSupportError("hostile registry did not start: \(parts)")
        }
        port = a
        collectorPort = b
    }

    package func log() throws -> [Entry] {
        guard let body = TestNetwork.httpBody(port: port, path: "/__log") else { throw TestSupportError("no log from the hostile registry") }
        return try JSONDecoder().decode([Entry].self, from: body)
    }

    package func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: dir)
    }

    deinit { stop() }

    static let source = #"""
        import base64, json, os, signal, sys, threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT])
        LOCATION, USER, PASSWORD = sys.argv[1], sys.argv[2], sys.argv[3]
        EXPECTED = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        LOG = []
        LOCK = threading.Lock()
        PORTS = {}

        class Base(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            def log_message(self, *a): pass
            def record(self):
                n = int(self.headers.get("Content-Length") or 0)
                if n: self.rfile.read(n)
                with LOCK:
                    LOG.append({"listener": self.listener, "method": self.command, "path": self.path,
                                "authorization": self.headers.get("Authorization")})
            def reply(self, status, headers=(), body=b""):
                self.send_response(status)
                for k, v in headers: self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD": self.wfile.write(body)
            def do_HEAD(self): self.handle_any()
            def do_GET(self): self.handle_any()
            def do_POST(self): self.handle_any()
            def do_PUT(self): self.handle_any()
            def do_PATCH(self): self.handle_any()
            def do_DELETE(self): self.handle_any()

        class Registry(Base):
            listener = "registry"
            def handle_any(self):
                if self.path == "/__log":
                    with LOCK: body = json.dumps(LOG).encode()
                    return self.reply(200, [("Content-Type", "application/json")], body)
                self.record()
                if self.headers.get("Authorization") != EXPECTED:
                    return self.reply(401, [("WWW-Authenticate", 'Basic realm="hostile"')])
                path = self.path.split("?")[0]
                if self.command == "HEAD" and "/blobs/" in path:
                    return self.reply(404)
                if self.command == "POST" and path.endswith("/blobs/uploads/"):
                    loc = LOCATION.replace("COLLECTOR", str(PORTS["collector"])).replace("REGISTRY", str(PORTS["registry"]))
                    return self.reply(202, [("Location", loc), ("Range", "0-0")])
                if "/escape/" in path:
                    body = b'\x1b]0;owned\x07\x1b[2J\x1b[31mregistry says no\r\n'
                    return self.reply(400, [("Content-Type", "text/plain")], body)
                if "/escape-json/" in path:
                    body = json.dumps({"errors": [{"code": "DENIED", "message": "\x1b[2Jcleared \x1b]0;title\x07"}]}).encode()
                    return self.reply(403, [("Content-Type", "application/json")], body)
                if path.startswith("/upload/"):
                    return self.reply(201, [("Location", path)])
                return self.reply(404, [("Content-Type", "application/json")], b'{"errors":[{"code":"NAME_UNKNOWN","message":"x"}]}')

        class Collector(Base):
            listener = "collector"
            def handle_any(self):
                self.record()
                self.reply(401, [("WWW-Authenticate", 'Basic realm="collector"')])

        servers = {}
        for name, cls in (("registry", Registry), ("collector", Collector)):
            s = ThreadingHTTPServer(("127.0.0.1", 0), cls)
            s.daemon_threads = True
            servers[name] = s
            PORTS[name] = s.server_address[1]
        for s in servers.values():
            threading.Thread(target=s.serve_forever, daemon=True).start()
        print(f"PORTS {PORTS['registry']} {PORTS['collector']}", flush=True)
        threading.Event().wait()
        """#
}
