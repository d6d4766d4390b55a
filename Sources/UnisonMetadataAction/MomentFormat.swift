import FoundationEssentials
import UnisonCore

/// Date formatting with Moment.js format tokens (https://momentjs.com/docs/#/displaying/format/)
/// in the English locale, as the action's `{{date 'FORMAT' tz='ZONE'}}` uses them.
///
/// Tokens are found the way moment finds them: `[...]` is literal text, a backslash makes the
/// next token literal, localized formats (`LT`, `L`, `LLLL`, …) expand first, and the longest
/// token alternative wins in moment's own order (so `YYYYMMDD` is `YYYY` `MM` `DD`).
package struct MomentFormat: Sendable {
    var timeZone: ZoneRules
    package var zoneName: String

    /// `zone` is an IANA name; moment-timezone's default is UTC.
    package init(zone: String = "UTC") throws {
        guard !zone.isEmpty, let tz = ZoneRules(identifier: zone) else { throw MetadataActionError.unknownTimeZone(zone) }
        timeZone = tz
        zoneName = zone
    }

    static let localized: [String: String] = [
        "LTS": "h:mm:ss A", "LT": "h:mm A", "L": "MM/DD/YYYY", "LL": "MMMM D, YYYY",
        "LLL": "MMMM D, YYYY h:mm A", "LLLL": "dddd, MMMM D, YYYY h:mm A",
        "l": "M/D/YYYY", "ll": "MMM D, YYYY", "lll": "MMM D, YYYY h:mm A", "llll": "ddd, MMM D, YYYY h:mm A",
    ]
    static let months = [
        "January", "February", "March", "April", "May", "June", "July", "August", "September",
        "October", "November", "December",
    ]
    static let weekdays = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]

    package func format(_ date: Date, _ pattern: String) -> String {
        let t = LocalTime(date: date, timeZone: timeZone)
        var out = ""
        for token in Self.tokens(Self.expandLocalized(pattern)) {
            switch token {
            case let .literal(s): out += s
            case let .token(s): out += render(s, t) ?? s.replacing("\\", with: "")
            }
        }
        return out
    }

    enum Token: Equatable { case literal(String), token(String) }

    /// moment's expandFormat: replaces LT/LTS/L…/l… outside brackets (repeated up to 5 times).
    static func expandLocalized(_ pattern: String) -> String {
        var current = pattern
        for _ in 0..<5 {
            let chars = Array(current)
            var out = ""
            var i = 0
            var changed = false
            while i < chars.count {
                if chars[i] == "[", let close = bracketEnd(chars, i) {
                    out += String(chars[i...close]); i = close + 1; continue
                }
                if chars[i] == "\\", i + 1 < chars.count {
                    out.append(chars[i]); out.append(chars[i + 1]); i += 2; continue
                }
                var matched: String?
                for candidate in ["LTS", "LT", "LLLL", "LLL", "LL", "L", "llll", "lll", "ll", "l"] where matches(chars, i, candidate) {
                    matched = candidate; break
                }
                if let m = matched, let expansion = localized[m] {
                    out += expansion; i += m.count; changed = true
                } else {
                    out.append(chars[i]); i += 1
                }
            }
            current = out
            if !changed { break }
        }
        return current
    }

    static func matches(_ chars: [Character], _ i: Int, _ s: String) -> Bool {
        let needle = Array(s)
        guard i + needle.count <= chars.count else { return false }
        return Array(chars[i..<(i + needle.count)]) == needle
    }

    /// `\[[^\[]*\]`: from `[` to the last `]` before the next `[`.
    static func bracketEnd(_ chars: [Character], _ start: Int) -> Int? {
        var j = start + 1
        var lastClose: Int?
        while j < chars.count, chars[j] != "[" {
            if chars[j] == "]" { lastClose = j }
            j += 1
        }
        return lastClose
    }

    /// Splits a pattern the way moment's formattingTokens regular expression does.
    static func tokens(_ pattern: String) -> [Token] {
        let chars = Array(pattern)
        var out: [Token] = []
        var i = 0
        func run(_ c: Character, max: Int) -> Int {
            var n = 0
            while i + n < chars.count, chars[i + n] == c, n < max { n += 1 }
            return n
        }
        while i < chars.count {
            if chars[i] == "[", let close = bracketEnd(chars, i) {
                out.append(.literal(String(chars[(i + 1)..<close]))); i = close + 1; continue
            }
            var backslash = false
            if chars[i] == "\\", i + 1 < chars.count { backslash = true; i += 1 }
            let c = chars[i]
            var length = 1
            switch c {
            case "H", "h":
                if matches(chars, i + 1, "mmss") { length = 5 } else if matches(chars, i + 1, "mm") { length = 3 } else { length = run(c, max: 2) }
            case "M":
                length = matches(chars, i + 1, "o") ? 2 : run("M", max: 4)
            case "D":
                if matches(chars, i + 1, "o") { length = 2 } else if matches(chars, i, "DDDo") { length = 4 } else { length = run("D", max: 4) }
            case "d":
                let n = run("d", max: 4)
                length = n >= 2 ? n : (matches(chars, i + 1, "o") ? 2 : 1)
            case "w", "W":
                if i + 1 < chars.count, ["o", "|", c].contains(chars[i + 1]) { length = 2 }
            case "Q":
                length = matches(chars, i + 1, "o") ? 2 : 1
            case "N":
                length = run("N", max: 5)
            case "Y":
                let n = run("Y", max: 6)
                length = n >= 4 ? n : (n >= 2 ? 2 : 1)
            case "y":
                let n = run("y", max: 4)
                length = n >= 2 ? n : (matches(chars, i + 1, "o") ? 2 : 1)
            case "g", "G":
                let n = run(c, max: 5)
                length = n >= 4 ? n : (n >= 2 ? 2 : 1)
            case "k", "m", "s", "z", "Z":
                length = run(c, max: 2)
            case "S":
                length = run("S", max: 9)
            default:
                length = 1
            }
            let text = String(chars[i..<(i + length)])
            out.append(backslash ? .literal(text) : .token(text))
            i += length
        }
        return out
    }

    func render(_ token: String, _ t: LocalTime) -> String? {
        func pad(_ n: Int, _ width: Int, forceSign: Bool = false) -> String {
            let digits = String(abs(n))
            let sign = n >= 0 ? (forceSign ? "+" : "") : "-"
            return sign + String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        let hour12 = t.hour % 12 == 0 ? 12 : t.hour % 12
        switch token {
        case "M": return String(t.month)
        case "Mo": return Self.ordinal(t.month)
        case "MM": return pad(t.month, 2)
        case "MMM": return String(Self.months[t.month - 1].prefix(3))
        case "MMMM": return Self.months[t.month - 1]
        case "Q": return String((t.month + 2) / 3)
        case "Qo": return Self.ordinal((t.month + 2) / 3)
        case "D": return String(t.day)
        case "Do": return Self.ordinal(t.day)
        case "DD": return pad(t.day, 2)
        case "DDD": return String(t.dayOfYear)
        case "DDDo": return Self.ordinal(t.dayOfYear)
        case "DDDD": return pad(t.dayOfYear, 3)
        case "d", "e": return String(t.weekday)
        case "do": return Self.ordinal(t.weekday)
        case "dd": return String(Self.weekdays[t.weekday].prefix(2))
        case "ddd": return String(Self.weekdays[t.weekday].prefix(3))
        case "dddd": return Self.weekdays[t.weekday]
        case "E": return String(t.weekday == 0 ? 7 : t.weekday)
        case "w": return String(t.week(dow: 0, doy: 6).week)
        case "wo": return Self.ordinal(t.week(dow: 0, doy: 6).week)
        case "ww": return pad(t.week(dow: 0, doy: 6).week, 2)
        case "W": return String(t.week(dow: 1, doy: 4).week)
        case "Wo": return Self.ordinal(t.week(dow: 1, doy: 4).week)
        case "WW": return pad(t.week(dow: 1, doy: 4).week, 2)
        case "Y": return t.year <= 9999 ? pad(t.year, 4) : "+\(t.year)"
        case "YY": return pad(((t.year % 100) + 100) % 100, 2)
        case "YYYY": return pad(t.year, 4)
        case "YYYYY": return pad(t.year, 5)
        case "YYYYYY": return pad(t.year, 6, forceSign: true)
        case "y": return String(t.year)
        case "yo": return Self.ordinal(t.year)
        case "yy": return pad(t.year, 2)
        case "yyy": return pad(t.year, 3)
        case "yyyy": return pad(t.year, 4)
        case "N", "NN", "NNN", "NNNNN": return "AD"
        case "NNNN": return "Anno Domini"
        case "gg": return pad(t.week(dow: 0, doy: 6).year % 100, 2)
        case "gggg": return pad(t.week(dow: 0, doy: 6).year, 4)
        case "ggggg": return pad(t.week(dow: 0, doy: 6).year, 5)
        case "GG": return pad(t.week(dow: 1, doy: 4).year % 100, 2)
        case "GGGG": return pad(t.week(dow: 1, doy: 4).year, 4)
        case "GGGGG": return pad(t.week(dow: 1, doy: 4).year, 5)
        case "a": return t.hour < 12 ? "am" : "pm"
        case "A": return t.hour < 12 ? "AM" : "PM"
        case "H": return String(t.hour)
        case "HH": return pad(t.hour, 2)
        case "h": return String(hour12)
        case "hh": return pad(hour12, 2)
        case "k": return String(t.hour == 0 ? 24 : t.hour)
        case "kk": return pad(t.hour == 0 ? 24 : t.hour, 2)
        case "hmm": return "\(hour12)\(pad(t.minute, 2))"
        case "hmmss": return "\(hour12)\(pad(t.minute, 2))\(pad(t.second, 2))"
        case "Hmm": return "\(t.hour)\(pad(t.minute, 2))"
        case "Hmmss": return "\(t.hour)\(pad(t.minute, 2))\(pad(t.second, 2))"
        case "m": return String(t.minute)
        case "mm": return pad(t.minute, 2)
        case "s": return String(t.second)
        case "ss": return pad(t.second, 2)
        case "S": return String(t.millisecond / 100)
        case "SS": return pad(t.millisecond / 10, 2)
        case "SSS": return pad(t.millisecond, 3)
        case "x": return String(t.epochMilliseconds)
        case "X": return String(Int64((Double(t.epochMilliseconds) / 1000).rounded(.down)))
        case "Z", "ZZ":
            let offset = t.offsetSeconds / 60
            let sign = offset < 0 ? "-" : "+"
            let sep = token == "Z" ? ":" : ""
            return "\(sign)\(pad(abs(offset) / 60, 2))\(sep)\(pad(abs(offset) % 60, 2))"
        case "z", "zz":
            if zoneName == "UTC" || zoneName == "Etc/UTC" { return "UTC" }
            return timeZone.abbreviation(for: t.date)
        default:
            if token.count > 3, token.allSatisfy({ $0 == "S" }) {
                var n = t.millisecond
                for _ in 3..<token.count { n *= 10 }
                return pad(n, token.count)
            }
            return nil
        }
    }

    /// English ordinals: 1st 2nd 3rd 4th … 11th 12th 13th … 21st.
    static func ordinal(_ n: Int) -> String {
        let b = n % 10
        let suffix = (n % 100) / 10 == 1 ? "th" : b == 1 ? "st" : b == 2 ? "nd" : b == 3 ? "rd" : "th"
        return "\(n)\(suffix)"
    }
}

/// Wall-clock fields of an instant in a time zone, computed with plain calendar arithmetic
/// (proleptic Gregorian, as JavaScript's Date is).
struct LocalTime {
    let date: Date
    let epochMilliseconds: Int64
    let offsetSeconds: Int
    let year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, millisecond: Int
    /// 0 = Sunday.
    let weekday: Int
    let dayOfYear: Int

    init(date: Date, timeZone: ZoneRules) {
        self.date = date
        epochMilliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        offsetSeconds = timeZone.secondsFromGMT(for: date)
        let local = epochMilliseconds + Int64(offsetSeconds) * 1000
        let days = Int(local >= 0 ? local / 86_400_000 : (local - 86_399_999) / 86_400_000)
        let msOfDay = Int(local - Int64(days) * 86_400_000)
        (year, month, day) = Self.civil(fromDays: days)
        hour = msOfDay / 3_600_000
        minute = msOfDay / 60_000 % 60
        second = msOfDay / 1000 % 60
        millisecond = msOfDay % 1000
        weekday = ((days % 7) + 7 + 4) % 7
        dayOfYear = days - Self.days(fromCivil: year, 1, 1) + 1
    }

    /// Days since 1970-01-01 → (year, month, day) (H. Hinnant's algorithm).
    static func civil(fromDays z0: Int) -> (Int, Int, Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    static func days(fromCivil y0: Int, _ m: Int, _ d: Int) -> Int {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func isLeap(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

    /// moment's firstWeekOffset: where week 1 starts relative to Jan 1 (dow = first day of the
    /// week, doy = the January date that is always in week 1, expressed as 7 + dow - doy).
    static func firstWeekOffset(_ year: Int, dow: Int, doy: Int) -> Int {
        let fwd = 7 + dow - doy
        let jan = days(fromCivil: year, 1, fwd)
        let fwdWeekday = ((jan % 7) + 7 + 4) % 7
        let fwdlw = (7 + fwdWeekday - dow) % 7
        return -fwdlw + fwd - 1
    }

    static func weeksInYear(_ year: Int, dow: Int, doy: Int) -> Int {
        let offset = firstWeekOffset(year, dow: dow, doy: doy)
        let next = firstWeekOffset(year + 1, dow: dow, doy: doy)
        return ((isLeap(year) ? 366 : 365) - offset + next) / 7
    }

    func week(dow: Int, doy: Int) -> (week: Int, year: Int) {
        let offset = Self.firstWeekOffset(year, dow: dow, doy: doy)
        let w = Int((Double(dayOfYear - offset - 1) / 7).rounded(.down)) + 1
        if w < 1 {
            return (w + Self.weeksInYear(year - 1, dow: dow, doy: doy), year - 1)
        }
        let inYear = Self.weeksInYear(year, dow: dow, doy: doy)
        if w > inYear { return (w - inYear, year + 1) }
        return (w, year)
    }
}
