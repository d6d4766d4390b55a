import FoundationEssentials

/// Build time for reproducible outputs: `SOURCE_DATE_EPOCH` when set
/// (https://reproducible-builds.org/specs/source-date-epoch/), otherwise a fixed epoch so that
/// an unset variable still yields identical bytes run after run.
package enum SourceDateEpoch {
    /// 2024-01-01T00:00:00Z: the fallback when SOURCE_DATE_EPOCH is unset.
    package static let fallback: Int64 = 1_704_067_200

    package static func current(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> Int64 {
        if let raw = environment["SOURCE_DATE_EPOCH"], let value = Int64(raw.trimming(.whitespaces)), value >= 0 {
            return value
        }
        return fallback
    }
}

/// The calendar date behind a protocol, so date-dependent logic (nightly tags, telemetry) is
/// testable. Named apart from the standard library's `Clock` (monotonic instants for sleeping).
package protocol WallClock: Sendable {
    func now() -> Date
}

package struct SystemClock: WallClock {
    package init() {}
    package func now() -> Date { Date() }
}

package struct FixedClock: WallClock {
    package let date: Date
    package init(_ date: Date) { self.date = date }
    package func now() -> Date { date }
}
