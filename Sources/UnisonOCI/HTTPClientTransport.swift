// The real transport: our own HTTP/1.1 client on swift-nio (NIOHTTP1 does the framing) and
// NIOSSL for https. What the registry client needs and nothing more: one exchange per `send`,
// no redirects (the request executor follows them itself so that credentials never go to
// another host), no response decompression (digests are over the exact bytes), no auth.
//
// Connections are pooled per origin (scheme, host, port) and kept alive; up to
// `connectionsPerOrigin` run in parallel (blob uploads are concurrent). A connection is closed
// when the server says `Connection: close`, on any error, on cancellation, and when a response
// body is dropped before its end. A GET or HEAD that fails on a reused connection before any
// answer (the server closed it while it sat idle) is sent once more on a fresh connection.
import FoundationEssentials
import Glibc
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import UnisonCore

package final class HTTPClientTransport: RegistryTransport, Sendable {
    /// A process-wide instance; it lives as long as the process and needs no shutdown.
    package static let shared = HTTPClientTransport()

    let connectTimeout: Duration
    let readTimeout: Duration
    let pool: HTTPConnectionPool
    private let tls: TLSContextCache

    /// `connectTimeout` bounds connection setup, `readTimeout` the silence between two reads;
    /// at most `connectionsPerOrigin` connections to one origin are open at a time. `trust`
    /// says where each registry's own CA and client certificates are (`certs.d`).
    package init(
        connectTimeout: Duration = .seconds(30), readTimeout: Duration = .seconds(120), connectionsPerOrigin: Int = 8,
        trust: TLSTrust = .system
    ) {
        self.connectTimeout = connectTimeout
        self.readTimeout = readTimeout
        self.pool = HTTPConnectionPool(limit: max(1, connectionsPerOrigin))
        self.tls = TLSContextCache(trust: trust)
    }

    /// Closes the idle connections of a transport made with `init` (never call it on `shared`).
    package func shutdown() async throws {
        pool.shutdown()
    }

    /// Whether a `certs.d` folder of this transport's trust is named for `host:port`.
    package func hasTLSFolder(host: String, port: Int) -> Bool { tls.hasFolder(host: host, port: port) }

    /// Connections opened so far (for tests and statistics).
    package var connectionsOpened: Int { pool.opened }

    package func send(_ request: TransportRequest) async throws -> TransportResponse {
        let target = try HTTPTarget(request.url)
        let head = try Self.requestHead(request, target: target)
        var retried = false
        while true {
            try Task.checkCancellation()
            let connection: HTTPConnection
            let reused: Bool
            switch try await pool.lease(target.origin) {
            case let .reuse(c):
                connection = c
                reused = true
            case .create:
                do {
                    connection = try await HTTPConnection.connect(
                        to: target, tls: target.origin.tls ? try tls.context(for: target.origin) : nil,
                        connectTimeout: connectTimeout, readTimeout: readTimeout)
                    pool.opened(target.origin)
                } catch {
                    pool.discard(target.origin)
                    if error is CancellationError || Task.isCancelled { throw CancellationError() }
                    throw Self.transportError(error, origin: target.origin)
                }
                reused = false
            }
            do {
                return try await exchange(on: connection, head: head, body: request.body, origin: target.origin)
            } catch let failure {
                connection.close()
                pool.discard(target.origin)
                if Task.isCancelled || failure.underlying is CancellationError { throw CancellationError() }
                if reused, !retried, failure.beforeResponse, Self.isClosure(failure.underlying), Self.isSafe(request.method) {
                    retried = true
                    continue
                }
                throw Self.transportError(failure.underlying, origin: target.origin)
            }
        }
    }

    /// Sends one request on `connection` and returns once the response head is in; the body
    /// streams from the connection, which goes back to the pool when the body has been read.
    private func exchange(
        on connection: HTTPConnection, head: HTTPRequestHead, body: RequestBody, origin: HTTPOrigin
    ) async throws(ExchangeFailure) -> TransportResponse {
        let responseHead: HTTPResponseHead
        var mustClose = false
        do {
            responseHead = try await withTaskCancellationHandler {
                let future = try await connection.begin()
                do {
                    try await connection.write(head: head, body: body)
                } catch let writeError {
                    // A server may answer (413, 401) and close before it took the whole body: its
                    // answer, when one came, says more than the broken pipe. The connection is
                    // done either way.
                    connection.close()
                    guard let early = try? await future.get() else { throw writeError }
                    mustClose = true
                    return early
                }
                connection.sent()
                return try await future.get()
            } onCancel: {
                connection.close()
            }
        } catch {
            throw ExchangeFailure(underlying: connection.cause ?? error, beforeResponse: !connection.receivedResponse)
        }
        let keepAlive = responseHead.isKeepAlive && !mustClose
        let headers = ResponseHeaders(responseHead.headers.map { (name: $0.name, value: $0.value) })
        if Self.hasNoBody(request: head, response: responseHead) {
            // Nothing to stream: the connection goes back now rather than when (if ever) the
            // caller reads the empty body, so blob HEAD checks share one connection.
            var reusable = keepAlive
            do {
                while try await connection.nextBodyPart() != nil { reusable = false }
            } catch {
                reusable = false
            }
            if reusable {
                pool.release(connection, origin: origin)
            } else {
                connection.close()
                pool.discard(origin)
            }
            return TransportResponse(status: Int(responseHead.status.code), headers: headers, body: .empty)
        }
        let reader = HTTPBodyReader(connection: connection, pool: pool, origin: origin, keepAlive: keepAlive)
        let stream = AsyncThrowingStream<Data, Error>(unfolding: { try await reader.next() })
        return TransportResponse(status: Int(responseHead.status.code), headers: headers, body: ResponseBody(stream))
    }

    /// The request line and header fields: the caller's fields (refused when a name or value
    /// could end the field: CR, LF or NUL), then `Host` (with the port when it is not the
    /// scheme's default, as registries build `Location` from it) and the body's framing.
    static func requestHead(_ request: TransportRequest, target: HTTPTarget) throws -> HTTPRequestHead {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: target.hostHeader)
        for (name, value) in request.headers.sorted(by: { $0.key < $1.key }) {
            guard !name.isEmpty, !(name + value).unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\0" }) else {
                throw TransportError("header \(name.debugDescription) has a line break or NUL")
            }
            if name.lowercased() == "host" || name.lowercased() == "content-length" || name.lowercased() == "transfer-encoding" {
                continue
            }
            headers.add(name: name, value: value)
        }
        switch request.body {
        case .empty:
            if request.method == .PUT || request.method == .POST || request.method == .PATCH {
                headers.add(name: "Content-Length", value: "0")
            }
        case .data, .file:
            headers.add(name: "Content-Length", value: String(request.body.count))
        }
        return HTTPRequestHead(
            version: .http1_1, method: NIOHTTP1.HTTPMethod(rawValue: request.method.rawValue), uri: target.requestTarget,
            headers: headers)
    }

    /// A response that has no body by its framing (RFC 9112 section 6.3): to HEAD, 1xx, 204,
    /// 304, or `Content-Length: 0`.
    static func hasNoBody(request: HTTPRequestHead, response: HTTPResponseHead) -> Bool {
        let code = response.status.code
        return request.method == .HEAD || (100..<200).contains(code) || code == 204 || code == 304
            || response.headers["content-length"] == ["0"]
    }

    /// GET and HEAD are replayed here after a stale connection; nothing else is. A dropped
    /// PATCH, PUT or POST may have reached the registry (a proxy or the registry itself can
    /// take a request and close without answering), and replaying an upload blindly would
    /// resend bytes the registry already has: the request executor asks the registry instead.
    static func isSafe(_ method: HTTPMethod) -> Bool { method == .GET || method == .HEAD }

    /// Whether `error` says the peer closed the connection (what a stale keep-alive connection
    /// gives), not that it answered badly or too slowly.
    static func isClosure(_ error: Error) -> Bool {
        if error is ConnectionClosed { return true }
        if let e = error as? ChannelError {
            switch e {
            case .ioOnClosedChannel, .eof, .outputClosed, .alreadyClosed: return true
            default: return false
            }
        }
        if let e = error as? IOError { return e.errnoCode == ECONNRESET || e.errnoCode == EPIPE }
        return false
    }

    /// The error `send` throws for `error`: ours as it is (a read timeout, a name check), a TLS
    /// failure with what to do about it (not retryable), else the failure in plain words.
    static func transportError(_ error: Error, origin: HTTPOrigin) -> TransportError {
        if let known = error as? TransportError { return known }
        return TLSTrust.failure(error, origin: origin) ?? TransportError(describe(error))
    }

    /// Plain words for a failure below HTTP: the errno's own text, not NIO's wrapping.
    static func describe(_ error: Error) -> String {
        if let e = error as? TransportError { return e.detail }
        if let e = error as? NIOConnectionError {
            if let first = e.connectionErrors.first { return describe(first.error) }
            return "cannot resolve \(e.host)"
        }
        if let e = error as? ChannelError {
            switch e {
            case let .connectTimeout(t): return "connection timed out after \(Self.seconds(t)) s"
            case .ioOnClosedChannel, .eof, .outputClosed, .alreadyClosed: return ConnectionClosed().description
            default: return "\(e)"
            }
        }
        // NIO's own text for a failed syscall reads "connection reset (error set): …"; the errno says it plainly.
        if let e = error as? IOError { return String(cString: strerror(e.errnoCode)).lowercased() + " (errno \(e.errnoCode))" }
        if let e = error as? NIOSSLError { return "TLS: \(e)" }
        if let e = error as? BoringSSLError { return "TLS: \(e)" }
        if let e = error as? HTTPParserError { return "the server's answer is not HTTP/1.1: \(e)" }
        if error is SocketAddressError { return "cannot resolve the host (\(error))" }
        return String(describing: error)
    }

    static func seconds(_ t: TimeAmount) -> String {
        let ms = t.nanoseconds / 1_000_000
        return ms % 1000 == 0 ? "\(ms / 1000)" : String(Double(ms) / 1000)
    }
}

/// Where a request goes: its origin (the pool's key), the `Host` field and the request target.
struct HTTPTarget: Sendable {
    var origin: HTTPOrigin
    var hostHeader: String
    var requestTarget: String

    init(_ url: URL) throws {
        let scheme = url.scheme?.lowercased() ?? ""
        guard scheme == "http" || scheme == "https" else { throw TransportError("\(url.absoluteString): not an http or https URL") }
        guard var host = url.host(percentEncoded: false), !host.isEmpty else {
            throw TransportError("\(url.absoluteString): no host")
        }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        let defaultPort = scheme == "https" ? 443 : 80
        let port = url.port ?? defaultPort
        guard (1...65535).contains(port) else { throw TransportError("\(url.absoluteString): port \(port) is out of range") }
        origin = HTTPOrigin(tls: scheme == "https", host: host, port: port)
        let literal = host.contains(":") ? "[\(host)]" : host
        hostHeader = port == defaultPort ? literal : "\(literal):\(port)"
        var path = url.path(percentEncoded: true)
        if path.isEmpty { path = "/" }
        if let query = url.query(percentEncoded: true) { path += "?" + query }
        requestTarget = path
    }
}

/// A pool key: connections are shared only between requests to the same scheme, host and port.
struct HTTPOrigin: Hashable, Sendable {
    var tls: Bool
    var host: String
    var port: Int

    /// An IP literal gets no SNI (RFC 6066 allows host names only).
    var isIPLiteral: Bool { (try? SocketAddress(ipAddress: host, port: port)) != nil }
}

/// The peer closed the connection before the response ended.
struct ConnectionClosed: Error, CustomStringConvertible {
    var description: String { "the server closed the connection" }
}

/// A failed exchange, and whether any part of the response had come in.
struct ExchangeFailure: Error {
    var underlying: Error
    var beforeResponse: Bool
}
