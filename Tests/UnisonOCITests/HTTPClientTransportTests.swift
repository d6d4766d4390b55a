// The registry client's own HTTP/1.1 transport against a tiny NIO server on 127.0.0.1 (and
// ::1) that counts the connections it accepts and misbehaves on request: keep-alive reuse,
// `Connection: close`, a stale idle connection, chunked and large bodies, HEAD, timeouts,
// refused connections, parallel requests and the per-origin cap.
import FoundationEssentials
import Glibc
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
import Testing
import UnisonTestSupport

@testable import UnisonOCI

@Suite("HTTP transport: pooling, framing, timeouts, errors", .tags(.unit))
struct HTTPClientTransportTests {
    private func get(_ transport: HTTPClientTransport, _ url: String, method: UnisonOCI.HTTPMethod = .GET) async throws -> (Int, Data) {
        let response = try await transport.send(TransportRequest(method: method, url: URL(string: url)!))
        return (response.status, try await response.body.collect(limit: 64 << 20))
    }

    @Test("sequential requests reuse one keep-alive connection; Host carries the port")
    func keepAlive() async throws {
        let server = try await TinyHTTPServer.start()
        defer { server.stop() }
        let transport = HTTPClientTransport()
        defer { Task { try await transport.shutdown() } }
        for _ in 0..<3 {
            let (status, body) = try await get(transport, "\(server.base)/hello")
            #expect(status == 200 && String(decoding: body, as: UTF8.self) == "hello")
        }
        #expect(server.accepted == 1)
        #expect(server.log.allSatisfy { $0.host == "127.0.0.1:\(server.port)" }, "\(server.log)")
    }

    @Test("Connection: close is honoured; a body dropped unread closes its connection")
    func closeAndUnreadBody() async throws {
        let server = try await TinyHTTPServer.start()
        defer { server.stop() }
        let transport = HTTPClientTransport()
        let (status, body) = try await get(transport, "\(server.base)/close")
        #expect(status == 200 && String(decoding: body, as: UTF8.self) == "bye")
        _ = try await get(transport, "\(server.base)/hello")
        #expect(server.accepted == 2)
        // The body of this one is never read: its connection must not serve the next request.
        do {
            let response = try await transport.send(TransportRequest(method: .GET, url: URL(string: "\(server.base)/big/2000000")!))
            #expect(response.status == 200)
        }
        _ = try await get(transport, "\(server.base)/hello")
        #expect(server.accepted == 3)
        try await transport.shutdown()
    }

    @Test("a GET on a reused connection the server closed is retried once on a fresh one, only once; a PATCH never")
    func staleConnectionRetriedOnce() async throws {
        let server = try await TinyHTTPServer.start()
        defer { server.stop() }
        let transport = HTTPClientTransport()
        _ = try await get(transport, "\(server.base)/hello")
        // /stale is dropped unanswered when it is not the first request on its connection.
        let (status, body) = try await get(transport, "\(server.base)/stale")
        #expect(status == 200 && String(decoding: body, as: UTF8.self) == "fresh")
        #expect(server.accepted == 2)
        // /drop is never answered: one retry, then the error.
        await #expect(throws: TransportError.self) { _ = try await get(transport, "\(server.base)/drop") }
        #expect(server.accepted == 3)
        #expect(server.log.filter { $0.path == "/drop" }.count == 2)
        // On a fresh connection there is no retry at all.
        let fresh = HTTPClientTransport()
        do {
            _ = try await get(fresh, "\(server.base)/drop")
            Issue.record("an unanswered request succeeded")
        } catch let error as TransportError {
            #expect(error.detail == "the server closed the connection")
        }
        #expect(server.log.filter { $0.path == "/drop" }.count == 3)
        // A PATCH is never replayed here, even on a reused connection: it may have reached the
        // server, and the registry client decides what to resend.
        _ = try await get(fresh, "\(server.base)/hello")
        let opened = server.accepted
        await #expect(throws: TransportError.self) {
            _ = try await fresh.send(TransportRequest(method: .PATCH, url: URL(string: "\(server.base)/drop")!, body: .data(Data("x".utf8))))
        }
        #expect(server.accepted == opened)
        #expect(server.log.filter { $0.path == "/drop" }.count == 4)
        try await transport.shutdown()
        try await fresh.shutdown()
    }

    @Test("chunked and HEAD responses; the connection stays usable after both, also when an empty body is left unread")
    func chunkedAndHead() async throws {
        let server = try await TinyHTTPServer.start()
        defer { server.stop() }
        let transport = HTTPClientTransport()
        let response = try await transport.send(TransportRequest(method: .GET, url: URL(string: "\(server.base)/chunked")!))
        #expect(response.headers["transfer-encoding"] == "chunked")
        #expect(response.headers["Content-Length"] == nil)
        #expect(response.headers.all("X-Order") == ["1", "2"])
        #expect(String(decoding: try await response.body.collect(limit: 1000), as: UTF8.self) == "alphabetagamma")

        let head = try await transport.send(TransportRequest(method: .HEAD, url: URL(string: "\(server.base)/big/1000")!))
        #expect(head.status == 200 && head.headers["content-length"] == "1000")
        // Its (empty) body is not read before the next request: the connection is back already.
        _ = try await get(transport, "\(server.base)/hello")
        #expect(server.accepted == 1)
        #expect(try await head.body.collect(limit: 10).isEmpty)
        // So is a response with Content-Length: 0 whose body nobody reads.
        let created = try await transport.send(TransportRequest(method: .PUT, url: URL(string: "\(server.base)/upload")!))
        #expect(created.status == 201)
        _ = try await get(transport, "\(server.base)/hello")
        #expect(server.accepted == 1)
        try await transport.shutdown()
    }

    @Test("a large body streams in many pieces, byte for byte")
    func largeBody() async throws {
        let server = try await TinyHTTPServer.start()
        defer { server.stop() }
        let transport = HTTPClientTransport()
        let size = 5_000_000
        let response = try await transport.send(TransportRequest(method: .GET, url: URL(string: "\(server.base)/big/\(size)")!))
        var pieces = 0
        var total = 0
        var mismatch: Int?
        for try await piece in response.body {
            var at = 0
            while at < piece.count, mismatch == nil {
                let n = min(60_000, piece.count - at)
                let start = piece.startIndex + at
                if piece[start..<(start + n)] != Data(TinyHTTPServer.pattern(from: total + at, count: n)) { mismatch = total + at }
                at += n
            }
            total += piece.count
            pieces += 1
            #expect(piece.count <= 4 << 20)
        }
        #expect(total == size && mismatch == nil)
        #expect(pieces > 4, "\(pieces) pieces")
        try await transport.shutdown()
    }

    @Test("request bodies: data, a file range (sendfile), an empty PUT says Content-Length: 0")
    func requestBodies() async throws {
        let server = try await TinyHTTPServer.start()
        defer { server.stop() }
        let tmp = try TempDir()
        let file = tmp.path("blob")
        let content = Data((0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        try content.write(to: file)
        let transport = HTTPClientTransport()
        let range: Range<Int64> = 100..<2_600_100
        let put = try await transport.send(
            TransportRequest(
                method: .PUT, url: URL(string: "\(server.base)/upload")!, headers: ["User-Agent": "unisonctl-test"], body: .file(file, range: range)))
        #expect(put.status == 201)
        _ = try await put.body.collect(limit: 100)
        #expect(server.lastUpload == content[100..<2_600_100])
        #expect(server.log.last?.contentLength == "2600000" && server.log.last?.userAgent == "unisonctl-test", "\(server.log)")

        let post = try await transport.send(
            TransportRequest(method: .POST, url: URL(string: "\(server.base)/upload")!, body: .data(Data("abc".utf8))))
        _ = try await post.body.collect(limit: 100)
        #expect(server.lastUpload == Data("abc".utf8))

        let empty = try await transport.send(TransportRequest(method: .PUT, url: URL(string: "\(server.base)/upload")!))
        _ = try await empty.body.collect(limit: 100)
        #expect(server.lastUpload == Data() && server.log.last?.contentLength == "0")
        #expect(server.accepted == 1)

        // A file shorter than its range is refused before anything is sent.
        await #expect(throws: TransportError.self) {
            _ = try await transport.send(
                TransportRequest(method: .PUT, url: URL(string: "\(server.base)/upload")!, body: .file(file, range: 0..<4_000_000)))
        }
        try await transport.shutdown()
    }

    @Test("a header value with a line break is refused, nothing is sent")
    func headerInjection() async throws {
        let server = try await TinyHTTPServer.start()
        defer { server.stop() }
        let transport = HTTPClientTransport()
        await #expect(throws: TransportError.self) {
            _ = try await transport.send(
                TransportRequest(method: .GET, url: URL(string: "\(server.base)/hello")!, headers: ["X-A": "1\r\nX-Injected: 2"]))
        }
        #expect(server.log.isEmpty)
        try await transport.shutdown()
    }

    @Test("silence past the read timeout fails the request; cancellation stays CancellationError")
    func timeoutAndCancellation() async throws {
        let server = try await TinyHTTPServer.start()
        defer { server.stop() }
        let transport = HTTPClientTransport(readTimeout: .milliseconds(300))
        do {
            _ = try await get(transport, "\(server.base)/silent")
            Issue.record("a silent server answered")
        } catch let error as TransportError {
            // The configured 300 ms fired, not the 120 s default (the words say which; a clock
            // bound would measure the parallel test run's load instead).
            #expect(error.detail == "no data from the server for 0.3 s (read timeout)", "\(error.detail)")
        }

        let slowTransport = HTTPClientTransport()
        let task = Task { try await get(slowTransport, "\(server.base)/silent") }
        try await Task.sleep(for: .milliseconds(200))
        task.cancel()
        await #expect(throws: CancellationError.self) { _ = try await task.value }
        try await transport.shutdown()
        try await slowTransport.shutdown()
    }

    @Test("a refused connection is a TransportError in plain words")
    func refused() async throws {
        // A port bound but not listening refuses connections, and stays this test's while the
        // socket is open (a stopped server's port can be taken by a parallel test at once).
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #expect(fd >= 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        #expect(bound)
        let base = "http://127.0.0.1:\(UInt16(bigEndian: address.sin_port))"
        let transport = HTTPClientTransport()
        do {
            _ = try await get(transport, "\(base)/hello")
            Issue.record("a closed port answered")
        } catch let error as TransportError {
            #expect(error.detail == "connection refused (errno 111)")
        }
        try await transport.shutdown()
    }

    @Test("https speaks TLS: a plain-HTTP server on the other end fails the handshake, in words")
    func httpsNeedsTLS() async throws {
        let server = try await TinyHTTPServer.start()
        defer { server.stop() }
        let transport = HTTPClientTransport()
        do {
            _ = try await get(transport, "https://127.0.0.1:\(server.port)/hello")
            Issue.record("https to a plain server succeeded")
        } catch let error as TransportError {
            #expect(error.detail.hasPrefix("TLS: "), "\(error.detail)")
        }
        #expect(server.log.isEmpty, "no HTTP request may reach a server that did not speak TLS")
        try await transport.shutdown()
    }

    @Test("parallel requests open several connections, up to the per-origin cap")
    func parallel() async throws {
        let server = try await TinyHTTPServer.start()
        defer { server.stop() }
        let transport = HTTPClientTransport()
        try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<4 { group.addTask { try await get(transport, "\(server.base)/slow").0 } }
            for try await status in group { #expect(status == 200) }
        }
        #expect(server.accepted == 4)
        #expect(transport.connectionsOpened == 4)

        let capped = HTTPClientTransport(connectionsPerOrigin: 2)
        let before = server.accepted
        try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<6 { group.addTask { try await get(capped, "\(server.base)/slow").0 } }
            for try await status in group { #expect(status == 200) }
        }
        #expect(server.accepted - before == 2)
        try await transport.shutdown()
        try await capped.shutdown()
    }

    @Test("an IPv6 literal host: connects to ::1, Host is [::1]:port")
    func ipv6() async throws {
        let server = try await TinyHTTPServer.start(host: "::1")
        defer { server.stop() }
        let transport = HTTPClientTransport()
        let (status, _) = try await get(transport, "http://[::1]:\(server.port)/hello")
        #expect(status == 200)
        #expect(server.log.first?.host == "[::1]:\(server.port)")
        try await transport.shutdown()
    }
}

/// An HTTP/1.1 server on loopback whose paths misbehave on purpose (see `TinyHTTPHandler`).
final class TinyHTTPServer: Sendable {
    struct Seen: Sendable {
        var method: String
        var path: String
        var host: String?
        var contentLength: String?
        var userAgent: String?
    }

    struct State {
        var accepted = 0
        var log: [Seen] = []
        var lastUpload = Data()
    }

    let state = Mutex(State())
    private let channel = Mutex<(any Channel)?>(nil)
    let port: Int
    let host: String

    var base: String { "http://\(host.contains(":") ? "[\(host)]" : host):\(port)" }
    var accepted: Int { state.withLock { $0.accepted } }
    var log: [Seen] { state.withLock { $0.log } }
    var lastUpload: Data { state.withLock { $0.lastUpload } }

    /// Byte i of /big/N is i % 251 (a period prime to every power of two, so a piece that
    /// lands at a wrong offset does not match); served and checked from one precomputed run.
    private static let period: [UInt8] = (0..<(251 * 260)).map { UInt8($0 % 251) }
    static func pattern(from offset: Int, count: Int) -> ArraySlice<UInt8> {
        precondition(count <= 60_000)
        let start = offset % 251
        return period[start..<(start + count)]
    }

    private init(channel: any Channel, host: String) {
        self.port = channel.localAddress!.port!
        self.host = host
        self.channel.withLock { $0 = channel }
    }

    static func start(host: String = "127.0.0.1") async throws -> TinyHTTPServer {
        let box = ServerBox()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                box.server?.state.withLock { $0.accepted += 1 }
                do {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(TinyHTTPHandler(server: box))
                    return channel.eventLoop.makeSucceededVoidFuture()
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
            }
            .bind(host: host, port: 0).get()
        let server = TinyHTTPServer(channel: channel, host: host)
        box.set(server)
        return server
    }

    func stop() {
        let channel = self.channel.withLock { $0 }
        try? channel?.close().wait()
    }
}

final class ServerBox: Sendable {
    private let value = Mutex<TinyHTTPServer?>(nil)
    var server: TinyHTTPServer? { value.withLock { $0 } }
    func set(_ s: TinyHTTPServer) { value.withLock { $0 = s } }
}

/// /hello, /close (Connection: close), /chunked, /big/N (N pattern bytes), /silent (never
/// answers), /slow (answers after 300 ms), /stale (dropped unless first on its connection),
/// /drop (always dropped), PUT|POST /upload (keeps the body, answers 201).
final class TinyHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let server: ServerBox
    private var requests = 0
    private var head: HTTPRequestHead?
    private var body = Data()

    init(server: ServerBox) { self.server = server }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case let .head(h):
            head = h
            body = Data()
            requests += 1
        case let .body(buffer):
            body.append(contentsOf: buffer.readableBytesView)
        case .end:
            guard let head else { return }
            server.server?.state.withLock {
                $0.log.append(
                    .init(
                        method: head.method.rawValue, path: head.uri, host: head.headers.first(name: "host"),
                        contentLength: head.headers.first(name: "content-length"), userAgent: head.headers.first(name: "user-agent")))
            }
            respond(context: context, head: head)
        }
    }

    private func send(context: ChannelHandlerContext, status: HTTPResponseStatus = .ok, _ text: String, headers extra: [(String, String)] = []) {
        var headers = HTTPHeaders([("Content-Length", "\(text.utf8.count)")] + extra)
        if head?.method == .HEAD { headers.replaceOrAdd(name: "Content-Length", value: "\(text.utf8.count)") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        if head?.method != .HEAD { context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil) }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    private func respond(context: ChannelHandlerContext, head: HTTPRequestHead) {
        let path = head.uri
        switch path {
        case "/hello":
            send(context: context, "hello")
        case "/close":
            send(context: context, "bye", headers: [("Connection", "close")])
        case "/chunked":
            let h = HTTPResponseHead(version: .http1_1, status: .ok, headers: ["X-Order": "1", "X-Order": "2"])
            context.write(wrapOutboundOut(.head(h)), promise: nil)
            for word in ["alpha", "beta", "gamma"] {
                context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: word)))), promise: nil)
            }
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        case "/silent":
            break
        case "/slow":
            let loop = context.eventLoop.assumeIsolated()
            loop.scheduleTask(in: .milliseconds(300)) { self.send(context: context, "slow") }
        case "/stale":
            if requests > 1 { context.close(promise: nil) } else { send(context: context, "fresh") }
        case "/drop":
            context.close(promise: nil)
        case "/upload":
            server.server?.state.withLock { $0.lastUpload = body }
            send(context: context, status: .created, "")
        default:
            if path.hasPrefix("/big/"), let n = Int(path.dropFirst(5)) {
                let h = HTTPResponseHead(version: .http1_1, status: .ok, headers: ["Content-Length": "\(n)"])
                context.write(wrapOutboundOut(.head(h)), promise: nil)
                if head.method != .HEAD {
                    var offset = 0
                    while offset < n {
                        let count = min(60_000, n - offset)
                        let buffer = context.channel.allocator.buffer(bytes: TinyHTTPServer.pattern(from: offset, count: count))
                        context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
                        offset += count
                    }
                }
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            } else {
                send(context: context, status: .notFound, "")
            }
        }
    }
}
