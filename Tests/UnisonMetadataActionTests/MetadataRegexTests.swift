import Testing

@testable import UnisonMetadataAction

/// JavaScript patterns on UnisonCore's Pattern, keeping what ICU (the engine before Regex) did.
@Suite(.tags(.unit))
struct MetadataRegexTests {
    static func match(_ source: String, _ text: String, flags: String = "") throws -> [String?]? {
        try MetadataRegex(source: source, flags: flags, line: "t").match(text)
    }

    @Test func dollarAlsoMatchesBeforeOneFinalLineTerminator() throws {
        #expect(try Self.match("v(\\d)$", "v1\n") == ["v1", "1"])
        #expect(try Self.match("v(\\d)$", "v1\r\n") == ["v1", "1"])
        #expect(try Self.match("v(\\d)$", "v1\n\n") == nil)
        #expect(try Self.match("[$]", "a$") == ["$"])
        #expect(try Self.match("a$", "a\nb", flags: "m") == ["a"])
    }

    @Test func matchesScalarsNotCharacters() throws {
        // "\r\n" is one Character; ICU saw two scalars.
        #expect(try Self.match("\\r", "a\r\nb") == ["\r"])
        #expect(try Self.match("e", "e\u{301}") == ["e"])
    }

    @Test func groupsThatDidNotTakePartAreNil() throws {
        #expect(try Self.match("(a)|(b)", "b") == ["b", nil, "b"])
        #expect(try Self.match("\\d", "a1b22", flags: "g") == ["1", "2", "2"])
    }

    @Test func literalBracesAndLookbehind() throws {
        #expect(try Self.match("v{x}(\\d)", "v{x}7") == ["v{x}7", "7"])
        #expect(try Self.match("(?<=release-)(\\d+)", "release-12") == ["12", "12"])
    }

    @Test func catastrophicPatternIsAnInvalidRuleNotAHang() throws {
        let regex = try MetadataRegex(source: "(a+)+$", flags: "", line: "type=match,pattern=(a+)+$")
        let error = #expect(throws: MetadataActionError.self) { try regex.match(String(repeating: "a", count: 40) + "b") }
        #expect(error?.description.contains("steps") == true, "\(error?.description ?? "")")
    }

    @Test(arguments: ["", "(", "a{1,x}("])
    func rejects(_ source: String) {
        #expect(throws: MetadataActionError.self) { try MetadataRegex(source: source, flags: "", line: "t") }
    }
}
