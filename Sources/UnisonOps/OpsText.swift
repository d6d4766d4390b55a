import FoundationEssentials
import Glibc
import UnisonCore

/// A date's UTC calendar fields (seconds cut off, as the date formatters did), for fixed
/// formats without DateFormatter.
struct UTCTime {
    var year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0

    init(_ date: Date) {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        year = Int(parts.tm_year) + 1900
        month = Int(parts.tm_mon) + 1
        day = Int(parts.tm_mday)
        hour = Int(parts.tm_hour)
        minute = Int(parts.tm_min)
        second = Int(parts.tm_sec)
    }

    func digits(_ value: Int, _ width: Int = 2) -> String { NumberText.decimal(value, width: width) }

    /// `yyyy-MM-dd'T'HH:mm:ss'Z'` (ISO8601DateFormatter's `.withInternetDateTime` in UTC).
    var internetDateTime: String {
        "\(digits(year, 4))-\(digits(month))-\(digits(day))T\(digits(hour)):\(digits(minute)):\(digits(second))Z"
    }
}

extension StringProtocol {
    /// The pieces between `separator`s, split scalar by scalar like full Foundation's
    /// `components(separatedBy:)` (so "a\r\nb" splits at the "\n" and keeps the "\r").
    func scalarComponents(separatedBy separator: Unicode.Scalar) -> [String] {
        String(self).unicodeScalars.split(separator: separator, omittingEmptySubsequences: false)
            .map { String(String.UnicodeScalarView($0)) }
    }
}
