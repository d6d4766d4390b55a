// The UTC offset of an IANA time zone at an instant, read from the system's compiled tz database
// (TZif, RFC 8536, under /usr/share/zoneinfo). FoundationEssentials' `TimeZone` knows named zones
// only through ICU (full Foundation, +44 MB; docs/performance.md), so without it
// `TimeZone(identifier: "Asia/Tokyo")` is nil.
//
// TZif version 2+ layout (all integers big-endian):
//
//   +0   "TZif"  version  15 reserved bytes
//   +20  isutcnt isstdcnt leapcnt timecnt typecnt charcnt   (six UInt32)
//   +44  v1 data block (32-bit times; skipped)
//        second header as above, then the v2 data block:
//        timecnt × Int64 transition times, timecnt × UInt8 type index,
//        typecnt × (Int32 utoff, UInt8 isdst, UInt8 desigidx), charcnt designations,
//        leapcnt × 12, isstdcnt, isutcnt
//   footer "\n" POSIX-TZ-string "\n"   (rule for instants after the last transition)
import FoundationEssentials
import UnisonCore

struct ZoneRules: Sendable {
    private var transitions: [Int64] = []
    /// Offset in seconds east of UTC after each transition.
    private var offsets: [Int] = []
    /// Offset before the first transition.
    private var initialOffset = 0
    private var footer: PosixRule?

    /// What ICU calls the zone at offset 0: "UTC" for the UTC names, else "GMT".
    private var zeroName = "GMT"

    static let utc = ZoneRules(fixedOffset: 0, zeroName: "UTC")

    private init(fixedOffset: Int, zeroName: String = "GMT") {
        initialOffset = fixedOffset
        self.zeroName = zeroName
    }

    /// Names the zone database is not needed for (ICU knows them without it).
    private static let utcNames: Set<String> = ["Etc/UCT", "Etc/UTC", "Etc/Universal", "Etc/Zulu", "UCT", "Universal", "Zulu"]
    private static let gmtNames: Set<String> = [
        "Etc/GMT", "Etc/GMT+0", "Etc/GMT-0", "Etc/GMT0", "Etc/Greenwich", "GMT", "GMT+0", "GMT-0", "GMT0", "Greenwich", "UTC",
    ]

    /// The zone named `identifier` (case-sensitive, as ICU's lookup is), or nil when the tz
    /// database has no such zone.
    init?(identifier: String, directory: String = "/usr/share/zoneinfo") {
        if Self.utcNames.contains(identifier) || Self.gmtNames.contains(identifier) {
            self.init(fixedOffset: 0, zeroName: Self.utcNames.contains(identifier) ? "UTC" : "GMT")
            return
        }
        let parts = identifier.split(separator: "/", omittingEmptySubsequences: false)
        guard !identifier.isEmpty, !parts.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }),
            parts.first != "posix", parts.first != "right",
            identifier.unicodeScalars.allSatisfy(Self.isZoneNameScalar),
            let data = FileManager.default.contents(atPath: directory + "/" + identifier),
            let parsed = Self.parse([UInt8](data))
        else { return nil }
        self = parsed
    }

    func secondsFromGMT(for date: Date) -> Int {
        let t = Int64((date.timeIntervalSince1970).rounded(.down))
        guard let first = transitions.first, t >= first else { return initialOffset }
        if t >= transitions[transitions.count - 1], let footer { return footer.offset(at: t) }
        // The last transition at or before t.
        var low = 0
        var high = transitions.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if transitions[mid] <= t { low = mid } else { high = mid - 1 }
        }
        return offsets[low]
    }

    /// The offset as ICU's English short name without a metazone: "GMT", "GMT+9", "GMT-3:30"
    /// ("UTC" for the UTC names). ICU named the offset of the zone's current standard time plus
    /// any daylight saving, so for dates under older rules it could differ from the offset then
    /// in force; this names the offset in force.
    func abbreviation(for date: Date) -> String {
        let offset = secondsFromGMT(for: date)
        guard offset != 0 else { return zeroName }
        let magnitude = abs(offset)
        var text = "GMT" + (offset < 0 ? "-" : "+") + String(magnitude / 3600)
        let minutes = magnitude / 60 % 60
        let seconds = magnitude % 60
        if minutes != 0 || seconds != 0 { text += ":" + NumberText.decimal(minutes, width: 2) }
        if seconds != 0 { text += ":" + NumberText.decimal(seconds, width: 2) }
        return text
    }

    /// Scalars a zone name may hold (tz database names: ASCII letters, digits, `/_+-`).
    private static func isZoneNameScalar(_ s: Unicode.Scalar) -> Bool {
        s.isASCII && (s.properties.isAlphabetic || ("0"..."9").contains(s) || "/_+-".unicodeScalars.contains(s))
    }

    private static func parse(_ bytes: [UInt8]) -> ZoneRules? {
        var reader = Reader(bytes: bytes)
        guard let v1 = reader.header(), v1.version >= 2 else { return nil }
        // Skip the 32-bit block.
        guard reader.skip(v1.timecnt * 5 + v1.typecnt * 6 + v1.charcnt + v1.leapcnt * 8 + v1.isstdcnt + v1.isutcnt),
            let h = reader.header(), h.typecnt > 0
        else { return nil }
        var rules = ZoneRules(fixedOffset: 0)
        var times: [Int64] = []
        for _ in 0..<h.timecnt {
            guard let t = reader.int64() else { return nil }
            times.append(t)
        }
        var indices: [Int] = []
        for _ in 0..<h.timecnt {
            guard let i = reader.byte(), Int(i) < h.typecnt else { return nil }
            indices.append(Int(i))
        }
        var typeOffsets: [Int] = []
        for _ in 0..<h.typecnt {
            guard let off = reader.int32(), reader.skip(2) else { return nil }
            typeOffsets.append(Int(off))
        }
        guard reader.skip(h.charcnt + h.leapcnt * 12 + h.isstdcnt + h.isutcnt) else { return nil }
        rules.transitions = times
        rules.offsets = indices.map { typeOffsets[$0] }
        rules.initialOffset = typeOffsets[0]
        if let text = reader.footer(), !text.isEmpty {
            rules.footer = PosixRule(text)
            if rules.footer == nil { return nil }
        }
        if times.isEmpty, let footer = rules.footer, footer.dst == nil { rules.initialOffset = footer.standard }
        return rules
    }

    private struct Header {
        let version: Int
        let isutcnt: Int, isstdcnt: Int, leapcnt: Int, timecnt: Int, typecnt: Int, charcnt: Int
    }

    private struct Reader {
        let bytes: [UInt8]
        var at = 0

        mutating func skip(_ n: Int) -> Bool {
            guard n >= 0, at + n <= bytes.count else { return false }
            at += n
            return true
        }

        mutating func byte() -> UInt8? {
            guard at < bytes.count else { return nil }
            defer { at += 1 }
            return bytes[at]
        }

        mutating func uint32() -> UInt32? {
            guard at + 4 <= bytes.count else { return nil }
            defer { at += 4 }
            return bytes[at..<(at + 4)].reduce(0) { $0 << 8 | UInt32($1) }
        }

        mutating func int32() -> Int32? { uint32().map { Int32(bitPattern: $0) } }

        mutating func int64() -> Int64? {
            guard let high = uint32(), let low = uint32() else { return nil }
            return Int64(bitPattern: UInt64(high) << 32 | UInt64(low))
        }

        mutating func header() -> Header? {
            guard at + 44 <= bytes.count, bytes[at..<(at + 4)].elementsEqual("TZif".utf8) else { return nil }
            let versionByte = bytes[at + 4]
            let version = versionByte == 0 ? 1 : Int(versionByte) - 0x30
            at += 20
            var counts: [Int] = []
            for _ in 0..<6 {
                guard let c = uint32(), c < 1 << 20 else { return nil }
                counts.append(Int(c))
            }
            return Header(
                version: version, isutcnt: counts[0], isstdcnt: counts[1], leapcnt: counts[2], timecnt: counts[3],
                typecnt: counts[4], charcnt: counts[5])
        }

        mutating func footer() -> String? {
            guard at < bytes.count, bytes[at] == 0x0A else { return nil }
            let rest = bytes[(at + 1)...]
            guard let end = rest.firstIndex(of: 0x0A) else { return nil }
            return String(decoding: bytes[(at + 1)..<end], as: UTF8.self)
        }
    }
}

/// A POSIX TZ rule (the TZif footer), e.g. `EST5EDT,M3.2.0,M11.1.0` or `<+0545>-5:45`:
/// standard offset, and optionally a daylight offset with the dates it starts and ends.
struct PosixRule: Sendable, Equatable {
    /// Seconds east of UTC.
    let standard: Int
    let dst: Daylight?

    struct Daylight: Sendable, Equatable {
        let offset: Int
        let start: DateRule
        let end: DateRule
    }

    /// `Mm.w.d/time` (the only form the tz database writes today), `Jn` or `n`, with the local
    /// time of day in seconds.
    enum DateRule: Sendable, Equatable {
        case monthWeekDay(month: Int, week: Int, weekday: Int, time: Int)
        case julianNoLeap(day: Int, time: Int)
        case zeroBased(day: Int, time: Int)
    }

    init(standardOffset: Int) {
        standard = standardOffset
        dst = nil
    }

    init?(_ text: String) {
        var scanner = PosixScanner(Array(text.unicodeScalars))
        guard scanner.name(), let std = scanner.offset() else { return nil }
        standard = -std
        if scanner.atEnd {
            dst = nil
            return
        }
        guard scanner.name() else { return nil }
        var dstOffset = standard + 3600
        if !scanner.peek(",") {
            guard let o = scanner.offset() else { return nil }
            dstOffset = -o
        }
        guard scanner.take(","), let start = scanner.dateRule(), scanner.take(","), let end = scanner.dateRule(),
            scanner.atEnd
        else { return nil }
        dst = Daylight(offset: dstOffset, start: start, end: end)
    }

    func offset(at t: Int64) -> Int {
        guard let dst else { return standard }
        let days = Int(t >= 0 ? t / 86400 : (t - 86399) / 86400)
        let year = LocalTime.civil(fromDays: days).0
        let start = Int64(Self.localSeconds(dst.start, year: year) - standard)
        let end = Int64(Self.localSeconds(dst.end, year: year) - dst.offset)
        // In the southern hemisphere daylight time spans New Year (start after end).
        let inDaylight = start < end ? (t >= start && t < end) : !(t >= end && t < start)
        return inDaylight ? dst.offset : standard
    }

    /// The rule's instant in `year` as seconds since the epoch in local wall time.
    private static func localSeconds(_ rule: DateRule, year: Int) -> Int {
        switch rule {
        case let .monthWeekDay(month, week, weekday, time):
            let first = LocalTime.days(fromCivil: year, month, 1)
            let firstWeekday = ((first % 7) + 7 + 4) % 7
            var day = first + (weekday - firstWeekday + 7) % 7 + (week - 1) * 7
            if week == 5 {
                let nextMonth = month == 12 ? LocalTime.days(fromCivil: year + 1, 1, 1) : LocalTime.days(fromCivil: year, month + 1, 1)
                while day >= nextMonth { day -= 7 }
            }
            return day * 86400 + time
        case let .julianNoLeap(n, time):
            var day = LocalTime.days(fromCivil: year, 1, 1) + n - 1
            if LocalTime.isLeap(year) && n >= 60 { day += 1 }
            return day * 86400 + time
        case let .zeroBased(n, time):
            return (LocalTime.days(fromCivil: year, 1, 1) + n) * 86400 + time
        }
    }
}

private struct PosixScanner {
    let s: [Unicode.Scalar]
    var i = 0

    init(_ s: [Unicode.Scalar]) { self.s = s }

    var atEnd: Bool { i == s.count }

    func peek(_ c: Unicode.Scalar) -> Bool { i < s.count && s[i] == c }

    mutating func take(_ c: Unicode.Scalar) -> Bool {
        guard peek(c) else { return false }
        i += 1
        return true
    }

    /// A zone abbreviation: letters, or `<...>` quoted.
    mutating func name() -> Bool {
        if take("<") {
            while i < s.count, s[i] != ">" { i += 1 }
            return take(">")
        }
        let start = i
        while i < s.count, s[i].isASCII, s[i].properties.isAlphabetic { i += 1 }
        return i - start >= 3
    }

    mutating func number() -> Int? {
        let start = i
        var n = 0
        while i < s.count, ("0"..."9").contains(s[i]), i - start < 6 {
            n = n * 10 + Int(s[i].value - 0x30)
            i += 1
        }
        return i > start ? n : nil
    }

    /// `[+-]hh[:mm[:ss]]` in seconds (as written: positive is west of Greenwich for offsets).
    mutating func offset() -> Int? {
        var sign = 1
        if take("-") { sign = -1 } else { _ = take("+") }
        guard let h = number() else { return nil }
        var total = h * 3600
        if take(":") {
            guard let m = number() else { return nil }
            total += m * 60
            if take(":") {
                guard let sec = number() else { return nil }
                total += sec
            }
        }
        return sign * total
    }

    mutating func dateRule() -> PosixRule.DateRule? {
        var rule: PosixRule.DateRule
        if take("M") {
            guard let m = number(), take("."), let w = number(), take("."), let d = number(),
                (1...12).contains(m), (1...5).contains(w), (0...6).contains(d)
            else { return nil }
            rule = .monthWeekDay(month: m, week: w, weekday: d, time: 7200)
        } else if take("J") {
            guard let n = number(), (1...365).contains(n) else { return nil }
            rule = .julianNoLeap(day: n, time: 7200)
        } else {
            guard let n = number(), (0...365).contains(n) else { return nil }
            rule = .zeroBased(day: n, time: 7200)
        }
        if take("/") {
            guard let time = offset() else { return nil }
            switch rule {
            case let .monthWeekDay(m, w, d, _): rule = .monthWeekDay(month: m, week: w, weekday: d, time: time)
            case let .julianNoLeap(n, _): rule = .julianNoLeap(day: n, time: time)
            case let .zeroBased(n, _): rule = .zeroBased(day: n, time: time)
            }
        }
        return rule
    }
}
