import Testing
import UnisonTestSupport

@testable import UnisonYAML

/// The composer over libyaml: the tree, tags, styles and marks UnisonSpec reads, and every way a
/// document is refused (with where).
@Suite(.tags(.unit)) struct ComposeTests {
    func root(_ text: String, limits: ComposeLimits = ComposeLimits()) throws -> Node {
        let node = try compose(yaml: text, limits: limits)
        return try #require(node, "no document in \(text.debugDescription)")
    }

    func failure(_ text: String, limits: ComposeLimits = ComposeLimits()) -> YAMLError? {
        do {
            _ = try compose(yaml: text, limits: limits)
            return nil
        } catch let error as YAMLError {
            return error
        } catch {
            Issue.record("not a YAMLError: \(error)")
            return nil
        }
    }

    @Test(
        "plain scalars resolve as Yams's default resolver did; quoted and block scalars are strings",
        arguments: [
            ("a: ", YAMLTag.null), ("a: ~", .null), ("a: null", .null), ("a: Null", .null), ("a: NULL", .null),
            ("a: nULL", .str), ("a: true", .bool), ("a: False", .bool), ("a: yes", .bool), ("a: OFF", .bool),
            ("a: 0", .int), ("a: -12", .int), ("a: +7", .int), ("a: 1_000", .int), ("a: 0x1F", .int), ("a: 0o17", .int),
            ("a: 017", .int), ("a: 0b101", .int), ("a: 1:30", .int), ("a: 0x", .str),
            ("a: 1.5", .float), ("a: 089", .float), ("a: 1e5", .float), ("a: -2.5E-3", .float), ("a: .5", .float), ("a: 1.", .float),
            ("a: .inf", .float), ("a: -.Inf", .float), ("a: .NaN", .float), ("a: +.5", .str), ("a: 1.2.3", .str),
            ("a: <<", .merge), ("a: hello", .str), ("a: 2024-01-01", .str), ("a: '1'", .str), ("a: \"null\"", .str),
            ("a: |\n  12\n", .str), ("a: >\n  true\n", .str), ("a: !!int \"3\"", .int), ("a: !!str 3", .str), ("a: ! 3", .str),
            ("a: !custom x", YAMLTag("!custom")),
        ])
    func scalarTags(text: String, tag: YAMLTag) throws {
        let value = try #require(try root(text).mapping?["a"]?.scalar)
        #expect(value.tag == tag, "\(text.debugDescription) resolved to \(value.tag)")
    }

    @Test(
        "scalar text and style",
        arguments: [
            ("a: plain text", "plain text", Node.Scalar.Style.plain), ("a: 'it''s'", "it's", .singleQuoted),
            ("a: \"tab\\there \\u00e9\"", "tab\there é", .doubleQuoted), ("a: |\n  one\n  two\n", "one\ntwo\n", .literal),
            ("a: >-\n  one\n  two\n", "one two", .folded), ("a: ''", "", .singleQuoted), ("a:", "", .plain),
        ])
    func scalarStyles(text: String, string: String, style: Node.Scalar.Style) throws {
        let value = try #require(try root(text).mapping?["a"]?.scalar)
        #expect(value.string == string)
        #expect(value.style == style)
    }

    @Test func nestedBlockCollectionsKeepOrderAndMarks() throws {
        let text = """
            platform:
              name: unison
              services:
                - name: auth
                  port: 8080
                - name: "ui"
            zeta: 1
            alpha: 2
            """
        let top = try #require(try root(text).mapping)
        #expect(top.map { $0.key.string } == ["platform", "zeta", "alpha"])
        #expect(top.mark == Mark(line: 1, column: 1))
        let platform = try #require(top["platform"]?.mapping)
        #expect(platform.mark == Mark(line: 2, column: 3))
        #expect(platform["name"]?.string == "unison")
        #expect(platform["name"]?.mark == Mark(line: 2, column: 9))
        #expect(platform.pairs[0].key.mark == Mark(line: 2, column: 3))
        let services = try #require(platform["services"]?.sequence)
        #expect(services.count == 2)
        #expect(services.style == .block)
        #expect(services.mark == Mark(line: 4, column: 5))
        #expect(services[0].mapping?["port"]?.string == "8080")
        #expect(services[0].mapping?["port"]?.mark == Mark(line: 5, column: 13))
        #expect(services[1].mapping?["name"]?.scalar?.style == .doubleQuoted)
        #expect(services[1].mapping?["name"]?.mark == Mark(line: 6, column: 13))
        #expect(top["missing"] == nil)
    }

    @Test func flowCollections() throws {
        let top = try #require(try root("ports: [80, 443]\nenv: {A: '1', B: [x, y]}\n").mapping)
        let ports = try #require(top["ports"]?.sequence)
        #expect(ports.style == .flow)
        #expect(ports.map(\.string) == ["80", "443"])
        #expect(ports.map(\.tag) == [.int, .int])
        #expect(ports[1].mark == Mark(line: 1, column: 13))
        let env = try #require(top["env"]?.mapping)
        #expect(env.style == .flow)
        #expect(env["A"]?.scalar?.tag == .str)
        #expect(env["B"]?.sequence?.map(\.string) == ["x", "y"])
        #expect(env["B"]?.mark == Mark(line: 2, column: 18))
    }

    @Test func columnsCountUnicodeScalars() throws {
        // Byte columns would say 13 for x and 5 for the line-2 value.
        let top = try #require(try root("é: [ünï, x]\nü: ï\n").mapping)
        #expect(top.pairs[0].key.string == "é")
        #expect(top["é"]?.sequence?[1].mark == Mark(line: 1, column: 10))
        #expect(top["ü"]?.mark == Mark(line: 2, column: 4))
    }

    @Test func aliasesAreExpandedWithTheAnchoredMarks() throws {
        let text = """
            base: &b
              image: ghcr.io/x
              ports: [1, 2]
            one: *b
            list: [&s solo, *s]
            """
        let top = try #require(try root(text).mapping)
        let base = try #require(top["base"])
        #expect(top["one"] == base)
        #expect(top["one"]?.mapping?["ports"]?.sequence?.count == 2)
        #expect(top["one"]?.mark == base.mark)
        #expect(top["list"]?.sequence?.map(\.string) == ["solo", "solo"])
    }

    @Test func aStackOfAliasesIsRefusedBeforeItExpands() throws {
        // Ten levels of ten aliases each: 10^10 nodes when expanded, a few hundred bytes written.
        var lines = ["l0: &l0 [x, x, x, x, x, x, x, x, x, x]"]
        for i in 1...9 { lines.append("l\(i): &l\(i) [" + Array(repeating: "*l\(i - 1)", count: 10).joined(separator: ", ") + "]") }
        let error = failure(lines.joined(separator: "\n"))
        guard case let .composer(_, problem, mark) = error else {
            Issue.record("expected a composer error, got \(String(describing: error))")
            return
        }
        #expect(problem.contains("more than 1000000 nodes"))
        // The first alias that crosses the bound: l5's (10^6 nodes after l5's items).
        #expect(mark.line == 6, "\(mark)")
        // A smaller bound stops earlier, and a tree inside it composes.
        // The root, two keys, a's list of 4, b's list and two copies of a's: 16 nodes.
        #expect(failure("a: &a [1, 2, 3]\nb: [*a, *a]\n", limits: .init(maxNodes: 15)) != nil)
        #expect(try root("a: &a [1, 2, 3]\nb: [*a, *a]\n", limits: .init(maxNodes: 16)).mapping?["b"]?.sequence?.count == 2)
    }

    @Test func nestingIsBounded() throws {
        let deep = String(repeating: "[", count: 600) + String(repeating: "]", count: 600)
        guard case let .composer(_, problem, mark) = failure(deep) else {
            Issue.record("600 levels were composed")
            return
        }
        #expect(problem.contains("deeper than 512"))
        #expect(mark == Mark(line: 1, column: 513))
        #expect(try root(String(repeating: "[", count: 500) + String(repeating: "]", count: 500)).sequence != nil)
        // An alias cannot take a node past the bound either.
        let viaAlias = "a: &a " + String(repeating: "[", count: 8) + String(repeating: "]", count: 8) + "\nb: [[*a]]\n"
        #expect(failure(viaAlias, limits: .init(maxDepth: 10)) != nil)
        #expect(try root(viaAlias, limits: .init(maxDepth: 11)).mapping?["b"] != nil)
    }

    @Test(
        "duplicate keys name every repeated key and the first occurrence",
        arguments: [
            ("name: a\nport: 1\nname: b\n", ["name"], Mark(line: 1, column: 1)),
            ("x:\n  b: 1\n  a: 2\n  b: 3\n  a: 4\n", ["a", "b"], Mark(line: 3, column: 3)),
            ("{k: 1, 'k': 2}", ["k"], Mark(line: 1, column: 2)),
        ])
    func duplicateKeys(text: String, keys: [String], first: Mark) {
        guard case let .duplicatedKeysInMapping(duplicates, context) = failure(text) else {
            Issue.record("duplicates accepted in \(text.debugDescription)")
            return
        }
        #expect(duplicates == keys)
        #expect(context.mark == first)
    }

    @Test func keysOfDifferentTagsAreDifferent() throws {
        // "1" (str) and 1 (int) are two keys, as in Yams.
        #expect(try root("'1': a\n1: b\n").mapping?.count == 2)
    }

    @Test(
        "syntax errors carry libyaml's problem and position",
        arguments: [
            ("a: [1, 2\n", "parser", Mark(line: 2, column: 1)),
            ("a: 'open\n", "scanner", Mark(line: 2, column: 1)),
            ("a: b: c\n", "scanner", Mark(line: 1, column: 5)),
            ("a:\n  - x\n  y: 1\n", "parser", Mark(line: 3, column: 3)),
            ("a: *missing\n", "composer", Mark(line: 1, column: 4)),
            ("a: \"\\q\"\n", "scanner", Mark(line: 1, column: 5)),
            ("a: 1\n---\nb: 2\n", "composer", Mark(line: 2, column: 1)),
        ])
    func syntaxErrors(text: String, kind: String, at: Mark) {
        let error = failure(text)
        switch error {
        case let .scanner(_, problem, mark) where kind == "scanner",
            let .parser(_, problem, mark) where kind == "parser",
            let .composer(_, problem, mark) where kind == "composer":
            #expect(mark == at, "\(problem)")
            #expect(!problem.isEmpty)
        default:
            Issue.record("\(text.debugDescription): expected a \(kind) error, got \(String(describing: error))")
        }
    }

    @Test func parserErrorsKeepTheirContext() {
        guard case let .parser(context?, problem, mark) = failure("key:\n  - a\n bad\n") else {
            Issue.record("no parser error with context")
            return
        }
        #expect(context.text == "while parsing a block mapping")
        #expect(context.mark == Mark(line: 1, column: 1))
        #expect(problem == "did not find expected key")
        #expect(mark == Mark(line: 3, column: 2))
    }

    @Test func controlCharactersAreAReaderErrorAtTheirByte() {
        guard case let .reader(problem, offset, value) = failure("a: 1\nb: é\u{7}\n") else {
            Issue.record("a BEL was accepted")
            return
        }
        #expect(problem == "control characters are not allowed")
        #expect(offset == 10)
        #expect(value == 7)
    }

    @Test(
        "a stream without a document composes to nil; an explicit empty document is a null",
        arguments: ["", "\n\n", "# only a comment\n", "   "])
    func emptyStreams(text: String) throws {
        #expect(try compose(yaml: text) == nil)
    }

    @Test func explicitEmptyDocumentIsNull() throws {
        #expect(try root("---\n").scalar?.tag == .null)
        #expect(try root("--- 5\n...\n").scalar?.tag == .int)
    }
}
