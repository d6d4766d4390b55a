import Foundation
import Testing
import UnisonCore
import UnisonTestSupport

/// UnisonCore's HTTPExchange (the client under qa smoke/e2e) against the fixture server's
/// well-formed and hand-written responses.
@Suite("HTTPExchange: one HTTP/1.1 request over a socket", .serialized, .tags(.interop))
struct HTTPExchangeTests {
    let server: FixtureServer

    init() throws { server = try FixtureServer() }

    func get(
        _ target: String, method: String = "GET", host: String = "127.0.0.1", timeout: TimeInterval = 10,
        maxBody: Int = 1 << 20
    ) -> Result<HTTPExchange.Response, HTTPExchange.Failure> {
        HTTPExchange.perform(
            HTTPExchange.Request(method: method, target: target), host: host, port: server.port,
            timeout: timeout, maxBody: maxBody)
    }

    @Test("bodies by Content-Length, chunked (with extensions and trailers) and until close")
    func bodies() throws {
        defer { server.stop() }
        let plain = try get("/health").get()
        #expect(plain.status == 200 && plain.reason == "OK" && plain.body == Data("ok".utf8) && !plain.truncated)
        #expect(plain.header("content-length") == "2")
        #expect(try get("/chunked").get().body == Data("alpha-beta-gamma".utf8))
        #expect(try get("/raw/trailer").get().body == Data("abcde".utf8))
        #expect(try get("/raw/close-delimited").get().body == Data("until the end".utf8))
        let interim = try get("/raw/interim").get()
        #expect(interim.status == 202 && interim.body == Data("ok".utf8), "the 100 Continue before it is skipped")
    }

    @Test("no body for HEAD and 204, even when Content-Length is announced")
    func noBody() throws {
        defer { server.stop() }
        let head = try get("/health", method: "HEAD").get()
        #expect(head.status == 200 && head.body.isEmpty && head.header("Content-Length") == "2")
        let empty = try get("/status/204").get()
        #expect(empty.status == 204 && empty.body.isEmpty)
    }

    @Test("bodies past the limit are cut and flagged", arguments: [(100, 100, false), (101, 100, true), (5000, 64, true)])
    func truncation(size: Int, limit: Int, truncated: Bool) throws {
        defer { server.stop() }
        let r = try get("/big/\(size)", maxBody: limit).get()
        #expect(r.body.count == min(size, limit))
        #expect(r.truncated == truncated)
    }

    @Test(
        "broken answers are failures that say what was wrong",
        arguments: [
            ("/raw/garbage", "not an HTTP/1.x response"),
            ("/raw/empty", "connection closed without a response"),
            ("/raw/short", "connection closed after 3 of 10 body bytes"),
        ])
    func broken(target: String, message: String) {
        defer { server.stop() }
        guard case let .failure(f) = get(target) else { Issue.record("\(target) was accepted"); return }
        #expect(f.description.contains(message), "\(f)")
    }

    @Test("refused, timed out and unresolvable are told apart")
    func failures() throws {
        defer { server.stop() }
        let refused = HTTPExchange.perform(.init(target: "/"), host: "127.0.0.1", port: try TestNetwork.freePort(), timeout: 5)
        #expect(refused == .failure(.refused))
        let slow = get("/slow/5", timeout: 0.5)
        #expect(slow == .failure(.timedOut(phase: "response")), "the timeout, not the server's answer after 5 s, ended it")
        guard case .failure(.unresolved)? = Optional(HTTPExchange.perform(.init(target: "/"), host: "no-such-host.invalid", port: 80, timeout: 5))
        else {
            Issue.record("an .invalid name resolved")
            return
        }
    }

    @Test("a host name is resolved; when it has several addresses the one that listens answers")
    func localhost() throws {
        defer { server.stop() }
        // localhost may resolve to ::1 first on some systems; the fixture listens on 127.0.0.1 only.
        #expect(try get("/health", host: "localhost").get().status == 200)
    }
}
