import Dispatch
import FoundationEssentials
import Synchronization
import UnisonCore
import UnisonSpec

/// How a run of HTTP checks behaves. `smoke` and `e2e` give the defaults each suite wants.
package struct QARunOptions: Sendable, Equatable {
    /// The whole run must finish within this many seconds (retries included).
    package var deadline: TimeInterval
    /// One request (connect, send, full response) gets at most this long.
    package var requestTimeout: TimeInterval
    /// Retry a check while its service looks like it is still starting (smoke).
    package var retryWhileStarting: Bool
    /// Run checks one after the other in declaration order (e2e); else all at once.
    package var ordered: Bool
    /// After a failed step, skip the rest (e2e steps build on each other).
    package var stopAtFirstFailure: Bool
    /// First pause between attempts; doubles up to `maxBackoff`.
    package var initialBackoff: TimeInterval
    package var maxBackoff: TimeInterval

    package init(
        deadline: TimeInterval, requestTimeout: TimeInterval, retryWhileStarting: Bool, ordered: Bool,
        stopAtFirstFailure: Bool, initialBackoff: TimeInterval = 0.25, maxBackoff: TimeInterval = 2
    ) {
        self.deadline = deadline
        self.requestTimeout = requestTimeout
        self.retryWhileStarting = retryWhileStarting
        self.ordered = ordered
        self.stopAtFirstFailure = stopAtFirstFailure
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
    }

    package static func defaults(for suite: QASuite) -> QARunOptions {
        switch suite {
        case .smoke: return QARunOptions(deadline: 120, requestTimeout: 10, retryWhileStarting: true, ordered: false, stopAtFirstFailure: false)
        case .e2e: return QARunOptions(deadline: 300, requestTimeout: 30, retryWhileStarting: false, ordered: true, stopAtFirstFailure: true)
        }
    }
}

/// Runs HTTP checks against live services and reports each with its timing.
package enum HTTPCheckRunner {
    /// The whole of `qa smoke` / `qa e2e`: picks the suite's checks from the spec (`only`
    /// narrows them by name, keeping the spec's order), resolves endpoints, runs, and writes
    /// the JUnit report to `junit` (atomically) when given. Bad input throws `HTTPCheckError`
    /// before anything runs; failing checks are in the report (`exitCode` 1).
    package static func run(
        spec: PlatformSpec, suite: QASuite, only: [String] = [], host: String? = nil,
        baseURLs: [String] = [], remappedPorts: [Int: Int] = [:], options: QARunOptions, junit: URL? = nil,
        status: (@Sendable (String) -> Void)? = nil
    ) throws -> QARunReport {
        let declared = (suite == .smoke ? spec.qa.smoke : spec.qa.e2e).map(HTTPCheckPlan.init)
        let checks = try select(declared, only: only, suite: suite)
        var endpoints = try QAEndpoints(spec: spec, host: host, baseURLs: baseURLs)
        endpoints.remappedPorts = remappedPorts
        if let junit { try JUnitReport.checkWritable(junit) }
        var report = try run(checks, suite: suite, endpoints: endpoints, options: options, status: status)
        if let junit {
            report.junit = junit.path
            try JUnitReport(run: report).write(to: junit)
        }
        return report
    }

    /// Checks named by `only` (all when empty), in declaration order.
    static func select(_ checks: [HTTPCheckPlan], only: [String], suite: QASuite) throws -> [HTTPCheckPlan] {
        guard !checks.isEmpty else { throw HTTPCheckError.noChecks(suite) }
        var seen = Set<String>()
        for c in checks where !seen.insert(c.name).inserted { throw HTTPCheckError.duplicateCheck(c.name, suite: suite) }
        for name in only where !seen.contains(name) {
            throw HTTPCheckError.unknownCheck(name, suite: suite, known: checks.map(\.name))
        }
        return only.isEmpty ? checks : checks.filter { only.contains($0.name) }
    }

    /// Runs `checks` and returns their results in the given order.
    package static func run(
        _ checks: [HTTPCheckPlan], suite: QASuite, endpoints: QAEndpoints, options: QARunOptions,
        status: (@Sendable (String) -> Void)? = nil
    ) throws -> QARunReport {
        guard options.deadline > 0, options.requestTimeout > 0, options.initialBackoff > 0, options.maxBackoff > 0 else {
            throw HTTPCheckError.badOption("the deadline, request timeout and backoff must be positive")
        }
        let targets = try checks.map { check -> (HTTPCheckPlan, ServiceEndpoint) in
            guard !check.method.isEmpty, check.method.allSatisfy({ $0.isLetter }) else {
                throw HTTPCheckError.badCheck(name: check.name, detail: "'\(check.method)' is not an HTTP method")
            }
            guard (100...599).contains(check.expectStatus) else {
                throw HTTPCheckError.badCheck(name: check.name, detail: "expected status \(check.expectStatus) is not an HTTP status")
            }
            if let timeout = check.timeout, !(timeout > 0) {
                throw HTTPCheckError.badCheck(name: check.name, detail: "its timeout must be a positive number of seconds")
            }
            guard !check.path.contains(where: { $0 == " " || $0.isNewline }) else {
                throw HTTPCheckError.badCheck(name: check.name, detail: "the path '\(check.path)' contains white space")
            }
            return (check, try endpoints.endpoint(for: check))
        }
        let started = Date()
        let deadline = started.addingTimeInterval(options.deadline)
        var results: [HTTPCheckResult]
        if options.ordered {
            results = []
            var failedStep: String?
            for (check, endpoint) in targets {
                if let failedStep, options.stopAtFirstFailure {
                    results.append(skipped(check, endpoint, because: "skipped: the earlier step '\(failedStep)' did not pass"))
                    continue
                }
                if Date() >= deadline {
                    results.append(skipped(check, endpoint, because: "skipped: the run's deadline of \(Int(options.deadline)) s had passed"))
                    continue
                }
                let result = runCheck(check, endpoint, options: options, deadline: deadline, status: status)
                if !result.passed, failedStep == nil { failedStep = check.name }
                results.append(result)
            }
        } else {
            // One thread each: a check waiting for its service must not hold up the others.
            let box = ResultSlots(count: targets.count)
            let group = DispatchGroup()
            for (i, (check, endpoint)) in targets.enumerated() {
                group.enter()
                Threads.detach {
                    box.set(i, runCheck(check, endpoint, options: options, deadline: deadline, status: status))
                    group.leave()
                }
            }
            group.wait()
            results = box.values
        }
        return QARunReport(suite: suite, checks: results, seconds: Date().timeIntervalSince(started))
    }

    static func skipped(_ check: HTTPCheckPlan, _ endpoint: ServiceEndpoint, because reason: String) -> HTTPCheckResult {
        HTTPCheckResult(
            name: check.name, service: check.service, method: check.method, url: endpoint.url(for: check.path),
            expectedStatus: check.expectStatus, status: nil, outcome: .skipped, message: reason,
            attempts: 0, seconds: 0, responseExcerpt: nil)
    }

    /// One check, retried (when the options say so) while the answer looks like a service
    /// still starting: no connection, a timeout, 429 or a 5xx other than the expected status.
    static func runCheck(
        _ check: HTTPCheckPlan, _ endpoint: ServiceEndpoint, options: QARunOptions, deadline: Date,
        status: (@Sendable (String) -> Void)?
    ) -> HTTPCheckResult {
        let started = Date()
        var request = HTTPExchange.Request(method: check.method, target: endpoint.target(for: check.path))
        if let body = check.body {
            request.body = Data(body.utf8)
            if let type = check.contentType { request.headers.append(.init(name: "Content-Type", value: type)) }
        }
        var attempts = 0
        var backoff = options.initialBackoff
        while true {
            attempts += 1
            let timeout = min(check.timeout ?? options.requestTimeout, max(0.001, deadline.timeIntervalSinceNow))
            let answer = HTTPExchange.perform(
                request, host: endpoint.host, port: endpoint.port, timeout: timeout,
                userAgent: "unisonctl-qa")
            let verdict = evaluate(check, answer, timeout: timeout)
            // The last attempt keeps a quarter second of its own, so that it can still get an answer.
            let pause = min(backoff, deadline.timeIntervalSinceNow - 0.25)
            if verdict.outcome != .passed, options.retryWhileStarting, retryable(answer, check), pause > 0 {
                if attempts % 10 == 1 {
                    status?("\(check.name): \(verdict.message) (attempt \(attempts)); retrying until the deadline")
                }
                Threads.sleep(pause)
                backoff = min(options.maxBackoff, backoff * 2)
                continue
            }
            let result = HTTPCheckResult(
                name: check.name, service: check.service, method: check.method, url: endpoint.url(for: check.path),
                expectedStatus: check.expectStatus, status: verdict.status, outcome: verdict.outcome, message: verdict.message,
                attempts: attempts, seconds: Date().timeIntervalSince(started), responseExcerpt: verdict.excerpt)
            return result
        }
    }

    static func retryable(_ answer: Result<HTTPExchange.Response, HTTPExchange.Failure>, _ check: HTTPCheckPlan) -> Bool {
        switch answer {
        case .failure(.unresolved): return false
        case .failure: return true
        case let .success(response):
            return response.status != check.expectStatus && (response.status == 429 || (500...599).contains(response.status))
        }
    }

    struct Verdict {
        var outcome: HTTPCheckOutcome
        var status: Int?
        var message: String
        var excerpt: String?
    }

    static let excerptLimit = 2048

    static func evaluate(
        _ check: HTTPCheckPlan, _ answer: Result<HTTPExchange.Response, HTTPExchange.Failure>,
        timeout: TimeInterval
    ) -> Verdict {
        switch answer {
        case .failure(.refused):
            return Verdict(outcome: .refused, status: nil, message: "connection refused: nothing listens there")
        case let .failure(.timedOut(phase)):
            return Verdict(
                outcome: .timedOut, status: nil, message: "no answer within \(QATime.format(timeout)) s (timed out waiting for the \(phase))")
        case let .failure(other):
            return Verdict(outcome: .transportError, status: nil, message: other.description)
        case let .success(response):
            let excerpt = response.body.isEmpty ? nil : String(decoding: response.body.prefix(excerptLimit), as: UTF8.self)
            guard response.status == check.expectStatus else {
                return Verdict(
                    outcome: .wrongStatus, status: response.status,
                    message: "expected HTTP \(check.expectStatus), got \(response.status)\(response.reason.isEmpty ? "" : " \(response.reason)")",
                    excerpt: excerpt)
            }
            if let needle = check.expectBodyContains, !String(decoding: response.body, as: UTF8.self).contains(needle) {
                return Verdict(
                    outcome: .bodyMismatch, status: response.status,
                    message: "HTTP \(response.status) but the body does not contain '\(needle)'", excerpt: excerpt)
            }
            if let key = check.expectJSONKey, !jsonHasKey(response.body, key) {
                return Verdict(
                    outcome: .bodyMismatch, status: response.status,
                    message: "HTTP \(response.status) but the body is not a JSON object with key '\(key)'", excerpt: excerpt)
            }
            return Verdict(outcome: .passed, status: response.status, message: "HTTP \(response.status)", excerpt: excerpt)
        }
    }

    /// Walks `a.b.c` through nested JSON objects.
    static func jsonHasKey(_ body: Data, _ path: String) -> Bool {
        guard var node = try? JSONValue.parse(body), node.object != nil || node.array != nil else { return false }
        for key in path.split(separator: ".", omittingEmptySubsequences: false) {
            guard let object = node.object, let next = object[String(key)] else { return false }
            node = next
        }
        return true
    }
}

/// Results written from concurrent checks, read once all are done.
private final class ResultSlots: Sendable {
    private let slots: Mutex<[HTTPCheckResult?]>
    init(count: Int) { slots = Mutex(Array(repeating: nil, count: count)) }
    func set(_ i: Int, _ value: HTTPCheckResult) { slots.withLock { $0[i] = value } }
    var values: [HTTPCheckResult] { slots.withLock { $0.compactMap { $0 } } }
}
