import FoundationEssentials
import Glibc
import UnisonCore

/// One TCP port of the guest made reachable on the host: `[127.0.0.1:]HOSTPORT:GUESTPORT`.
/// QEMU's user-mode network carries it (`hostfwd`), with `restrict=on` so the guest itself
/// reaches nothing on the host or beyond; the host side is bound to 127.0.0.1 only.
package struct PortForward: Sendable, Equatable, Codable {
    package var hostPort: Int
    package var guestPort: Int

    package init(hostPort: Int, guestPort: Int) {
        self.hostPort = hostPort
        self.guestPort = guestPort
    }

    /// The only host address a forward may bind: the guest's ports stay off every other network.
    package static let hostAddress = "127.0.0.1"

    /// Parses `HOSTPORT:GUESTPORT` or `127.0.0.1:HOSTPORT:GUESTPORT`; ports 1-65535.
    package static func parse(_ text: String) throws -> PortForward {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        let ports: ArraySlice<String>
        switch parts.count {
        case 2: ports = parts[...]
        case 3:
            guard parts[0] == hostAddress else {
                throw QAError.badOption("--forward '\(text)': the host side binds \(hostAddress) only (got '\(parts[0])')")
            }
            ports = parts[1...]
        default:
            throw QAError.badOption("--forward '\(text)': expected [\(hostAddress):]HOSTPORT:GUESTPORT")
        }
        guard let host = Int(ports[ports.startIndex]), let guest = Int(ports[ports.startIndex + 1]),
            (1...65535).contains(host), (1...65535).contains(guest)
        else {
            throw QAError.badOption("--forward '\(text)': ports must be numbers from 1 to 65535")
        }
        return PortForward(hostPort: host, guestPort: guest)
    }

    /// QEMU's `hostfwd=` rule for this forward.
    var hostfwd: String { "hostfwd=tcp:\(Self.hostAddress):\(hostPort)-:\(guestPort)" }

    /// A user-mode network device carrying `forwards` (none: no network device at all).
    static func qemuArguments(_ forwards: [PortForward]) -> [String] {
        guard !forwards.isEmpty else { return [] }
        let netdev = (["user", "id=n0", "restrict=on"] + forwards.map(\.hostfwd)).joined(separator: ",")
        return ["-netdev", netdev, "-device", "virtio-net-pci,netdev=n0"]
    }

    /// Refuses a host port given twice or already in use on 127.0.0.1, before QEMU starts
    /// (QEMU's own message for it names no port).
    static func checkFree(_ forwards: [PortForward], probe: (Int) -> Bool = LoopbackPort.isFree) throws {
        var seen = Set<Int>()
        for f in forwards {
            guard seen.insert(f.hostPort).inserted else {
                throw QAError.badOption("--forward: host port \(f.hostPort) is given twice")
            }
            guard probe(f.hostPort) else {
                throw QAError.badOption("--forward: host port \(f.hostPort) on \(hostAddress) is already in use by another program")
            }
        }
    }
}

/// TCP ports on 127.0.0.1: is one free, and a free one chosen by the kernel.
package enum LoopbackPort {
    /// True when a listening socket can be bound to 127.0.0.1:`port` right now.
    package static func isFree(_ port: Int) -> Bool { bind(port) != nil }

    /// A port the kernel hands out as free (bound once, then released for QEMU to take).
    package static func pick() throws -> Int {
        guard let port = bind(0) else { throw QAError.badOption("no free TCP port on 127.0.0.1") }
        return port
    }

    /// True when something accepts a TCP connection on 127.0.0.1:`port`.
    package static func accepts(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = loopback(port)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }

    private static func loopback(_ port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr(PortForward.hostAddress)
        return address
    }

    private static func bind(_ port: Int) -> Int? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var address = loopback(port)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 1) == 0 else { return nil }
        var out = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &out) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { return nil }
        return Int(UInt16(bigEndian: out.sin_port))
    }
}
