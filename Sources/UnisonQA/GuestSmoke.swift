import FoundationEssentials
import UnisonCore
import UnisonSpec

/// How `qa boot --smoke` reaches the booted guest's services. The compose bundle publishes
/// every port on the guest's own 127.0.0.1, which no forward from outside the guest reaches,
/// so the checks go through SSH local forwards (`ssh -L`) over the guest's port 22, itself
/// forwarded to a free 127.0.0.1 port of the host (user-mode network, `restrict=on`). The
/// guest must let `user` in with `key`: an answers file baked into the image gives both.
package struct GuestSmokeOptions: Sendable, Equatable {
    package var sshKey: URL
    package var sshUser: String
    /// Host port forwarding the guest's port 22.
    package var sshPort: Int
    package var run: QARunOptions
    package var junit: URL?
    /// Seconds to keep trying SSH after the marker (sshd may still be starting).
    package var connectTimeout: TimeInterval
    package var ssh: String

    package init(
        sshKey: URL, sshUser: String, sshPort: Int, run: QARunOptions = .defaults(for: .smoke), junit: URL? = nil,
        connectTimeout: TimeInterval = 60, ssh: String = "ssh"
    ) {
        self.sshKey = sshKey
        self.sshUser = sshUser
        self.sshPort = sshPort
        self.run = run
        self.junit = junit
        self.connectTimeout = connectTimeout
        self.ssh = ssh
    }

    /// A login name as answers files allow it (no option or host syntax can ride along).
    package static func validUser(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, name.count <= 32 else { return false }
        let lower = ScalarSet(charactersIn: "abcdefghijklmnopqrstuvwxyz_")
        let rest = ScalarSet(charactersIn: "abcdefghijklmnopqrstuvwxyz_0123456789-")
        return lower.contains(first) && name.unicodeScalars.allSatisfy(rest.contains)
    }
}

package enum GuestSmoke {
    /// The guest ports (published on the guest's loopback) the spec's qa.smoke checks connect
    /// to, sorted.
    package static func guestPorts(spec: PlatformSpec) throws -> [Int] {
        let endpoints = try QAEndpoints(spec: spec)
        let checks = spec.qa.smoke.map(HTTPCheckPlan.init)
        guard !checks.isEmpty else { throw HTTPCheckError.noChecks(.smoke) }
        return Set(try checks.map { try endpoints.endpoint(for: $0).port }).sorted()
    }

    /// `ssh` arguments: no prompt, a throw-away guest host key (a fresh VM has a new one each
    /// boot), and one `-L 127.0.0.1:LOCAL:127.0.0.1:GUEST` per port.
    static func sshArguments(_ options: GuestSmokeOptions, tunnels: [Int: Int]) -> [String] {
        var args = [
            options.ssh, "-N", "-F", "/dev/null", "-i", options.sshKey.path, "-p", String(options.sshPort),
            "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=no",
            "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "ExitOnForwardFailure=yes",
            "-o", "ConnectTimeout=10", "-o", "ServerAliveInterval=5",
        ]
        for guest in tunnels.keys.sorted() {
            args += ["-L", "\(PortForward.hostAddress):\(tunnels[guest]!):127.0.0.1:\(guest)"]
        }
        return args + ["\(options.sshUser)@\(PortForward.hostAddress)"]
    }

    /// Opens the tunnels (retrying while the guest's sshd starts), runs qa.smoke through them,
    /// closes them. A guest that never lets SSH in throws `QAError.smokeUnreachable`.
    package static func run(
        spec: PlatformSpec, options: GuestSmokeOptions, launcher: any QEMULauncher = SystemQEMULauncher(),
        status: (@Sendable (String) -> Void)? = nil
    ) async throws -> QARunReport {
        var tunnels: [Int: Int] = [:]
        for port in try guestPorts(spec: spec) { tunnels[port] = try LoopbackPort.pick() }
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("unisonctl-smoke-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        let deadline = Date().addingTimeInterval(options.connectTimeout)
        let stderrURL = work.appendingPathComponent("ssh.stderr")
        var lastError = ""
        status?("smoke: SSH to \(options.sshUser)@\(PortForward.hostAddress):\(options.sshPort), tunnels for guest ports \(tunnels.keys.sorted())")
        while true {
            let tunnel = try launcher.start(
                sshArguments(options, tunnels: tunnels), stdout: work.appendingPathComponent("ssh.stdout"), stderr: stderrURL)
            defer { tunnel.stop(grace: 2) }
            // Up when every local end accepts; ssh exits when login or a forward fails.
            while tunnel.isRunning, !tunnels.values.allSatisfy(LoopbackPort.accepts), Date() < deadline {
                try await Task.sleep(nanoseconds: 200_000_000)
            }
            if tunnel.isRunning, tunnels.values.allSatisfy(LoopbackPort.accepts) {
                status?("smoke: tunnels up; running qa.smoke")
                let report = try HTTPCheckRunner.run(
                    spec: spec, suite: .smoke, remappedPorts: tunnels, options: options.run, junit: options.junit, status: status)
                return report
            }
            lastError = ((try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "").trimming(.whitespacesAndNewlines)
            if Date() >= deadline { break }
            try await Task.sleep(nanoseconds: 2_000_000_000)
        }
        throw QAError.smokeUnreachable(
            detail: "no SSH session to \(options.sshUser)@\(PortForward.hostAddress):\(options.sshPort) within \(Int(options.connectTimeout)) s"
                + (lastError.isEmpty ? "" : ": \(lastError.split(separator: "\n").suffix(2).joined(separator: " "))"))
    }
}
