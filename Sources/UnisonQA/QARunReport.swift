import FoundationEssentials
import UnisonCore

/// How one HTTP check ended.
package enum HTTPCheckOutcome: String, Sendable, Codable, CaseIterable {
    case passed
    /// The service answered with another status than expected.
    case wrongStatus
    /// The status was right but the body lacked the expected text or JSON key.
    case bodyMismatch
    /// Nothing listened on the port.
    case refused
    /// No complete answer within the request timeout (or the run's deadline).
    case timedOut
    /// A reset, a malformed response, a name that does not resolve.
    case transportError
    /// Not run: an earlier e2e step failed or the run's deadline had passed.
    case skipped

    /// Failures are wrong answers; errors are no usable answer at all (JUnit keeps them apart).
    package var isError: Bool { self == .refused || self == .timedOut || self == .transportError }
    package var isFailure: Bool { self == .wrongStatus || self == .bodyMismatch }
}

/// The result of one check, with every attempt folded in.
package struct HTTPCheckResult: Sendable, Codable, Equatable {
    package var name: String
    package var service: String
    package var method: String
    package var url: String
    package var expectedStatus: Int
    /// The status of the last answer, when there was one.
    package var status: Int?
    package var outcome: HTTPCheckOutcome
    /// One sentence: what was expected and what happened.
    package var message: String
    package var attempts: Int
    /// From the first attempt to the verdict, retries and backoff included.
    package var seconds: Double
    /// The start of the last response body (up to 2 KiB, invalid UTF-8 replaced).
    package var responseExcerpt: String?

    package var passed: Bool { outcome == .passed }
}

package struct QARunCounts: Sendable, Codable, Equatable {
    package var total: Int
    package var passed: Int
    package var failed: Int
    package var errors: Int
    package var skipped: Int

    package init(total: Int, passed: Int, failed: Int, errors: Int, skipped: Int) {
        self.total = total
        self.passed = passed
        self.failed = failed
        self.errors = errors
        self.skipped = skipped
    }

    init(_ checks: [HTTPCheckResult]) {
        total = checks.count
        passed = checks.filter { $0.outcome == .passed }.count
        failed = checks.filter { $0.outcome.isFailure }.count
        errors = checks.filter { $0.outcome.isError }.count
        skipped = checks.filter { $0.outcome == .skipped }.count
    }
}

/// What `qa smoke` and `qa e2e` print with `--json` (schema `unisonctl.qa-run/v1`).
package struct QARunReport: Sendable, Codable, Equatable {
    package var schema = "unisonctl.qa-run/v1"
    package var suite: QASuite
    /// Every check passed (none failed, errored or was skipped).
    package var passed: Bool
    /// 0 all passed, 1 otherwise.
    package var exitCode: Int32
    package var counts: QARunCounts
    package var seconds: Double
    /// In the spec's order.
    package var checks: [HTTPCheckResult]
    /// The JUnit file written, if one was asked for.
    package var junit: String?

    /// Times are kept to the millisecond.
    package init(suite: QASuite, checks: [HTTPCheckResult], seconds: Double, junit: String? = nil) {
        self.suite = suite
        self.checks = checks.map { c in
            var c = c
            c.seconds = QATime.milliseconds(c.seconds)
            return c
        }
        self.seconds = QATime.milliseconds(seconds)
        self.junit = junit
        counts = QARunCounts(checks)
        passed = counts.passed == counts.total
        exitCode = passed ? ExitStatus.ok.rawValue : ExitStatus.checkFailed.rawValue
    }

    /// A human summary: one line per check, then the totals.
    package var summaryLines: [String] {
        let width = min(40, checks.map(\.name.count).max() ?? 0)
        var lines = checks.map { c -> String in
            let mark: String
            switch c.outcome {
            case .passed: mark = "PASS "
            case .skipped: mark = "SKIP "
            case _ where c.outcome.isError: mark = "ERROR"
            default: mark = "FAIL "
            }
            let tries = c.attempts > 1 ? ", \(c.attempts) attempts" : ""
            let name = c.name.padded(to: max(width, c.name.count))
            if c.outcome == .skipped { return "\(mark) \(name)  \(c.method) \(c.url): \(c.message)" }
            return "\(mark) \(name)  \(c.method) \(c.url): \(c.message) (\(QATime.format(c.seconds)) s\(tries))"
        }
        var total = "\(suite.rawValue): \(counts.passed) of \(counts.total) passed"
        let others = [(counts.failed, "failed"), (counts.errors, counts.errors == 1 ? "error" : "errors"), (counts.skipped, "skipped")]
            .filter { $0.0 > 0 }.map { "\($0.0) \($0.1)" }
        if !others.isEmpty { total += ", " + others.joined(separator: ", ") }
        total += " in \(QATime.format(seconds)) s"
        lines.append(total)
        if let junit { lines.append("JUnit report: \(junit)") }
        return lines
    }
}

enum QATime {
    static func milliseconds(_ seconds: Double) -> Double { (seconds * 1000).rounded() / 1000 }

    /// Seconds with millisecond precision and a dot, whatever the locale.
    static func format(_ seconds: Double) -> String {
        let ms = Int((max(0, seconds) * 1000).rounded())
        let frac = String(ms % 1000)
        return "\(ms / 1000).\(String(repeating: "0", count: 3 - frac.count))\(frac)"
    }
}
