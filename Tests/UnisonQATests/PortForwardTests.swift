import Foundation
import Testing
import UnisonCore
import UnisonSpec
import UnisonTestSupport

@testable import UnisonQA

@Suite("qa boot --forward and --smoke: parsing, QEMU and ssh arguments", .tags(.unit))
struct PortForwardTests {
    @Test(
        "accepted forms",
        arguments: [
            ("8080:80", PortForward(hostPort: 8080, guestPort: 80)),
            ("127.0.0.1:18090:8090", PortForward(hostPort: 18090, guestPort: 8090)),
            ("65535:1", PortForward(hostPort: 65535, guestPort: 1)),
        ])
    func parses(text: String, expected: PortForward) throws {
        #expect(try PortForward.parse(text) == expected)
    }

    @Test("refused forms name the problem", arguments: ["", "80", "0:80", "80:65536", "a:80", "0.0.0.0:80:80", "localhost:80:80", "1:2:3:4", "80:"])
    func refuses(text: String) {
        #expect(throws: QAError.self) { try PortForward.parse(text) }
    }

    @Test("another bind address is refused as such")
    func otherAddress() {
        #expect(throws: QAError.badOption("--forward '0.0.0.0:80:80': the host side binds 127.0.0.1 only (got '0.0.0.0')")) {
            try PortForward.parse("0.0.0.0:80:80")
        }
    }

    @Test("QEMU gets one restricted user-mode network bound to 127.0.0.1, or none at all")
    func qemuArguments() {
        #expect(PortForward.qemuArguments([]).isEmpty)
        let args = PortForward.qemuArguments([PortForward(hostPort: 2222, guestPort: 22), PortForward(hostPort: 18090, guestPort: 8090)])
        #expect(
            args == [
                "-netdev", "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:2222-:22,hostfwd=tcp:127.0.0.1:18090-:8090",
                "-device", "virtio-net-pci,netdev=n0",
            ])
    }

    @Test("a host port given twice or in use is refused before QEMU starts")
    func collisions() throws {
        let twice = [PortForward(hostPort: 4000, guestPort: 1), PortForward(hostPort: 4000, guestPort: 2)]
        #expect(throws: QAError.badOption("--forward: host port 4000 is given twice")) { try PortForward.checkFree(twice, probe: { _ in true }) }
        #expect(throws: QAError.badOption("--forward: host port 4001 on 127.0.0.1 is already in use by another program")) {
            try PortForward.checkFree([PortForward(hostPort: 4001, guestPort: 80)], probe: { $0 != 4001 })
        }
        // The real probe, against a port this test holds.
        let held = try HeldPort()
        defer { held.close() }
        #expect(!LoopbackPort.isFree(held.port))
        #expect(LoopbackPort.accepts(held.port))
        #expect(throws: QAError.self) { try PortForward.checkFree([PortForward(hostPort: held.port, guestPort: 80)]) }
        let free = try LoopbackPort.pick()
        #expect(LoopbackPort.isFree(free) && !LoopbackPort.accepts(free))
    }

    @Test("smoke reaches the guest ports its checks use, through one ssh with a tunnel each")
    func smokePlan() throws {
        // The shipped spec with three smoke checks on two services (two on ollama's one port).
        let shipped = try String(contentsOf: Unisonctl.repoRoot.appendingPathComponent("unison.yaml"), encoding: .utf8)
        let smoke = """
              smoke:
                - {name: a, service: orchestrator, path: /health}
                - {name: b, service: ollama, path: /api/version}
                - {name: c, service: ollama, path: /api/tags}
              e2e:
            """
        let lines = shipped.components(separatedBy: "\n")
        let start = try #require(lines.firstIndex(of: "  smoke:")), end = try #require(lines.firstIndex(of: "  e2e:"))
        let text = (lines[..<start] + [smoke] + lines[(end + 1)...]).joined(separator: "\n")
        let spec = try SpecLoader.load(text: text)
        let orchestrator = try #require(spec.service(named: "orchestrator")), ollama = try #require(spec.service(named: "ollama"))
        let expected = Set([orchestrator.hostHealthPort ?? orchestrator.port, ollama.hostHealthPort ?? ollama.port]).sorted()
        #expect(expected.count == 2)
        #expect(try GuestSmoke.guestPorts(spec: spec) == expected)
        let options = GuestSmokeOptions(sshKey: URL(fileURLWithPath: "/k/id"), sshUser: "qa", sshPort: 2222)
        let args = GuestSmoke.sshArguments(options, tunnels: [11434: 40002, 8090: 40001])  // any two ports
        #expect(args.first == "ssh" && args.last == "qa@127.0.0.1")
        let line = args.joined(separator: " ")
        #expect(line.contains("-N -F /dev/null -i /k/id -p 2222"))
        #expect(line.contains("-o BatchMode=yes") && line.contains("-o ExitOnForwardFailure=yes"))
        #expect(line.contains("-L 127.0.0.1:40001:127.0.0.1:8090 -L 127.0.0.1:40002:127.0.0.1:11434"))
        // The checks go to the tunnels' local ends.
        var endpoints = try QAEndpoints(spec: spec)
        endpoints.remappedPorts = [expected[0]: 40001]
        let first = expected[0] == ollama.hostHealthPort ?? ollama.port ? ("ollama", "/api/version") : ("orchestrator", "/health")
        let second = first.0 == "ollama" ? ("orchestrator", "/health") : ("ollama", "/api/version")
        #expect(try endpoints.endpoint(for: HTTPCheckPlan(name: "x", service: first.0, path: first.1)).port == 40001)
        #expect(try endpoints.endpoint(for: HTTPCheckPlan(name: "y", service: second.0, path: second.1)).port == expected[1])
    }

    @Test(
        "ssh users are login names, never options or host syntax",
        arguments: [("qa", true), ("_svc-1", true), ("-oProxyCommand=x", false), ("a@b", false), ("", false), ("Root", false)])
    func users(name: String, valid: Bool) {
        #expect(GuestSmokeOptions.validUser(name) == valid)
    }
}

/// A listening socket on 127.0.0.1, held until `close()`: a port another program uses.
struct HeldPort {
    let fd: Int32
    let port: Int

    init() throws {
        let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let ok = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socketFD, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard socketFD >= 0, ok == 0, listen(socketFD, 4) == 0 else { throw QAError.badOption("cannot listen on 127.0.0.1") }
        var out = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &out) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socketFD, $0, &length) } }
        fd = socketFD
        port = Int(UInt16(bigEndian: out.sin_port))
    }

    func close() { _ = Glibc.close(fd) }
}

@Suite("qa boot --forward: QEMU listens on 127.0.0.1 for the guest", .tags(.boot))
struct PortForwardBootTests {
    @Test("the forward's host port accepts while the guest runs and is released once QEMU is stopped")
    func forwardListens() async throws {
        let f = try BootFixture(message: "NET-UP\n")
        defer { f.cleanup() }
        let port = try LoopbackPort.pick()
        var options = f.options(marker: "NET-UP", timeout: 60)
        options.forwards = [PortForward(hostPort: port, guestPort: 80)]
        let result = try await BootCheck.run(
            options,
            afterMarker: {
                #expect(LoopbackPort.accepts(port), "QEMU does not listen on 127.0.0.1:\(port)")
                return QARunReport(suite: .smoke, checks: [], seconds: 0)
            })
        #expect(result.markerSeen, "\(result)")
        #expect(result.forwards == [PortForward(hostPort: port, guestPort: 80)])
        #expect(result.smoke?.checks.isEmpty == true)
        #expect(LoopbackPort.isFree(port))
        #expect(processes(mentioning: f.dir.path) == 0)
    }
}
