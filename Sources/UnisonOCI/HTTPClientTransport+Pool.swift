// The connection pool of `HTTPClientTransport`: idle keep-alive connections per origin, and a
// cap on the connections one origin has open; a request over the cap waits for a connection
// to come back or close.
import Synchronization

final class HTTPConnectionPool: Sendable {
    enum Lease {
        case reuse(HTTPConnection)
        /// The caller may open a new connection (it is counted already) and must hand it back
        /// with `release` or give up its place with `discard`.
        case create
    }

    private struct Waiter {
        var id: Int
        var continuation: CheckedContinuation<Void, Error>
    }

    private struct State {
        var idle: [HTTPOrigin: [HTTPConnection]] = [:]
        var open: [HTTPOrigin: Int] = [:]
        var waiters: [HTTPOrigin: [Waiter]] = [:]
        var nextWaiter = 0
        var opened = 0
        var closed = false
    }

    private let state = Mutex(State())
    let limit: Int

    init(limit: Int) { self.limit = limit }

    deinit { shutdown() }

    /// Connections opened over the pool's life.
    var opened: Int { state.withLock { $0.opened } }

    func opened(_ origin: HTTPOrigin) { state.withLock { $0.opened += 1 } }

    /// An idle connection to `origin` (newest first), or the right to open one, waiting while
    /// `limit` connections to it are open.
    func lease(_ origin: HTTPOrigin) async throws -> Lease {
        while true {
            try Task.checkCancellation()
            var dead: [HTTPConnection] = []
            let lease: Lease? = state.withLock { s in
                while let c = s.idle[origin]?.popLast() {
                    if c.isActive { return .reuse(c) }
                    dead.append(c)
                    s.open[origin, default: 1] -= 1
                }
                if s.open[origin, default: 0] < limit {
                    s.open[origin, default: 0] += 1
                    return .create
                }
                return nil
            }
            for c in dead { c.close() }
            if let lease { return lease }
            try await waitForRoom(origin)
        }
    }

    private func waitForRoom(_ origin: HTTPOrigin) async throws {
        let id = state.withLock { s in
            s.nextWaiter += 1
            return s.nextWaiter
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
                let now: Bool = state.withLock { s in
                    if Task.isCancelled { return true }
                    let hasIdle = !(s.idle[origin]?.isEmpty ?? true)
                    if hasIdle || s.open[origin, default: 0] < limit { return true }
                    s.waiters[origin, default: []].append(Waiter(id: id, continuation: continuation))
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            let waiter: Waiter? = state.withLock { s in
                guard let i = s.waiters[origin]?.firstIndex(where: { $0.id == id }) else { return nil }
                return s.waiters[origin]!.remove(at: i)
            }
            waiter?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Takes back a connection whose response was read to the end on a keep-alive connection.
    func release(_ connection: HTTPConnection, origin: HTTPOrigin) {
        guard connection.isActive else {
            connection.close()
            discard(origin)
            return
        }
        connection.idle()
        let (waiter, keep): (Waiter?, Bool) = state.withLock { s in
            if s.closed {
                s.open[origin, default: 1] -= 1
                return (nil, false)
            }
            s.idle[origin, default: []].append(connection)
            return (s.waiters[origin]?.isEmpty == false ? s.waiters[origin]!.removeFirst() : nil, true)
        }
        if !keep { connection.close() }
        waiter?.continuation.resume()
    }

    /// Gives up the place of a connection that was closed (or never opened).
    func discard(_ origin: HTTPOrigin) {
        let waiter: Waiter? = state.withLock { s in
            s.open[origin, default: 1] -= 1
            return s.waiters[origin]?.isEmpty == false ? s.waiters[origin]!.removeFirst() : nil
        }
        waiter?.continuation.resume()
    }

    /// Closes the idle connections; connections in use close when their exchange ends.
    func shutdown() {
        let idle: [HTTPConnection] = state.withLock { s in
            s.closed = true
            defer { s.idle = [:] }
            for (origin, list) in s.idle { s.open[origin, default: 0] -= list.count }
            return s.idle.values.flatMap { $0 }
        }
        for c in idle { c.close() }
    }
}
