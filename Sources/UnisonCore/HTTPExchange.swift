import FoundationEssentials
import Glibc

/// One plain-HTTP/1.1 request and its whole response over a TCP socket, under a single
/// deadline covering connect, send and receive (name resolution is the system resolver's,
/// which has its own timeouts; IP addresses skip it). Made for checks against
/// services on loopback or a test VM: no TLS, no redirects, no keep-alive (`Connection: close`).
///
/// Message syntax from RFC 9112: status line `HTTP-version SP status-code SP [reason]` (§4),
/// header fields up to the empty line (§5), body length from `Transfer-Encoding: chunked`
/// (§7.1), else `Content-Length` (§6.3), else until the server closes; no body for HEAD
/// responses and for 1xx, 204 and 304.
package enum HTTPExchange {
    package struct Request: Sendable, Equatable {
        package var method: String
        /// Origin-form target: `/path?query`.
        package var target: String
        /// Extra header fields, sent in this order after Host, User-Agent, Accept and Connection.
        package var headers: [Header]
        package var body: Data?

        package init(method: String = "GET", target: String, headers: [Header] = [], body: Data? = nil) {
            self.method = method
            self.target = target
            self.headers = headers
            self.body = body
        }
    }

    package struct Response: Sendable, Equatable {
        package var status: Int
        package var reason: String
        /// Header fields in received order, names as sent.
        package var headers: [Header]
        package var body: Data
        /// The body was longer than the read limit and was cut there.
        package var truncated: Bool

        package init(status: Int, reason: String, headers: [Header], body: Data, truncated: Bool) {
            self.status = status
            self.reason = reason
            self.headers = headers
            self.body = body
            self.truncated = truncated
        }

        package func header(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name.lowercased() }?.value
        }
    }

    package struct Header: Sendable, Equatable, Codable {
        package var name: String
        package var value: String
        package init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    package enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        /// Nothing listens on the port (ECONNREFUSED).
        case refused
        /// The deadline passed; `phase` says during what (connect, send, response).
        case timedOut(phase: String)
        /// The host name did not resolve.
        case unresolved(host: String, detail: String)
        /// Anything else: a reset, a malformed response, a socket error.
        case failed(String)

        package var description: String {
            switch self {
            case .refused: return "connection refused"
            case let .timedOut(phase): return "timed out waiting for the \(phase)"
            case let .unresolved(host, detail): return "cannot resolve '\(host)': \(detail)"
            case let .failed(detail): return detail
            }
        }
    }

    /// Sends `request` to `host:port` and reads the response, all before `timeout` seconds pass.
    /// Bodies longer than `maxBody` bytes are cut (`truncated`), and the rest is not read.
    package static func perform(
        _ request: Request, host: String, port: Int, timeout: TimeInterval,
        maxBody: Int = 1 << 20, userAgent: String = "unisonctl"
    ) -> Result<Response, Failure> {
        let deadline = Date().addingTimeInterval(timeout)
        let fd: Int32
        switch connectSocket(host: host, port: port, deadline: deadline) {
        case let .success(socket): fd = socket
        case let .failure(failure): return .failure(failure)
        }
        defer { close(fd) }

        let hostField = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        var head =
            "\(request.method) \(request.target) HTTP/1.1\r\nHost: \(hostField)\r\nUser-Agent: \(userAgent)\r\n"
            + "Accept: */*\r\nConnection: close\r\n"
        for h in request.headers { head += "\(h.name): \(h.value)\r\n" }
        if let body = request.body {
            head += "Content-Length: \(body.count)\r\n"
        } else if ["POST", "PUT", "PATCH"].contains(request.method.uppercased()) {
            head += "Content-Length: 0\r\n"
        }
        head += "\r\n"
        if let failure = sendAll(fd, Array(head.utf8) + (request.body.map { Array($0) } ?? []), deadline: deadline) {
            return .failure(failure)
        }
        var reader = SocketReader(fd: fd, deadline: deadline)
        return readResponse(&reader, isHead: request.method.uppercased() == "HEAD", maxBody: maxBody)
    }

    // MARK: - Connect and send

    static func remainingMs(_ deadline: Date) -> Int32 {
        Int32(max(0, min(Double(Int32.max), deadline.timeIntervalSinceNow * 1000)))
    }

    static func errnoText(_ code: Int32) -> String { String(cString: strerror(code)) }

    /// Resolves `host` and connects to its addresses in order; refused only when all refuse.
    static func connectSocket(host: String, port: Int, deadline: Date) -> Result<Int32, Failure> {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let first = list else {
            return .failure(.unresolved(host: host, detail: String(cString: gai_strerror(rc))))
        }
        defer { freeaddrinfo(first) }
        var lastFailure = Failure.refused
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let info = cursor {
            cursor = info.pointee.ai_next
            let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
            guard fd >= 0 else { lastFailure = .failed("socket: \(errnoText(errno))"); continue }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            var err: Int32 = 0
            if connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) != 0 {
                err = errno
                if err == EINPROGRESS {
                    var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                    let n = poll(&pfd, 1, remainingMs(deadline))
                    if n <= 0 { close(fd); return .failure(.timedOut(phase: "connection")) }
                    var len = socklen_t(MemoryLayout<Int32>.size)
                    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len)
                }
            }
            if err == 0 { return .success(fd) }
            close(fd)
            lastFailure = err == ECONNREFUSED ? .refused : .failed("connect: \(errnoText(err))")
        }
        return .failure(lastFailure)
    }

    static func sendAll(_ fd: Int32, _ bytes: [UInt8], deadline: Date) -> Failure? {
        var sent = 0
        while sent < bytes.count {
            var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            let ready = poll(&pfd, 1, remainingMs(deadline))
            if ready == 0 { return .timedOut(phase: "request to be sent") }
            if ready < 0 { if errno == EINTR { continue }; return .failed("poll: \(errnoText(errno))") }
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EAGAIN || errno == EINTR { continue }
                if errno == ECONNRESET || errno == EPIPE { return .failed("connection reset while sending the request") }
                return .failed("send: \(errnoText(errno))")
            }
            sent += n
        }
        return nil
    }

    // MARK: - Response

    static func readResponse(_ reader: inout SocketReader, isHead: Bool, maxBody: Int) -> Result<Response, Failure> {
        var status = 100
        var reason = ""
        var headers: [Header] = []
        // 1xx interim responses (100 Continue) precede the final one.
        while (100..<200).contains(status) {
            let statusLine: String
            switch reader.line(limit: 8192) {
            case let .success(line?): statusLine = line
            case .success(nil):
                return .failure(.failed(reader.received == 0 ? "connection closed without a response" : "connection closed inside the response head"))
            case let .failure(f): return .failure(f.phase("response"))
            }
            let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), parts[1].count == 3, let code = Int(parts[1]) else {
                return .failure(.failed("not an HTTP/1.x response: '\(statusLine.prefix(60))'"))
            }
            status = code
            reason = parts.count > 2 ? String(parts[2]) : ""
            headers = []
            headerLines: while true {
                switch reader.line(limit: 65536) {
                case let .success(line?):
                    if line.isEmpty { break headerLines }
                    guard let colon = line.firstIndex(of: ":") else {
                        return .failure(.failed("malformed header line '\(line.prefix(60))'"))
                    }
                    headers.append(
                        Header(
                            name: String(line[..<colon]),
                            value: line[line.index(after: colon)...].trimming(.whitespaces)))
                case .success(nil): return .failure(.failed("connection closed inside the response head"))
                case let .failure(f): return .failure(f.phase("response headers"))
                }
            }
        }
        var response = Response(status: status, reason: reason, headers: headers, body: Data(), truncated: false)
        if isHead || status == 204 || status == 304 { return .success(response) }

        let result: Result<(Data, Bool), Failure>
        if response.header("Transfer-Encoding")?.lowercased().contains("chunked") == true {
            result = readChunked(&reader, maxBody: maxBody)
        } else if let lengthText = response.header("Content-Length") {
            guard let length = Int(lengthText), length >= 0 else {
                return .failure(.failed("bad Content-Length '\(lengthText)'"))
            }
            result = reader.bytes(min(length, maxBody), exact: true).map { ($0, length > maxBody) }
        } else {
            // Until the server closes: one byte past the limit tells a cut body from one that fits.
            result = reader.bytes(maxBody + 1, exact: false).map { data in
                data.count > maxBody ? (data.prefix(maxBody), true) : (data, false)
            }
        }
        switch result {
        case let .success((body, truncated)):
            response.body = body
            response.truncated = truncated
            return .success(response)
        case let .failure(f):
            return .failure(f.phase("response body"))
        }
    }

    static func readChunked(_ reader: inout SocketReader, maxBody: Int) -> Result<(Data, Bool), Failure> {
        var body = Data()
        while true {
            let sizeLine: String
            switch reader.line(limit: 1024) {
            case let .success(line?): sizeLine = line
            case .success(nil): return .failure(.failed("connection closed inside a chunked body"))
            case let .failure(f): return .failure(f)
            }
            let hex = sizeLine.split(separator: ";", maxSplits: 1).first.map { $0.trimming(.whitespaces) } ?? ""
            guard let size = Int(hex, radix: 16), size >= 0 else { return .failure(.failed("bad chunk size '\(sizeLine.prefix(40))'")) }
            if size == 0 {
                // Trailer fields, then the empty line; a server that closes here is fine too.
                while case let .success(line?) = reader.line(limit: 65536), !line.isEmpty {}
                return .success((body, false))
            }
            let room = maxBody - body.count
            switch reader.bytes(min(size, room), exact: true) {
            case let .success(data): body += data
            case let .failure(f): return .failure(f)
            }
            if size > room { return .success((body, true)) }
            switch reader.line(limit: 2) {
            case let .success(line?) where line.isEmpty: continue
            case let .failure(f): return .failure(f)
            default: return .failure(.failed("chunk not followed by CRLF"))
            }
        }
    }
}

extension HTTPExchange.Failure {
    /// Names the phase in a timeout reported by the socket reader.
    func phase(_ name: String) -> HTTPExchange.Failure {
        if case .timedOut = self { return .timedOut(phase: name) }
        return self
    }
}

/// Buffered reads from a non-blocking socket until a deadline.
struct SocketReader {
    let fd: Int32
    let deadline: Date
    private var buffer: [UInt8] = []
    private(set) var received = 0
    private(set) var closed = false

    init(fd: Int32, deadline: Date) {
        self.fd = fd
        self.deadline = deadline
    }

    /// Reads more bytes into the buffer; false once the peer has closed.
    private mutating func fill() -> Result<Bool, HTTPExchange.Failure> {
        if closed { return .success(false) }
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pfd, 1, HTTPExchange.remainingMs(deadline))
            if ready == 0 { return .failure(.timedOut(phase: "response")) }
            if ready < 0 { if errno == EINTR { continue }; return .failure(.failed("poll: \(HTTPExchange.errnoText(errno))")) }
            let n = recv(fd, &chunk, chunk.count, 0)
            if n < 0 {
                if errno == EAGAIN || errno == EINTR { continue }
                if errno == ECONNRESET { return .failure(.failed("connection reset by the server")) }
                return .failure(.failed("recv: \(HTTPExchange.errnoText(errno))"))
            }
            if n == 0 { closed = true; return .success(false) }
            buffer += chunk[0..<n]
            received += n
            return .success(true)
        }
    }

    /// One line without its CRLF (or bare LF); nil when the peer closed before any byte of it.
    mutating func line(limit: Int) -> Result<String?, HTTPExchange.Failure> {
        while true {
            if let lf = buffer.firstIndex(of: 0x0A) {
                var end = lf
                if end > 0, buffer[end - 1] == 0x0D { end -= 1 }
                let text = String(decoding: buffer[0..<end], as: UTF8.self)
                buffer.removeSubrange(0...lf)
                return .success(text)
            }
            if buffer.count > limit { return .failure(.failed("line longer than \(limit) bytes in the response")) }
            switch fill() {
            case .success(true): continue
            case .success(false):
                if buffer.isEmpty { return .success(nil) }
                let text = String(decoding: buffer, as: UTF8.self)
                buffer.removeAll()
                return .success(text)
            case let .failure(f): return .failure(f)
            }
        }
    }

    /// `count` bytes (`exact`: fail if the peer closes first), or up to `count` until close.
    mutating func bytes(_ count: Int, exact: Bool) -> Result<Data, HTTPExchange.Failure> {
        while buffer.count < count {
            switch fill() {
            case .success(true): continue
            case .success(false):
                if exact { return .failure(.failed("connection closed after \(buffer.count) of \(count) body bytes")) }
                let data = Data(buffer)
                buffer.removeAll()
                return .success(data)
            case let .failure(f): return .failure(f)
            }
        }
        let data = Data(buffer[0..<count])
        buffer.removeSubrange(0..<count)
        return .success(data)
    }
}
