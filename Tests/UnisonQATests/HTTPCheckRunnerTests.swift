import Foundation
import Testing
import UnisonCore
import UnisonSpec
import UnisonTestSupport

@testable import UnisonQA

/// Options with short deadlines so that failing cases end quickly.
private func smoke(deadline: TimeInterval = 20, request: TimeInterval = 5) -> QARunOptions {
    var o = QARunOptions.defaults(for: .smoke)
    o.deadline = deadline
    o.requestTimeout = request
    o.initialBackoff = 0.1
    o.maxBackoff = 0.5
    return o
}

private func e2e(deadline: TimeInterval = 20, request: TimeInterval = 5, stop: Bool = true) -> QARunOptions {
    var o = QARunOptions.defaults(for: .e2e)
    o.deadline = deadline
    o.requestTimeout = request
    o.stopAtFirstFailure = stop
    return o
}

@Suite("qa smoke/e2e: HTTP checks against a real server", .serialized, .tags(.interop))
struct HTTPCheckRunnerTests {
    let spec: PlatformSpec

    init() throws { spec = try QAFixtures.shippedSpec() }

    func endpoints(_ server: FixtureServer, services: [String] = ["orchestrator", "auth"]) throws -> QAEndpoints {
        try QAEndpoints(spec: spec, baseURLs: services.map { "\($0)=\(server.baseURL)" })
    }

    @Test("passing checks: status, JSON key, chunked body, echoed POST body; results in the given order")
    func passing() throws {
        let server = try FixtureServer()
        defer { server.stop() }
        let checks = [
            HTTPCheckPlan(name: "health", service: "orchestrator", path: "/health", expectStatus: 200, expectBodyContains: "ok"),
            HTTPCheckPlan(name: "json", service: "auth", path: "/json", expectJSONKey: "data.version"),
            HTTPCheckPlan(name: "chunked", service: "auth", path: "/chunked", expectBodyContains: "alpha-beta-gamma"),
            HTTPCheckPlan(
                name: "echo", service: "orchestrator", method: "post", path: "/echo", body: "plain <text> & more",
                expectBodyContains: "plain <text> & more"),
            HTTPCheckPlan(name: "teapot", service: "auth", path: "/status/418", expectStatus: 418),
        ]
        let report = try HTTPCheckRunner.run(checks, suite: .smoke, endpoints: endpoints(server), options: smoke())
        #expect(report.checks.map(\.name) == ["health", "json", "chunked", "echo", "teapot"])
        for c in report.checks {
            #expect(c.outcome == .passed, "\(c.name): \(c.message)")
            #expect(c.attempts == 1)
            #expect(c.seconds > 0)
        }
        #expect(report.checks.map(\.status) == [200, 200, 200, 200, 418])
        #expect(report.checks[3].method == "POST")
        #expect(report.checks[3].responseExcerpt == "plain <text> & more")
        #expect(report.checks[0].url == "\(server.baseURL)/health")
        #expect(report.passed && report.exitCode == 0)
        #expect(report.counts == QARunCounts(total: 5, passed: 5, failed: 0, errors: 0, skipped: 0))
    }

    @Test("a JSON body goes as application/json, any other body as text/plain")
    func contentType() throws {
        let server = try FixtureServer()
        defer { server.stop() }
        let checks = [
            HTTPCheckPlan(
                name: "json-body", service: "orchestrator", method: "POST", path: "/v1/intents", body: #"{"text":"ping"}"#,
                expectStatus: 200, expectJSONKey: "echo.text"),
            // The fixture refuses anything but application/json with 415: text bodies must not claim JSON.
            HTTPCheckPlan(
                name: "text-body", service: "orchestrator", method: "POST", path: "/v1/intents", body: "ping",
                expectStatus: 415, expectBodyContains: "got text/plain; charset=utf-8"),
            HTTPCheckPlan(name: "no-body", service: "orchestrator", method: "POST", path: "/v1/intents", expectStatus: 415),
        ]
        let report = try HTTPCheckRunner.run(checks, suite: .e2e, endpoints: endpoints(server), options: e2e())
        #expect(report.checks.map(\.outcome) == [.passed, .passed, .passed], "\(report.checks.map(\.message))")
        #expect(report.checks[0].responseExcerpt?.contains(#""ok": true"#) == true)
    }

    @Test("a wrong status fails at once, also in smoke mode, with both codes in the message")
    func wrongStatus() throws {
        let server = try FixtureServer()
        defer { server.stop() }
        let checks = [
            HTTPCheckPlan(name: "missing", service: "auth", path: "/status/404", expectStatus: 200),
            HTTPCheckPlan(name: "body", service: "auth", path: "/health", expectBodyContains: "not there"),
            HTTPCheckPlan(name: "key", service: "auth", path: "/json", expectJSONKey: "data.missing"),
        ]
        let report = try HTTPCheckRunner.run(checks, suite: .smoke, endpoints: endpoints(server), options: smoke(deadline: 30))
        let missing = report.checks[0]
        #expect(missing.outcome == .wrongStatus)
        #expect(missing.status == 404)
        #expect(missing.attempts == 1, "a 404 is not a service that is starting")
        #expect(missing.message.contains("expected HTTP 200, got 404"))
        #expect(missing.responseExcerpt == "status 404")
        #expect(report.checks[1].outcome == .bodyMismatch)
        #expect(report.checks[2].outcome == .bodyMismatch)
        #expect(report.checks.allSatisfy { $0.attempts == 1 }, "nothing was retried until the deadline")
        #expect(!report.passed && report.exitCode == 1)
        #expect(report.counts.failed == 3)
    }

    @Test("connection refused: once in e2e, retried until the deadline in smoke")
    func refused() throws {
        let port = try TestNetwork.freePort()
        let endpoints = try QAEndpoints(spec: spec, baseURLs: ["orchestrator=http://127.0.0.1:\(port)"])
        let check = HTTPCheckPlan(name: "down", service: "orchestrator", path: "/health")

        let once = try HTTPCheckRunner.run([check], suite: .e2e, endpoints: endpoints, options: e2e())
        #expect(once.checks[0].outcome == .refused)
        #expect(once.checks[0].attempts == 1)
        #expect(once.checks[0].status == nil)
        #expect(once.counts.errors == 1)

        let retried = try HTTPCheckRunner.run([check], suite: .smoke, endpoints: endpoints, options: smoke(deadline: 2))
        #expect(retried.checks[0].outcome == .refused)
        #expect(retried.checks[0].attempts >= 3, "backoff 0.1, 0.2, 0.4 … within 2 s")
        #expect(retried.checks[0].seconds >= 1.7, "kept trying until the deadline (less the last attempt's quarter second)")
        #expect(retried.checks[0].message.contains("connection refused"))
    }

    @Test("a service that comes up late: smoke retries until it answers")
    func lateService() throws {
        let port = try TestNetwork.freePort()
        let started = Date()
        let server = try FixtureServer(port: port, delay: 2)
        defer { server.stop() }
        let endpoints = try QAEndpoints(spec: spec, baseURLs: ["auth=http://127.0.0.1:\(port)"])
        let report = try HTTPCheckRunner.run(
            [HTTPCheckPlan(name: "late", service: "auth", path: "/health")], suite: .smoke,
            endpoints: endpoints, options: smoke(deadline: 60))
        let c = report.checks[0]
        #expect(c.outcome == .passed, "\(c.message)")
        #expect(c.attempts > 1)
        #expect(Date().timeIntervalSince(started) >= 2, "the server listened only after 2 s")
    }

    @Test("503 while starting is retried; the check passes once the service recovers")
    func flaky() throws {
        let server = try FixtureServer()
        defer { server.stop() }
        let report = try HTTPCheckRunner.run(
            [HTTPCheckPlan(name: "flaky", service: "auth", path: "/flaky/a/3")], suite: .smoke,
            endpoints: endpoints(server), options: smoke())
        #expect(report.checks[0].outcome == .passed)
        #expect(report.checks[0].attempts == 4)
        #expect(report.checks[0].responseExcerpt == "recovered after 3")
    }

    @Test("a request slower than its timeout is a timeout, reported near that time")
    func timeout() throws {
        let server = try FixtureServer()
        defer { server.stop() }
        let report = try HTTPCheckRunner.run(
            [HTTPCheckPlan(name: "slow", service: "auth", path: "/slow/6")], suite: .e2e,
            endpoints: endpoints(server), options: e2e(request: 1))
        let c = report.checks[0]
        #expect(c.outcome == .timedOut, "\(c.message)")
        #expect(c.seconds >= 0.9, "\(c.seconds)")
        #expect(c.message.contains("no answer within 1.000 s"))
    }

    @Test("a check's own timeout wins over the run's request timeout")
    func perCheckTimeout() throws {
        let server = try FixtureServer()
        defer { server.stop() }
        let checks = [
            HTTPCheckPlan(name: "tight", service: "auth", path: "/slow/3", timeout: 0.5),
            HTTPCheckPlan(name: "loose", service: "auth", path: "/slow/1"),
        ]
        let report = try HTTPCheckRunner.run(checks, suite: .e2e, endpoints: endpoints(server), options: e2e(request: 10, stop: false))
        #expect(report.checks.map(\.outcome) == [.timedOut, .passed])
        #expect(report.checks[0].message.contains("0.500 s"))
        #expect(throws: HTTPCheckError.self) {
            try HTTPCheckRunner.run(
                [HTTPCheckPlan(name: "zero", service: "auth", path: "/", timeout: 0)], suite: .e2e,
                endpoints: endpoints(server), options: e2e())
        }
    }

    @Test("e2e runs in order and skips the steps after a failure, unless told to keep going")
    func ordered() throws {
        let server = try FixtureServer()
        defer { server.stop() }
        let steps = [
            HTTPCheckPlan(name: "one", service: "orchestrator", path: "/flaky/order/0"),
            HTTPCheckPlan(name: "two", service: "orchestrator", path: "/status/500"),
            HTTPCheckPlan(name: "three", service: "orchestrator", path: "/flaky/order/0"),
        ]
        let stopped = try HTTPCheckRunner.run(steps, suite: .e2e, endpoints: endpoints(server), options: e2e())
        #expect(stopped.checks.map(\.outcome) == [.passed, .wrongStatus, .skipped])
        #expect(stopped.checks[2].message.contains("'two'"))
        #expect(stopped.checks[1].attempts == 1, "e2e does not retry a 500")
        #expect(stopped.counts == QARunCounts(total: 3, passed: 1, failed: 1, errors: 0, skipped: 1))
        // The counter in the fixture proves the order: "one" was its first request on this key.
        #expect(stopped.checks[0].responseExcerpt == "recovered after 0")

        let all = try HTTPCheckRunner.run(steps, suite: .e2e, endpoints: endpoints(server), options: e2e(stop: false))
        #expect(all.checks.map(\.outcome) == [.passed, .wrongStatus, .passed])
        #expect(all.checks[0].responseExcerpt == "recovered after 1")
        #expect(all.checks[2].responseExcerpt == "recovered after 2")
    }

    @Test("the spec's checks: selection with --only, spec port by default, health port for the health path")
    func fromSpec() throws {
        let server = try FixtureServer()
        defer { server.stop() }
        var spec = spec
        let i = try #require(spec.services.firstIndex { $0.name == "orchestrator" })
        spec.services[i].port = server.port
        spec.services[i].hostPort = server.port
        spec.qa.smoke = [
            specCheck(name: "a", service: "orchestrator", method: "GET", path: "/health", body: nil, expect: 200),
            specCheck(name: "b", service: "orchestrator", method: "GET", path: "/status/201", body: nil, expect: 201),
            specCheck(name: "c", service: "nats", method: "GET", path: "/varz", body: nil, expect: 200),
        ]
        let report = try HTTPCheckRunner.run(spec: spec, suite: .smoke, only: ["b", "a"], options: smoke())
        #expect(report.checks.map(\.name) == ["a", "b"], "the spec's order, not --only's")
        #expect(report.passed, "\(report.checks.map(\.message))")
        #expect(report.checks[0].url == "http://127.0.0.1:\(server.port)/health")

        let nats = try #require(spec.service(named: "nats"))
        let endpoints = try QAEndpoints(spec: spec, host: "10.0.2.15")
        #expect(
            try endpoints.endpoint(for: HTTPCheckPlan(spec.qa.smoke[2])) == ServiceEndpoint(host: "10.0.2.15", port: try #require(nats.healthPort)))
        #expect(try endpoints.endpoint(for: HTTPCheckPlan(name: "x", service: "nats", path: "/other")).port == nats.port)
    }

    /// One reading of the ports the compose bundle publishes (`Service.publishedPorts`): a
    /// health endpoint on the main port answers on the host port that port is published on.
    @Test("a health check on the main port goes to the published host port, as health and doctor read it")
    func healthOnTheMainPortUsesTheHostPort() throws {
        var spec = spec
        let i = try #require(spec.services.firstIndex { $0.name == "orchestrator" })
        spec.services[i].port = 8090
        spec.services[i].hostPort = 18090
        spec.services[i].healthPort = 8090
        let service = spec.services[i]
        #expect(service.publishedPorts.map { "\($0.host):\($0.container)" } == ["18090:8090"])
        #expect(service.hostHealthPort == 18090)
        #expect(service.hostPort(publishing: 8090) == 18090 && service.hostPort(publishing: 9999) == nil)
        let endpoints = try QAEndpoints(spec: spec, host: "127.0.0.1")
        let health = HTTPCheckPlan(name: "h", service: "orchestrator", path: try #require(service.health))
        #expect(try endpoints.endpoint(for: health).port == 18090)
        #expect(try endpoints.endpoint(for: HTTPCheckPlan(name: "o", service: "orchestrator", path: "/other")).port == 18090)
    }

    @Test(
        "bad input is refused before any request",
        arguments: [
            (["nosuch=http://127.0.0.1:1"], [String](), "unknown service 'nosuch'"),
            (["orchestrator"], [], "expected SERVICE=URL"),
            (["=http://127.0.0.1:1"], [], "expected SERVICE=URL"),
            (["orchestrator=https://127.0.0.1:1"], [], "https is not supported"),
            (["orchestrator=http://127.0.0.1:99999"], [], "not an http://"),
            (["orchestrator=http://127.0.0.1:1", "orchestrator=http://127.0.0.1:2"], [], "given twice"),
            ([], ["nosuch"], "no such check in qa.smoke"),
        ])
    func badInput(baseURLs: [String], only: [String], message: String) throws {
        do {
            _ = try HTTPCheckRunner.run(spec: spec, suite: .smoke, only: only, baseURLs: baseURLs, options: smoke())
            Issue.record("accepted bad input \(baseURLs) \(only)")
        } catch let error as HTTPCheckError {
            #expect(error.description.contains(message), "\(error)")
            #expect(error.exitStatus == .badInput)
        }
    }

    @Test("an empty list and an unknown service inside a check are bad input too")
    func badSpec() throws {
        var spec = spec
        spec.qa.e2e = []
        #expect(throws: HTTPCheckError.noChecks(.e2e)) { try HTTPCheckRunner.run(spec: spec, suite: .e2e, options: e2e()) }
        let endpoints = try QAEndpoints(spec: spec)
        #expect(throws: HTTPCheckError.self) {
            try HTTPCheckRunner.run([HTTPCheckPlan(name: "x", service: "ghost", path: "/")], suite: .e2e, endpoints: endpoints, options: e2e())
        }
    }

    @Test(
        "what counts as a service still starting (retried in smoke)",
        arguments: [
            (Result<Int, HTTPExchange.Failure>.failure(.refused), 200, true),
            (.failure(.timedOut(phase: "response")), 200, true),
            (.failure(.failed("connection reset by the server")), 200, true),
            (.failure(.unresolved(host: "x", detail: "unknown")), 200, false),
            (.success(503), 200, true),
            (.success(502), 200, true),
            (.success(429), 200, true),
            (.success(503), 503, false),
            (.success(404), 200, false),
            (.success(401), 200, false),
            (.success(200), 204, false),
        ])
    func retryable(answer: Result<Int, HTTPExchange.Failure>, expect: Int, retried: Bool) {
        let response = answer.map { HTTPExchange.Response(status: $0, reason: "", headers: [], body: Data(), truncated: false) }
        let check = HTTPCheckPlan(name: "c", service: "auth", path: "/", expectStatus: expect)
        #expect(HTTPCheckRunner.retryable(response, check) == retried)
    }

    @Test(
        "base URLs parse host, port and path prefix",
        arguments: [
            ("http://127.0.0.1:8080", ServiceEndpoint(host: "127.0.0.1", port: 8080)),
            ("http://localhost", ServiceEndpoint(host: "localhost", port: 80)),
            ("http://gw.local:8000/api/", ServiceEndpoint(host: "gw.local", port: 8000, basePath: "/api/")),
            ("HTTP://[::1]:9000/x", ServiceEndpoint(host: "::1", port: 9000, basePath: "/x")),
        ])
    func parse(text: String, endpoint: ServiceEndpoint) {
        #expect(ServiceEndpoint.parse(text) == endpoint)
    }

    @Test(
        "malformed base URLs are refused",
        arguments: [
            "127.0.0.1:80", "http://", "http://:80", "http://h:0", "http://h:x",
            "http://[::1", "http://u@h", "http://h/p?q", "https://h",
        ])
    func parseBad(text: String) {
        #expect(ServiceEndpoint.parse(text) == nil)
    }

    @Test("targets join the base path and the check path with one slash")
    func targets() {
        #expect(ServiceEndpoint(host: "h", port: 1, basePath: "/api/").target(for: "/health") == "/api/health")
        #expect(ServiceEndpoint(host: "h", port: 1, basePath: "/api").target(for: "health") == "/api/health")
        #expect(ServiceEndpoint(host: "::1", port: 1).url(for: "/x") == "http://[::1]:1/x")
    }
}
