// A plain HTTP/1.1 GET that reads the whole response (RFC 9112): the status line, the header
// fields, then a body delimited by Content-Length, by chunked transfer coding (§7.1: hex size
// line, data, CRLF, ... a 0 size ends it) or by the connection closing. One deadline covers
// connect, send and receive; the body is capped. IPv4 only, no TLS, no redirects: enough for
// APIs served on the machine itself (Ollama), not a general client.
import Foundation

public enum LocalHTTP {
    public struct Response: Sendable {
        public var status: Int
        public var headers: [String: String]
        public var body: Data
    }

    public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        case refused(String)
        case timedOut(String)
        case failed(String)

        public var description: String {
            switch self {
            case let .refused(target): return "connection refused: nothing listens on \(target)"
            case let .timedOut(target): return "no answer from \(target) in time"
            case let .failed(reason): return reason
            }
        }
    }

    /// Largest body accepted.
    public static let maxBody = 16 << 20

    public static func get(host: String, port: Int, path: String, timeout: TimeInterval) -> Result<Response, Failure> {
        let target = "\(host):\(port)"
        let deadline = Date().addingTimeInterval(timeout)
        func remainingMs() -> Int32 { Int32(max(0, min(Double(Int32.max), deadline.timeIntervalSinceNow * 1000))) }

        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return .failure(.failed("socket: \(String(cString: strerror(errno)))")) }
        defer { close(fd) }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, host, &addr.sin_addr) == 1 else { return .failure(.failed("'\(host)' is not an IPv4 address")) }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if rc != 0 {
            if errno == ECONNREFUSED { return .failure(.refused(target)) }
            guard errno == EINPROGRESS else { return .failure(.failed("connect to \(target): \(String(cString: strerror(errno)))")) }
            var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            if poll(&pfd, 1, remainingMs()) == 0 { return .failure(.timedOut(target)) }
            var err: Int32 = 0
            var len = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len)
            if err == ECONNREFUSED { return .failure(.refused(target)) }
            if err != 0 { return .failure(.failed("connect to \(target): \(String(cString: strerror(err)))")) }
        }

        let request = Array("GET \(path) HTTP/1.1\r\nHost: \(target)\r\nUser-Agent: unisonctl\r\nAccept: application/json\r\nConnection: close\r\n\r\n".utf8)
        var sent = 0
        while sent < request.count {
            var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            if poll(&pfd, 1, remainingMs()) <= 0 { return .failure(.timedOut(target)) }
            let n = request.withUnsafeBytes { send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EAGAIN || errno == EINTR { continue }
                return .failure(.failed("send to \(target): \(String(cString: strerror(errno)))"))
            }
            sent += n
        }

        // Read until the server closes (we asked it to) or the body is complete.
        var raw = Data()
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            if let parsed = try? parse(raw, complete: false), parsed != nil { break }
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pfd, 1, remainingMs())
            if ready == 0 { return .failure(.timedOut(target)) }
            if ready < 0 { if errno == EINTR { continue }; return .failure(.failed("poll: \(String(cString: strerror(errno)))")) }
            let n = recv(fd, &buffer, buffer.count, 0)
            if n < 0 {
                if errno == EAGAIN || errno == EINTR { continue }
                return .failure(.failed("receive from \(target): \(String(cString: strerror(errno)))"))
            }
            if n == 0 { break }
            raw.append(contentsOf: buffer[0..<n])
            if raw.count > maxBody + 64 * 1024 { return .failure(.failed("the response from \(target) is larger than \(maxBody) bytes")) }
        }
        do {
            guard let response = try parse(raw, complete: true) else {
                return .failure(.failed(raw.isEmpty ? "\(target) closed the connection without a response" : "truncated response from \(target)"))
            }
            return .success(response)
        } catch let failure as Failure {
            return .failure(failure)
        } catch {
            return .failure(.failed("\(error)"))
        }
    }

    /// The response in `raw`, nil while more bytes are needed. `complete` means the connection
    /// has closed, which ends a body that has no length of its own.
    static func parse(_ raw: Data, complete: Bool) throws -> Response? {
        let bytes = [UInt8](raw)
        guard let headEnd = find([13, 10, 13, 10], in: bytes, from: 0) else {
            if complete, !bytes.isEmpty { throw Failure.failed("not an HTTP response: '\(String(decoding: bytes.prefix(60), as: UTF8.self))'") }
            return nil
        }
        let head = String(decoding: bytes[0..<headEnd], as: UTF8.self).components(separatedBy: "\r\n")
        let statusParts = head[0].split(separator: " ", maxSplits: 2)
        guard statusParts.count >= 2, statusParts[0].hasPrefix("HTTP/1."), let status = Int(statusParts[1]) else {
            throw Failure.failed("not an HTTP response: '\(head[0].prefix(60))'")
        }
        var headers: [String: String] = [:]
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let bodyStart = headEnd + 4
        if headers["transfer-encoding"]?.lowercased().contains("chunked") == true {
            var body = Data()
            var i = bodyStart
            while true {
                guard let lineEnd = find([13, 10], in: bytes, from: i) else { return nil }
                let sizeText = String(decoding: bytes[i..<lineEnd], as: UTF8.self).split(separator: ";").first.map(String.init) ?? ""
                guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16), size >= 0, size <= maxBody else {
                    throw Failure.failed("bad chunk size '\(sizeText.prefix(20))' at byte \(i)")
                }
                if size == 0 { return Response(status: status, headers: headers, body: body) }
                let dataStart = lineEnd + 2
                guard bytes.count >= dataStart + size + 2 else { return nil }
                body.append(contentsOf: bytes[dataStart..<(dataStart + size)])
                if body.count > maxBody { throw Failure.failed("the body is larger than \(maxBody) bytes") }
                i = dataStart + size + 2
            }
        }
        if let lengthText = headers["content-length"] {
            guard let length = Int(lengthText), length >= 0, length <= maxBody else { throw Failure.failed("bad Content-Length '\(lengthText)'") }
            guard bytes.count >= bodyStart + length else { return nil }
            return Response(status: status, headers: headers, body: Data(bytes[bodyStart..<(bodyStart + length)]))
        }
        guard complete else { return nil }
        return Response(status: status, headers: headers, body: Data(bytes[bodyStart...]))
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard haystack.count >= needle.count, start <= haystack.count - needle.count else { return nil }
        var i = start
        while i <= haystack.count - needle.count {
            if haystack[i] == needle[0], Array(haystack[i..<(i + needle.count)]) == needle { return i }
            i += 1
        }
        return nil
    }
}
