// Fixtures of the ops tests that UnisonOpsTests and the ops CLI tests in UnisonCLITests share:
// small specs, the health-check servers, a planted Debian-like root and pilot answers.
import Foundation
import UnisonCore
import UnisonSpec

package enum OpsFixture {
    package static let repoRoot = Unisonctl.repoRoot

    package static func tempDir(_ label: String) throws -> URL { try TempDir.create("ops-\(label)") }

    package static func repoSpec() throws -> PlatformSpec { try SpecLoader.load(file: repoRoot.appendingPathComponent("unison.yaml")) }

    /// A small spec whose services are infrastructure entries on the given ports.
    package static func specText(
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

    package static func spec(_ text: String) throws -> PlatformSpec { try SpecLoader.load(text: text, file: "test.yaml") }
}

/// Real HTTP servers on 127.0.0.1 (python3), one per mode: `ok` answers 200, `fail` 500, `slow`
/// sleeps a minute before answering, `flaky` answers 503 to its first three requests then 200,
/// `refuse` holds a bound port without listening (connections are refused), and every
/// `barrier…` mode answers 200 only once a request has reached each `barrier…` server (504 when
/// that has not happened within 30 s): only a checker that asks them all at once passes.
package final class HealthServers {
    package static let script = #"""
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

    package let process = Process()
    package let dir: URL
    package var ports: [String: Int] = [:]

    package init(_ modes: [String]) throws {
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

    package func stop() {
        process.killAndWait()
        try? FileManager.default.removeItem(at: dir)
    }

    deinit { stop() }
}

package let provisionHash = "$6$pilotsalt$6Dy7TUUid8IfpITE71mK/iFHTlSen/eNgvkFOhovebsM5oY6k2RUHps6BJvzdp17Wpf7trXX.l/WBCzSv5KmW."
package let provisionKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMnX+DnA9wYhNsQ9Jq1B9Qk9lgnOrcgrSivFVnb18He0 pilot@laptop"

package enum ProvisionFixture {
    /// A minimal Debian-like root: passwd/group/shadow with system accounts, a sudo group,
    /// an installed ssh.service, /etc/skel.
    package static func plantRoot(_ label: String) throws -> URL {
        let root = try OpsFixture.tempDir("provision-\(label)")
        func put(_ path: String, _ text: String) throws {
            let url = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
        }
        try put(
            "etc/passwd",
            "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
        )
        try put("etc/group", "root:x:0:\ndaemon:x:1:\nsudo:x:27:\nnogroup:x:65534:\n")
        try put("etc/shadow", "root:*:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n")
        try put("etc/gshadow", "root:*::\ndaemon:*::\nsudo:*::\nnogroup:*::\n")
        try put("etc/hosts", "127.0.0.1\tlocalhost\n")
        try put("etc/skel/.bashrc", "# skel\n")
        try put("lib/systemd/system/ssh.service", "[Unit]\nDescription=OpenBSD Secure Shell server\n")
        if label != "live" { try put("lib/systemd/system/systemd-networkd.service", "[Unit]\n") }
        try put("bin/bash", "")
        return root
    }

    package static let answers = """
        #cloud-config
        hostname: unison-lab-01
        users:
          - name: pilot
            hashed_passwd: "\(provisionHash)"
            ssh_authorized_keys: ["\(provisionKey)"]
          - name: keysonly
            sudo: true
            ssh_authorized_keys: ["\(provisionKey)"]
        locale: de_DE.UTF-8
        keyboard: {layout: de, variant: nodeadkeys}
        timezone: Europe/Berlin
        unison:
          model-pack: light
          network: {mode: static, address: 192.168.7.20/24, gateway: 192.168.7.1, dns: [192.168.7.1]}
          telemetry: true

        """

    package static func text(_ root: URL, _ path: String) -> String {
        (try? String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)) ?? ""
    }

    package static func attributes(_ root: URL, _ path: String) throws -> (uid: Int, gid: Int, mode: Int) {
        let a = try FileManager.default.attributesOfItem(atPath: root.appendingPathComponent(path).path)
        return (
            (a[.ownerAccountID] as! NSNumber).intValue, (a[.groupOwnerAccountID] as! NSNumber).intValue,
            (a[.posixPermissions] as! NSNumber).intValue
        )
    }
}
