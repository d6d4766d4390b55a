import Foundation
import Testing

@testable import UnisonCore

@Suite(.tags(.unit)) struct INILineTests {
    @Test(arguments: [
        ("[boot]", INILine.section("boot")),
        ("  [ boot ]  ", .section("boot")),
        ("[remote \"origin\"]", .section("remote \"origin\"")),
        ("systemd=true", .entry(key: "systemd", value: "true")),
        ("\tcommand = a=b c ", .entry(key: "command", value: "a=b c")),
        ("key =", .entry(key: "key", value: "")),
        ("# systemd=true", .other),
        ("  ; systemd=true", .other),
        ("", .other),
        ("no equals sign", .other),
        ("[unclosed", .other),
    ])
    func classifies(_ line: String, _ expected: INILine) {
        #expect(INILine(line) == expected)
    }

    @Test func writtenLinesReadBack() {
        for (key, value) in [("systemd", "true"), ("command", "/bin/sh -c 'a=b'"), ("k", ""), ("path", "a;b#c")] {
            #expect(INILine(INILine.entry(key, value)) == .entry(key: key, value: value))
            #expect(INILine(INILine.entry(key, value, separator: "=")) == .entry(key: key, value: value))
        }
        #expect(INILine(INILine.section("boot")) == .section("boot"))
    }

    @Test func controlCharactersCannotStartALine() {
        let hostile = "true\n[user]\ndefault=root\r\u{0}\u{2028}x"
        let line = INILine.entry("systemd", hostile)
        #expect(!line.contains("\n") && !line.contains("\r") && !line.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x2028 })
        #expect(INILine.lines(line).count == 1)
        #expect(INILine(line) == .entry(key: "systemd", value: "true [user] default=root   x"))
        #expect(INILine.lines(INILine.section("a]\n[b")) == ["[a] [b]"])
    }

    @Test func overLongLines() {
        let long = String(repeating: "x", count: 1 << 20)
        #expect(INILine("k=" + long) == .entry(key: "k", value: long))
        #expect(INILine("[" + long + "]") == .section(long))
    }

    @Test func linesDropOnlyTheFinalNewline() {
        #expect(INILine.lines("a\n\nb\n") == ["a", "", "b"])
        #expect(INILine.lines("a") == ["a"])
        #expect(INILine.lines("") == [])
    }
}

@Suite(.tags(.unit)) struct EnvLineTests {
    @Test(arguments: [
        ("KEY=value", EnvLine.assignment(key: "KEY", value: "value")),
        ("export KEY=value", .assignment(key: "KEY", value: "value")),
        ("  KEY = spaced ", .assignment(key: "KEY", value: " spaced ")),
        ("KEY=a=b", .assignment(key: "KEY", value: "a=b")),
        ("KEY=", .assignment(key: "KEY", value: "")),
        ("# KEY=value", .other("# KEY=value")),
        ("BAD-KEY=1", .other("BAD-KEY=1")),
        ("=value", .other("=value")),
        ("KÉY=1", .other("KÉY=1")),
        ("plain text", .other("plain text")),
    ])
    func classifies(_ line: String, _ expected: EnvLine) {
        #expect(EnvLine(line) == expected)
    }

    @Test(arguments: ["plain", "", "with spaces inside", "hex0123456789abcdef", "a=b#c", "C:\\path\\n", "it's", "ünïcödé ✓"])
    func plainValuesReadBack(_ value: String) {
        let written = EnvLine.quote(value)
        #expect(written == value)
        #expect(EnvLine.parse("KEY=\(written)\n") == [.assignment(key: "KEY", value: value)])
        #expect(EnvLine.values("A=1\nKEY=\(written)\n")["KEY"] == value)
    }

    /// Values with line breaks are written escaped on one line and read back in that escaped
    /// form (the reader does not turn escapes back into characters), never as extra lines.
    @Test(arguments: [
        ("two\nlines", #"two\nlines"#), ("tab\there", #"tab\there"#), ("cr\r\nlf", #"cr\r\nlf"#),
        ("quote\"and\\backslash\nnewline", #"quote\"and\\backslash\nnewline"#),
        ("x\nINJECTED=1", #"x\nINJECTED=1"#),
    ])
    func lineBreaksStayOnOneLine(_ value: String, _ read: String) {
        let written = EnvLine.quote(value)
        #expect(written == "\"\(read)\"")
        #expect(EnvLine.parse("KEY=\(written)\n") == [.assignment(key: "KEY", value: written)])
        #expect(EnvLine.values("KEY=\(written)\n") == ["KEY": read])
    }

    @Test func plainValuesAreWrittenAsIs() {
        #expect(EnvLine.quote("http://host.docker.internal:11434") == "http://host.docker.internal:11434")
        #expect(EnvLine.quote("a\nb") == "\"a\\nb\"")
    }

    @Test func otherControlCharactersBecomeSpaces() {
        let written = EnvLine.quote("a\u{0}b\u{7f}c\u{2028}d\u{1b}[31m")
        #expect(written == "\"a b c d [31m\"")
        #expect(EnvLine.parse("K=\(written)").count == 1)
    }

    @Test func malformedQuoting() {
        #expect(EnvLine.unquote("\"unterminated") == "\"unterminated")
        #expect(EnvLine.unquote("'mixed\"") == "'mixed\"")
        #expect(EnvLine.unquote("\"") == "\"")
        #expect(EnvLine.unquote("\"ends in backslash\\\"") == "ends in backslash\\")
        #expect(EnvLine.unquote("  'spaced'  ") == "spaced")
        #expect(EnvLine.unquote("\"\"") == "")
    }

    @Test func lastAssignmentWinsAndOverLongLinesAreRead() {
        let long = String(repeating: "v", count: 1 << 20)
        let values = EnvLine.values("A=1\nA=2\n# A=3\nB=\(long)\n")
        #expect(values == ["A": "2", "B": long])
    }
}

@Suite(.tags(.unit)) struct MarkdownTableTests {
    @Test(arguments: [
        ("| a | b |", ["a", "b"]),
        ("a | b", ["a", "b"]),
        ("| `code` | x\\|y | |", ["code", "x|y", ""]),
        ("| a\\\\b | c\\d |", ["a\\\\b", "c\\d"]),
        ("| ends in escaped pipe \\|", ["ends in escaped pipe |"]),
        ("|", [""]),
    ])
    func cells(_ line: String, _ expected: [String]) {
        #expect(MarkdownTable.cells(line) == expected)
    }

    @Test func delimiterRows() {
        #expect(MarkdownTable.isDelimiterRow("|---|:--:|---:|"))
        #expect(MarkdownTable.isDelimiterRow("  |-|  "))
        #expect(!MarkdownTable.isDelimiterRow("| - | x |"))
        #expect(!MarkdownTable.isDelimiterRow("|  |"))
    }

    @Test(arguments: [
        ["plain", "two words", "pipe|inside", "back\\slash", "back\\|both", "trailing\\", "ünï ✓", "x"],
        ["a", "", "c"],
    ])
    func rowsReadBack(_ texts: [String]) {
        let line = MarkdownTable.row(texts.map(MarkdownTable.escape))
        #expect(MarkdownTable.cells(line) == texts)
    }

    @Test func hostileTextStaysInItsCell() {
        let hostile = "one\ntwo\r\n| three |\u{0}\u{2028}end"
        let line = MarkdownTable.row(["first", MarkdownTable.escape(hostile), "last"])
        #expect(!line.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x2028 })
        #expect(MarkdownTable.cells(line) == ["first", "one two  | three |  end", "last"])
    }

    @Test func overLongRows() {
        let long = String(repeating: "|", count: 100_000)
        let line = MarkdownTable.row([MarkdownTable.escape(long), "x"])
        #expect(MarkdownTable.cells(line) == [long, "x"])
    }
}
