import FoundationEssentials
import Glibc
import UnisonCore

/// How often and how patiently the client retries: an explicit value rather than loops with
/// magic numbers. Applies to 408, 429, 5xx answers and to dropped or refused connections.
package struct RetryPolicy: Sendable, Hashable {
    /// Total tries of one request (1 = no retry).
    package var attempts: Int
    package var initialBackoff: Duration
    package var maxBackoff: Duration
    package var multiplier: Double
    /// Longest `Retry-After` the client will honour; longer ones are cut to this.
    package var maxRetryAfter: Duration

    package init(
        attempts: Int, initialBackoff: Duration, maxBackoff: Duration, multiplier: Double = 2,
        maxRetryAfter: Duration = .seconds(60)
    ) {
        self.attempts = max(1, attempts)
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.multiplier = multiplier
        self.maxRetryAfter = maxRetryAfter
    }

    /// Five tries, 250 ms doubling to at most 10 s.
    package static let standard = RetryPolicy(attempts: 5, initialBackoff: .milliseconds(250), maxBackoff: .seconds(10))
    package static let none = RetryPolicy(attempts: 1, initialBackoff: .zero, maxBackoff: .zero)

    /// The wait after failed try number `attempt` (1-based): initial × multiplier^(attempt-1),
    /// capped. Deterministic, so tests and logs are repeatable.
    package func delay(afterAttempt attempt: Int, retryAfter: Duration? = nil) -> Duration {
        if let retryAfter { return min(retryAfter, maxRetryAfter) }
        let initial = Double(initialBackoff.components.seconds) + Double(initialBackoff.components.attoseconds) / 1e18
        let cap = Double(maxBackoff.components.seconds) + Double(maxBackoff.components.attoseconds) / 1e18
        let seconds = min(cap, initial * pow(multiplier, Double(max(0, attempt - 1))))
        return .milliseconds(Int64((seconds * 1000).rounded()))
    }

    /// Statuses worth another try: timeouts, rate limits and server-side failures.
    package static func isRetryable(status: Int) -> Bool {
        status == 408 || status == 429 || status == 500 || status == 502 || status == 503 || status == 504
    }

    /// `Retry-After` in delta-seconds form (the HTTP-date form is not used by registries).
    static func retryAfter(_ header: String?) -> Duration? {
        guard let header, let seconds = Int(header.trimming(.whitespaces)), seconds >= 0 else { return nil }
        return .seconds(seconds)
    }
}
