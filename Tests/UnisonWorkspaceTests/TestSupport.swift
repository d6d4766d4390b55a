import Foundation
import Testing
import UnisonCore
import UnisonSpec
import UnisonTestSupport

@testable import UnisonWorkspace

extension [Finding] {
    func with(_ rule: Rule) -> [Finding] { filter { $0.rule == rule } }
    func with(_ rule: Rule, repo: String) -> [Finding] { filter { $0.rule == rule && $0.repo == repo } }
    var serious: [Finding] { filter { $0.severity != .info } }
    var described: String { map { "\($0.location): \($0.severity.rawValue) [\($0.rule.rawValue)] \($0.message)" }.joined(separator: "\n") }
}

/// Debian's python3 with python3-markdown-it (a CommonMark implementation nobody here wrote)
/// and the json module: independent readers of what the commands write.
enum Python {
    static let interpreter = "/usr/bin/python3"

    /// Headings of `markdown` as markdown-it-py (CommonMark) sees them: level, 1-based line,
    /// inline text. With `tables`, the GFM table extension is on and table rows are counted too.
    static let headingsScript = """
        import json, sys
        from markdown_it import MarkdownIt
        md = MarkdownIt("commonmark").enable("table")
        tokens = md.parse(sys.stdin.read())
        out = {"headings": [], "tables": 0, "rows": []}
        for i, t in enumerate(tokens):
            if t.type == "heading_open":
                out["headings"].append([int(t.tag[1:]), t.map[0] + 1, " ".join(tokens[i + 1].content.split())])
            if t.type == "table_open":
                out["tables"] += 1
                out["rows"].append(0)
            if t.type == "tr_open":
                out["rows"][-1] += 1
        print(json.dumps(out))
        """

    struct Parsed: Decodable {
        var headings: [[JSONValue]]
        var tables: Int
        var rows: [Int]
    }

    enum JSONValue: Decodable, Equatable {
        case int(Int), string(String)
        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let i = try? c.decode(Int.self) { self = .int(i) } else { self = .string(try c.decode(String.self)) }
        }
    }

    static func markdown(_ text: String) throws -> (headings: [String], tables: Int, rows: [Int]) {
        let result = try SystemProcessRunner().check([interpreter, "-c", headingsScript], input: Data(text.utf8))
        let parsed = try JSONDecoder().decode(Parsed.self, from: result.stdout)
        let headings = parsed.headings.map { h -> String in
            guard h.count == 3, case let .int(level) = h[0], case let .int(line) = h[1], case let .string(text) = h[2] else { return "?" }
            return "\(level):\(text)@\(line)"
        }
        return (headings, parsed.tables, parsed.rows)
    }

    /// Runs `script` with `input` on stdin; returns stdout.
    static func run(_ script: String, input: String) throws -> String {
        try SystemProcessRunner().check([interpreter, "-c", script], input: Data(input.utf8)).stdoutString
    }
}
