import Foundation
import Testing
import UnisonTestSupport

@testable import UnisonMetadataAction

/// `{{date 'FORMAT' tz='ZONE'}}`: Moment.js tokens in the English locale.
@Suite(.tags(.unit))
struct MomentFormatTests {
    /// ISO 8601, with or without fractional seconds (as `release tags --date` reads it).
    static func date(_ iso: String) -> Date {
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return ISO8601DateFormatter().date(from: iso) ?? fractional.date(from: iso)!
    }

    @Test(arguments: [
        ("2020-01-10T00:30:00Z", "YYYYMMDD", "UTC", "20200110"),
        ("2020-01-10T00:30:00Z", "YYYYMMDD-HHmmss", "Asia/Tokyo", "20200110-093000"),
        ("2020-01-10T15:25:50Z", "dddd, MMMM Do YYYY, h:mm:ss a", "UTC", "Friday, January 10th 2020, 3:25:50 pm"),
        ("2020-01-10T00:30:00Z", "YYYY-MM-DDTHH:mm:ss.SSS[Z]", "UTC", "2020-01-10T00:30:00.000Z"),
        ("2020-01-10T00:30:00Z", "Z ZZ", "Asia/Kathmandu", "+05:45 +0545"),
        ("2020-01-10T00:30:00Z", "Z", "America/New_York", "-05:00"),
        ("2020-07-10T00:30:00Z", "Z", "America/New_York", "-04:00"),
        ("2020-01-10T00:30:00Z", "YYYYMMDD", "America/New_York", "20200109"),
        ("2020-12-31T23:30:00Z", "GGGG-[W]WW-E", "UTC", "2020-W53-4"),
        ("2021-01-03T12:00:00Z", "GGGG-[W]WW-E gggg-ww-e", "UTC", "2020-W53-7 2021-02-0"),
        ("2019-12-30T00:00:00Z", "GGGG WW gggg ww", "UTC", "2020 01 2020 01"),
        ("2024-02-29T13:05:09.123Z", "DDDD DDDo Qo Mo MMM", "UTC", "060 60th 1st 2nd Feb"),
        ("2024-02-29T13:05:09.123Z", "S SS SSS SSSS X x", "UTC", "1 12 123 1230 1709211909 1709211909123"),
        ("2024-02-29T00:05:09Z", "k kk h hh H HH A a hmm Hmmss", "UTC", "24 24 12 12 0 00 AM am 1205 00509"),
        ("2024-02-29T13:05:09Z", "dd ddd dddd d do E e", "UTC", "Th Thu Thursday 4 4th 4 4"),
        ("2024-02-29T13:05:09Z", "YYYYYY YYYYY YY Y yy", "UTC", "+002024 02024 24 2024 2024"),
        ("2024-02-29T13:05:09Z", "YYY [literal] \\Y", "UTC", "242024 literal Y"),
        ("2024-02-29T13:05:09Z", "[lit]eral", "UTC", "lit4rpm2/29/2024"),
        ("2024-02-29T13:05:09Z", "LLLL", "UTC", "Thursday, February 29, 2024 1:05 PM"),
        ("2024-02-29T13:05:09Z", "L l LT LTS", "UTC", "02/29/2024 2/29/2024 1:05 PM 1:05:09 PM"),
        ("2024-02-29T13:05:09Z", "N NNNN w|", "UTC", "AD Anno Domini w|"),
        ("2024-02-29T13:05:09Z", "Do Do Do", "UTC", "29th 29th 29th"),
        ("2020-01-11T00:30:00Z", "Do", "UTC", "11th"),
        ("2020-01-22T00:30:00Z", "Do", "UTC", "22nd"),
        ("2020-01-10T00:30:00Z", "z", "UTC", "UTC"),
    ])
    func formats(_ iso: String, _ pattern: String, _ zone: String, _ expected: String) throws {
        #expect(try MomentFormat(zone: zone).format(Self.date(iso), pattern) == expected)
    }

    @Test func defaultFormatDependsOnTheOffset() throws {
        let action = try MetadataAction(
            inputs: MetadataInputs(tags: ["type=raw,value={{date ''}}", "type=raw,value={{date '' tz='Asia/Tokyo'}}"]),
            context: MetadataContext(eventName: "push", ref: "refs/heads/x", sha: "", date: Self.date("2020-01-10T00:30:00Z")),
            repository: MetadataRepository())
        #expect(try action.evaluate().tagNames == ["2020-01-10T00-30-00Z", "2020-01-10T09-30-00-09-00"])
    }

    @Test func isoStringHasMilliseconds() {
        #expect(MetadataAction.isoString(Date(timeIntervalSince1970: 1_709_211_909.5)) == "2024-02-29T13:05:09.500Z")
    }
}

/// Zone offsets from the system's tz database (TZif), past its last transition too.
@Suite(.tags(.unit))
struct ZoneRulesTests {
    @Test(arguments: [
        ("America/New_York", 2_224_828_800, -14400),  // 2040-07-01, from the footer rule
        ("America/New_York", 2_208_988_800, -18000),  // 2040-01-01
        ("Australia/Sydney", 2_208_988_800, 39600),  // southern summer spans New Year
        ("Australia/Sydney", 2_224_828_800, 36000),
        ("Asia/Kathmandu", 1_578_616_200, 20700),
        ("Europe/Paris", 1_594_341_000, 7200),
        ("UTC", 1_594_341_000, 0),
    ])
    func offsets(_ zone: String, _ seconds: Double, _ expected: Int) throws {
        let rules = try #require(ZoneRules(identifier: zone))
        #expect(rules.secondsFromGMT(for: Date(timeIntervalSince1970: seconds)) == expected)
    }

    @Test(arguments: ["Mars/Olympus", "../etc/passwd", "/etc/passwd", "utc", "America", "zone.tab", "posix/Asia/Tokyo", ""])
    func rejects(_ zone: String) {
        #expect(ZoneRules(identifier: zone) == nil)
    }

    @Test func abbreviationsNameTheOffset() throws {
        let date = Date(timeIntervalSince1970: 1_594_341_000)
        #expect(try #require(ZoneRules(identifier: "Asia/Kathmandu")).abbreviation(for: date) == "GMT+5:45")
        #expect(try #require(ZoneRules(identifier: "America/St_Johns")).abbreviation(for: date) == "GMT-2:30")
        #expect(try #require(ZoneRules(identifier: "Europe/London")).abbreviation(for: date) == "GMT+1")
        #expect(try #require(ZoneRules(identifier: "Etc/UTC")).abbreviation(for: date) == "UTC")
        #expect(try #require(ZoneRules(identifier: "GMT")).abbreviation(for: date) == "GMT")
    }

    @Test func posixRules() {
        #expect(PosixRule("<+0545>-5:45") == PosixRule(standardOffset: 20700))
        #expect(PosixRule("EST5EDT,M3.2.0,M11.1.0")?.dst?.start == .monthWeekDay(month: 3, week: 2, weekday: 0, time: 7200))
        #expect(PosixRule("AEST-10AEDT,M10.1.0,M4.1.0/3")?.dst?.end == .monthWeekDay(month: 4, week: 1, weekday: 0, time: 10800))
        #expect(PosixRule("EST5EDT,M13.2.0,M11.1.0") == nil)
        #expect(PosixRule("5") == nil)
    }
}
