import Foundation

/// One HTTP/1.1 GET over a plain TCP socket, with a deadline covering connect, send and the
/// status line. Enough for health endpoints on 127.0.0.1 (RFC 9112 §4: the status line is
/// `HTTP-version SP status-code SP [reason-phrase]`); no redirects, no TLS, no body read.
public enum HTTPProbe {
    public enum Result: Sendable, Equatable {
        case status(Int)
        case refused
        case timedOut
        case failed(String)
    }

    public static func get(host: String = "127.0.0.1", port: Int, path: String, timeout: TimeInterval) -> Result {
        let deadline = Date().addingTimeInterval(timeout)
        func remainingMs() -> Int32 { Int32(max(0, min(Double(Int32.max), deadline.timeIntervalSinceNow * 1000))) }

        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return .failed("socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)

        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, host, &addr.sin_addr) == 1 else { return .failed("'\(host)' is not an IPv4 address") }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if rc != 0 {
            if errno == ECONNREFUSED { return .refused }
            guard errno == EINPROGRESS else { return .failed("connect: \(String(cString: strerror(errno)))") }
            var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            let n = poll(&pfd, 1, remainingMs())
            if n == 0 { return .timedOut }
            var err: Int32 = 0
            var len = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len)
            if err == ECONNREFUSED { return .refused }
            if err != 0 { return .failed("connect: \(String(cString: strerror(err)))") }
        }

        let request = "GET \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nUser-Agent: unisonctl-health\r\nAccept: */*\r\nConnection: close\r\n\r\n"
        var bytes = Array(request.utf8)
        var sent = 0
        while sent < bytes.count {
            var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            if poll(&pfd, 1, remainingMs()) <= 0 { return .timedOut }
            let n = bytes.withUnsafeMutableBytes { send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EAGAIN || errno == EINTR { continue }
                return .failed("send: \(String(cString: strerror(errno)))")
            }
            sent += n
        }

        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1024)
        while !response.contains(0x0A) {
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pfd, 1, remainingMs())
            if ready == 0 { return .timedOut }
            if ready < 0 { if errno == EINTR { continue }; return .failed("poll: \(String(cString: strerror(errno)))") }
            let n = recv(fd, &buffer, buffer.count, 0)
            if n < 0 {
                if errno == EAGAIN || errno == EINTR { continue }
                if errno == ECONNRESET { return .failed("connection reset before a response") }
                return .failed("recv: \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            response += buffer[0..<n]
            if response.count > 8192 { break }
        }
        let line = String(decoding: response.prefix { $0 != 0x0A && $0 != 0x0D }, as: UTF8.self)
        let parts = line.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), parts[1].count == 3, let code = Int(parts[1]) else {
            return .failed(response.isEmpty ? "connection closed without a response" : "not an HTTP response: '\(line.prefix(60))'")
        }
        return .status(code)
    }
}
