import Foundation
import Testing
import UnisonCore
import UnisonSpec
import UnisonTestSupport

@testable import UnisonWorkspace

/// What the README rules and `readme fix` see as headings, and what the reports print, read
/// back by independent implementations: markdown-it-py (CommonMark) and Python's json module.
@Suite(.tags(.interop)) struct InteropTests {
    static let documents: [String] = [
        "# Title\n\n## Run\ntext\n### Tests ###\n#NoSpace\n",
        "Role and status\n===============\n\nQuick start\n-----------\n\nSome text\n---\n",
        "```sh\n# not a heading\n```\n## Docs\n~~~~\n## inside\n~~~\n## still inside\n~~~~\n## Out\n",
        "    # indented code\n   ## three spaces\n\n* item\n\n## After a list\n",
        "Paragraph line one\nline two\n===\n\n## 1. Usage ##\n\n> ## quoted\n",
        "# A\n\n```\nunclosed fence\n## not a heading\n",
    ]

    @Test(arguments: documents)
    func headingsAgreeWithCommonMark(_ text: String) throws {
        let ours = MarkdownDocument(text).headings.map { "\($0.level):\($0.text.split(separator: " ").joined(separator: " "))@\($0.line)" }
        let theirs = try Python.markdown(text).headings
        // markdown-it also reports headings inside block quotes, which READMEs do not use as sections.
        #expect(ours == theirs.filter { !$0.contains("quoted") })
    }

    @Test func fixedReadmeHeadingsAreCommonMarkHeadings() throws {
        let spec = try Specs.small()
        let sandbox = try Sandbox()
        let dir = sandbox.root.appendingPathComponent("unison-orchestrator")
        try sandbox.write(dir, "README.md", "Orchestrator\n============\n\nRoutes intents.\n\n```\n## Run\n```")
        _ = try ReadmeTargets.fix([dir.path], repoName: nil, spec: spec)
        let text = try String(contentsOf: dir.appendingPathComponent("README.md"), encoding: .utf8)
        let headings = try Python.markdown(text).headings
        #expect(headings.first == "1:Orchestrator@1")
        #expect(headings.dropFirst().map { String($0.prefix { $0 != "@" }) } == ["2:Role", "2:Run", "2:Test", "2:Docs"])
        #expect(headings.count == 5)
    }

    @Test func reportsAreOrderedAndDeduplicatedWhateverTheInputOrder() throws {
        var findings: [Finding] = []
        for repo in ["b", "a"] {
            for line in [3, nil, 1] as [Int?] {
                findings.append(Finding(.gitDirty, .error, repo: repo, file: line == nil ? nil : "\(repo)/f", line: line, "m", hint: "h2"))
                findings.append(Finding(.gitDirty, .error, repo: repo, file: line == nil ? nil : "\(repo)/f", line: line, "m", hint: "h1"))
            }
        }
        let reference = try FindingsReport(schema: "s", findings: findings).json()
        for seed in 0..<5 {
            var shuffled = findings.reversed() + findings
            shuffled.swapAt(seed, shuffled.count - 1 - seed)
            #expect(try FindingsReport(schema: "s", findings: shuffled).json() == reference)
        }
        let report = FindingsReport(schema: "s", findings: findings + findings)
        #expect(report.findings.count == findings.count)
        #expect(
            report.findings.map { "\($0.repo)\($0.line ?? 0)\($0.hint)" }
                == ["a0h1", "a0h2", "a1h1", "a1h2", "a3h1", "a3h2", "b0h1", "b0h2", "b1h1", "b1h2", "b3h1", "b3h2"])
    }

    @Test func gapReportTablesAndJSONReadBack() throws {
        let report = FindingsReport(
            schema: FindingsReport.workspaceSchema,
            findings: [
                Finding(.gitDirty, .error, repo: "unison-auth", file: "unison-auth/a|b.py", "uncommitted change", hint: "commit | discard"),
                Finding(.gitDirty, .error, repo: "unison-auth", file: "unison-auth/c.py", "uncommitted change", hint: "commit it"),
                Finding(.tagsNotSemver, .warning, repo: "unison-docs", "tag 'x' is not SemVer", hint: "retag"),
                Finding(.gitDetachedHead, .info, repo: "unison-docs", "detached", hint: "switch"),
            ])
        let parsed = try Python.markdown(report.markdown())
        #expect(parsed.tables == 4)  // by rule, by repository, one per repository
        #expect(parsed.rows == [4, 3, 3, 3])  // header row included
        #expect(
            parsed.headings.map { String($0.prefix { $0 != "@" }) }
                == ["1:Workspace gap report", "2:Summary by rule", "2:Summary by repository", "2:unison-auth", "2:unison-docs"])

        let script = """
            import json, sys
            d = json.load(sys.stdin)
            print(list(d.keys()))
            for f in d["findings"]:
                print(sorted(f.keys()) == sorted(["rule", "severity", "repo", "file", "line", "message", "hint"]), f["file"], f["line"])
            """
        let out = try Python.run(script, input: try report.json())
        #expect(
            out == """
                ['schema', 'findings']
                True unison-auth/a|b.py None
                True unison-auth/c.py None
                True None None
                True None None

                """)
    }
}
