// One HTTP/1.1 connection of `HTTPClientTransport`: a NIO channel with autoRead off, so bytes
// are read from the socket only while a response head or a body chunk is wanted (backpressure
// all the way to the server), and a read timeout that runs only while we wait for bytes.
import FoundationEssentials
import Glibc
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization
import UnisonCore

final class HTTPConnection: Sendable {
    let channel: any Channel
    private let handler: NIOLoopBound<HTTPExchangeHandler>
    private let usesTLS: Bool
    private let seen: ResponseSeen

    private init(channel: any Channel, handler: NIOLoopBound<HTTPExchangeHandler>, usesTLS: Bool, seen: ResponseSeen) {
        self.channel = channel
        self.handler = handler
        self.usesTLS = usesTLS
        self.seen = seen
    }

    static func connect(
        to target: HTTPTarget, tls: NIOSSLContext?, connectTimeout: Duration, readTimeout: Duration
    ) async throws -> HTTPConnection {
        let origin = target.origin
        let serverName = origin.isIPLiteral ? nil : origin.host
        let read = TimeAmount(readTimeout)
        let seen = ResponseSeen()
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(TimeAmount(connectTimeout))
            .channelOption(.autoRead, value: false)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                do {
                    let sync = channel.pipeline.syncOperations
                    if let tls {
                        // Verifies the chain against the system roots and the name (or IP) against the certificate.
                        try sync.addHandler(NIOSSLClientHandler(context: tls, serverHostname: serverName))
                        if let serverName { try sync.addHandler(PeerNameCheck(host: serverName)) }
                    }
                    try sync.addHTTPClientHandlers()
                    try sync.addHandler(HTTPExchangeHandler(readTimeout: read, seen: seen))
                    return channel.eventLoop.makeSucceededVoidFuture()
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
            }
        let channel = try await bootstrap.connect(host: origin.host, port: origin.port).get()
        do {
            let handler = try await channel.eventLoop.submit {
                NIOLoopBound(try channel.pipeline.syncOperations.handler(type: HTTPExchangeHandler.self), eventLoop: channel.eventLoop)
            }.get()
            return HTTPConnection(channel: channel, handler: handler, usesTLS: tls != nil, seen: seen)
        } catch {
            channel.close(promise: nil)
            // A peer that accepts and closes at once leaves a channel whose handlers are gone
            // (ChannelPipelineError.notFound): what happened is a closed connection, and what
            // broke it (a TLS alert, a reset) says more when it was recorded.
            throw seen.cause.withLock { $0 } ?? (error is ChannelPipelineError ? ConnectionClosed() : error)
        }
    }

    var isActive: Bool { channel.isActive }

    func close() { channel.close(promise: nil) }

    /// Whether any part of a response to the current request came in.
    var receivedResponse: Bool { seen.value.load(ordering: .relaxed) }

    /// What first broke the connection, if anything did.
    var cause: (any Error)? { seen.cause.withLock { $0 } }

    private func onLoop<T: Sendable>(_ body: @escaping @Sendable (HTTPExchangeHandler) throws -> EventLoopFuture<T>) -> EventLoopFuture<T> {
        let handler = self.handler
        return channel.eventLoop.flatSubmit {
            do { return try body(handler.value) } catch { return handler.value.eventLoop.makeFailedFuture(error) }
        }
    }

    /// Starts an exchange: forgets the last response's state and starts reading, so that an
    /// answer the server gives before it took the whole body is seen. Returns the head to come.
    func begin() async throws -> EventLoopFuture<HTTPResponseHead> {
        try await onLoop { handler in
            handler.eventLoop.makeSucceededFuture(try handler.begin())
        }.get()
    }

    /// The request is out: from now on the server's silence counts against the read timeout.
    func sent() {
        let handler = self.handler
        channel.eventLoop.execute { handler.value.sent() }
    }

    /// Writes the request head and body: a file body on plain HTTP with sendfile, otherwise in
    /// 1 MiB buffers with at most two in flight (the next one is read from the file while the
    /// previous one goes out; never the whole file in memory).
    func write(head: HTTPRequestHead, body: RequestBody) async throws {
        if case let .file(url, range) = body { try Self.checkLength(url, covers: range) }
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        switch body {
        case .empty:
            break
        case let .data(data):
            channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(bytes: data))), promise: nil)
        case let .file(url, range):
            if usesTLS {
                try await writeChunks(of: url, range: range)
            } else {
                let handle = try Self.open(url)
                defer { try? handle.close() }
                let region = FileRegion(fileHandle: handle, readerIndex: Int(range.lowerBound), endIndex: Int(range.upperBound))
                let sent: EventLoopFuture<Void> = channel.writeAndFlush(HTTPClientRequestPart.body(.fileRegion(region)))
                try await sent.get()
            }
        }
        let end: EventLoopFuture<Void> = channel.writeAndFlush(HTTPClientRequestPart.end(nil))
        try await end.get()
    }

    private func writeChunks(of url: URL, range: Range<Int64>) async throws {
        let file = try FileIO(forReadingFrom: url)
        defer { try? file.close() }
        try file.seek(toOffset: UInt64(range.lowerBound))
        var position = range.lowerBound
        var previous: EventLoopFuture<Void>?
        while position < range.upperBound {
            try Task.checkCancellation()
            let want = Int(min(Int64(1 << 20), range.upperBound - position))
            let data = try file.read(upToCount: want) ?? Data()
            guard !data.isEmpty else { throw TransportError("\(url.path) ended at byte \(position), expected \(range.upperBound)") }
            position += Int64(data.count)
            let sent: EventLoopFuture<Void> = channel.writeAndFlush(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(bytes: data))))
            try await previous?.get()
            previous = sent
        }
        try await previous?.get()
    }

    private static func open(_ url: URL) throws -> NIOFileHandle {
        try NIOFileHandle(_deprecatedPath: url.path)
    }

    /// A file body must hold the bytes its Content-Length promised.
    private static func checkLength(_ url: URL, covers range: Range<Int64>) throws {
        var info = stat()
        guard stat(url.path, &info) == 0 else {
            throw TransportError("\(url.path): " + String(cString: strerror(errno)).lowercased())
        }
        guard Int64(info.st_size) >= range.upperBound else {
            throw TransportError("\(url.path) ended at byte \(info.st_size), expected \(range.upperBound)")
        }
    }

    /// Puts the connection to rest between exchanges (see `HTTPExchangeHandler.idle`).
    func idle() {
        let handler = self.handler
        channel.eventLoop.execute { handler.value.idle() }
    }

    /// The next piece of the body (what came in with one read), or nil at its end.
    func nextBodyPart() async throws -> ByteBuffer? {
        try await onLoop { $0.nextBodyPart() }.get()
    }
}

/// Whether any part of a response to the current request came in, and the first thing that
/// broke the connection (set on the event loop, read by the task that reports the failure and
/// decides whether the request may be sent again: a write that fails after a TLS handshake
/// failed only says "closed").
final class ResponseSeen: Sendable {
    let value = Atomic<Bool>(false)
    let cause = Mutex<(any Error)?>(nil)
}

/// The pipeline's end: turns response parts into answers for the connection's requests.
/// Lives on the channel's event loop.
final class HTTPExchangeHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = HTTPClientRequestPart

    private let readTimeout: TimeAmount
    private var context: ChannelHandlerContext?
    private var active = false
    private var inExchange = false
    private var head: HTTPResponseHead?
    private var parts: [ByteBuffer] = []
    private var ended = false
    private var failure: Error?
    private var headPromise: EventLoopPromise<HTTPResponseHead>?
    private var bodyPromise: EventLoopPromise<ByteBuffer?>?
    private var timer: Scheduled<Void>?
    private var requestSent = false
    private let seen: ResponseSeen

    init(readTimeout: TimeAmount, seen: ResponseSeen) {
        self.readTimeout = readTimeout
        self.seen = seen
    }

    var eventLoop: any EventLoop { context!.eventLoop }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        active = context.channel.isActive
    }

    func channelActive(context: ChannelHandlerContext) {
        active = true
        context.fireChannelActive()
    }

    func begin() throws -> EventLoopFuture<HTTPResponseHead> {
        if let failure { throw failure }
        guard active, let context else { throw ConnectionClosed() }
        inExchange = true
        requestSent = false
        head = nil
        parts = []
        ended = false
        seen.value.store(false, ordering: .relaxed)
        let promise = context.eventLoop.makePromise(of: HTTPResponseHead.self)
        headPromise = promise
        context.read()
        return promise.futureResult
    }

    func sent() {
        requestSent = true
        if headPromise != nil { arm() }
    }

    func nextBodyPart() -> EventLoopFuture<ByteBuffer?> {
        let loop = context!.eventLoop
        if !parts.isEmpty { return loop.makeSucceededFuture(takeParts()) }
        if ended {
            inExchange = false
            return loop.makeSucceededFuture(nil)
        }
        if let failure { return loop.makeFailedFuture(failure) }
        let promise = loop.makePromise(of: ByteBuffer?.self)
        bodyPromise = promise
        demand()
        return promise.futureResult
    }

    private func takeParts() -> ByteBuffer {
        if parts.count == 1 { return parts.removeFirst() }
        var all = parts.removeFirst()
        for var part in parts { all.writeBuffer(&part) }
        parts = []
        return all
    }

    /// Asks the socket for bytes and starts the read timeout.
    private func demand() {
        guard let context else { return }
        arm()
        context.read()
    }

    private func arm() {
        timer?.cancel()
        guard let context else { return }
        let seconds = HTTPClientTransport.seconds(readTimeout)
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: readTimeout) { [weak self] in
            self?.fail(TransportError("no data from the server for \(seconds) s (read timeout)"))
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        timer?.cancel()
        timer = nil
        guard inExchange else {
            // Bytes on an idle connection answer nothing we asked: the connection is unusable.
            fail(ConnectionClosed())
            return
        }
        seen.value.store(true, ordering: .relaxed)
        switch unwrapInboundIn(data) {
        case let .head(h):
            head = h
            if let p = headPromise {
                headPromise = nil
                p.succeed(h)
            }
        case let .body(buffer):
            parts.append(buffer)
            if let p = bodyPromise {
                bodyPromise = nil
                p.succeed(takeParts())
            }
        case .end:
            ended = true
            if let p = bodyPromise {
                bodyPromise = nil
                inExchange = false
                p.succeed(nil)
            }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        // Still waiting (a head split over several reads, or a read that brought no body): read on.
        if headPromise != nil {
            if requestSent { arm() }
            context.read()
        } else if bodyPromise != nil {
            demand()
        }
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        active = false
        timer?.cancel()
        timer = nil
        if failure == nil { record(ConnectionClosed()) }
        headPromise?.fail(failure!)
        bodyPromise?.fail(failure!)
        headPromise = nil
        bodyPromise = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        fail(error)
    }

    private func record(_ error: Error) {
        failure = error
        seen.cause.withLock { $0 = error }
    }

    /// Fails whatever waits and closes the connection (it is never reused after an error).
    private func fail(_ error: Error) {
        timer?.cancel()
        timer = nil
        if failure == nil { record(error) }
        headPromise?.fail(failure!)
        bodyPromise?.fail(failure!)
        headPromise = nil
        bodyPromise = nil
        context?.close(promise: nil)
    }

    /// Reads stay off between exchanges except one, so that a server closing the idle
    /// connection is noticed (the pool then drops it).
    func idle() {
        inExchange = false
        context?.read()
    }
}

/// A response body's reader: pulls one piece per `next()`, returns the connection to the pool
/// when the body ended on a keep-alive connection, and closes it otherwise — also when the
/// consumer drops the body before its end.
final class HTTPBodyReader: Sendable {
    private let connection: HTTPConnection
    private let pool: HTTPConnectionPool
    private let origin: HTTPOrigin
    private let keepAlive: Bool
    private let done = Mutex(false)

    init(connection: HTTPConnection, pool: HTTPConnectionPool, origin: HTTPOrigin, keepAlive: Bool) {
        self.connection = connection
        self.pool = pool
        self.origin = origin
        self.keepAlive = keepAlive
    }

    func next() async throws -> Data? {
        if done.withLock({ $0 }) { return nil }
        do {
            let part = try await withTaskCancellationHandler {
                try await connection.nextBodyPart()
            } onCancel: {
                connection.close()
            }
            if let part { return Data(part.readableBytesView) }
            finish(reuse: keepAlive)
            return nil
        } catch {
            finish(reuse: false)
            if Task.isCancelled || error is CancellationError { throw CancellationError() }
            throw TransportError(HTTPClientTransport.describe(error))
        }
    }

    private func finish(reuse: Bool) {
        let first = done.withLock { finished in
            let was = finished
            finished = true
            return !was
        }
        guard first else { return }
        if reuse {
            pool.release(connection, origin: origin)
        } else {
            connection.close()
            pool.discard(origin)
        }
    }

    deinit {
        if !done.withLock({ $0 }) {
            connection.close()
            pool.discard(origin)
        }
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
