import Foundation

/// Build time for reproducible outputs: `SOURCE_DATE_EPOCH` when set
/// (https://reproducible-builds.org/specs/source-date-epoch/), otherwise a fixed epoch so that
/// an unset variable still yields identical bytes run after run.
public enum SourceDateEpoch {
    /// 2024-01-01T00:00:00Z: the fallback when SOURCE_DATE_EPOCH is unset.
    public static let fallback: Int64 = 1_704_067_200

    public static func current(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> Int64 {
        if let raw = environment["SOURCE_DATE_EPOCH"], let value = Int64(raw.trimmingCharacters(in: .whitespaces)), value >= 0 {
            return value
        }
        return fallback
    }
}

/// The calendar date behind a protocol, so date-dependent logic (nightly tags, telemetry) is
/// testable. Named apart from the standard library's `Clock` (monotonic instants for sleeping).
public protocol WallClock: Sendable {
    func now() -> Date
}

public struct SystemClock: WallClock {
    public init() {}
    public func now() -> Date { Date() }
}

public struct FixedClock: WallClock {
    public let date: Date
    public init(_ date: Date) { self.date = date }
    public func now() -> Date { date }
}
