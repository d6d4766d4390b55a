import Foundation
import Testing
import UnisonCore
import UnisonSpec
import UnisonTestSupport

@testable import UnisonQA

@Suite("JUnit XML reports, read back by Python's xml.etree", .serialized, .tags(.interop))
struct JUnitReportTests {
    @Test("a mixed run: counts, failures vs errors, skipped, escaped bodies, all as the XML parser reads them")
    func mixedRun() throws {
        let server = try FixtureServer()
        defer { server.stop() }
        let dir = try QAFixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        var spec = try QAFixtures.shippedSpec()
        spec.qa.e2e = [
            specCheck(name: "ok & <fine>", service: "orchestrator", method: "GET", path: "/weird", body: nil, expect: 200),
            specCheck(name: "wrong", service: "auth", method: "GET", path: "/status/503", body: nil, expect: 200),
            specCheck(name: "down", service: "ollama", method: "GET", path: "/api/version", body: nil, expect: 200),
            specCheck(name: "later", service: "auth", method: "GET", path: "/health", body: nil, expect: 200),
        ]
        var options = QARunOptions.defaults(for: .e2e)
        options.stopAtFirstFailure = false
        let junit = dir.appendingPathComponent("reports/e2e.xml")
        let baseURLs = ["orchestrator=\(server.baseURL)", "auth=\(server.baseURL)", "ollama=http://127.0.0.1:\(try TestNetwork.freePort())"]
        let report = try HTTPCheckRunner.run(spec: spec, suite: .e2e, baseURLs: baseURLs, options: options, junit: junit)
        #expect(report.junit == junit.path)
        #expect(report.checks.map(\.outcome) == [.passed, .wrongStatus, .refused, .passed])

        let parsed = try QAFixtures.readJUnit(junit)
        let root = try #require(parsed["root"] as? [String: String])
        #expect(root["tests"] == "4")
        #expect(root["failures"] == "1")
        #expect(root["errors"] == "1")
        #expect(root["skipped"] == "0")
        #expect(root["name"] == "unisonctl qa e2e")
        let suites = try #require(parsed["suites"] as? [[String: Any]])
        #expect(suites.count == 1)
        let attrib = try #require(suites[0]["attrib"] as? [String: String])
        #expect(attrib["name"] == "e2e")
        #expect(attrib["tests"] == "4" && attrib["failures"] == "1" && attrib["errors"] == "1")
        let cases = try #require(suites[0]["cases"] as? [[String: Any]])
        #expect(cases.map { $0["name"] as? String } == ["ok & <fine>", "wrong", "down", "later"])
        #expect(cases.map { $0["result"] as? String } == ["passed", "failure", "error", "passed"])
        #expect(cases.map { $0["classname"] as? String } == ["e2e.orchestrator", "e2e.auth", "e2e.ollama", "e2e.auth"])
        #expect(cases[1]["type"] as? String == "wrongStatus")
        #expect((cases[1]["message"] as? String)?.contains("expected HTTP 200, got 503") == true)
        #expect(cases[2]["type"] as? String == "refused")
        // The body with markup, quotes, NUL and ESC survives as text (the controls replaced).
        let out = try #require(cases[0]["out"] as? String)
        #expect(out.contains(#"<b>&amp; "quoted" 'single' "#), "\(out)")
        #expect(out.contains("\u{FFFD}nul \u{FFFD}[31mred"))
        #expect(out.contains("]]> end"))
        let times = cases.compactMap { $0["time"] as? Double }
        #expect(times.count == 4 && times.allSatisfy { $0 >= 0 })

        // Deterministic apart from timings: a second run of the same checks against the same
        // server renders to the same bytes once the times are set equal, and those bytes are the
        // file written, times aside.
        let again = try HTTPCheckRunner.run(spec: spec, suite: .e2e, baseURLs: baseURLs, options: options)
        let written = try String(contentsOf: junit, encoding: .utf8)
        func untimed(_ xml: String) -> String { xml.replacingOccurrences(of: #"time="[0-9.]+""#, with: #"time="T""#, options: .regularExpression) }
        #expect(untimed(written) == untimed(JUnitReport(run: report).xml))
        func settled(_ run: QARunReport) -> QARunReport {
            var run = run
            run.seconds = 1
            for i in run.checks.indices { run.checks[i].seconds = 0.5 }
            return run
        }
        #expect(JUnitReport(run: settled(report)).xml == JUnitReport(run: settled(again)).xml)
        #expect(
            JUnitReport(run: settled(report)).xml
                != JUnitReport(run: QARunReport(suite: .e2e, checks: Array(settled(report).checks.reversed()), seconds: 1)).xml,
            "the rendering depends on the results")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: junit.deletingLastPathComponent().path)
        #expect(leftovers == ["e2e.xml"], "no temporary file next to the report")
    }

    @Test("skipped steps become <skipped> with their reason")
    func skipped() throws {
        let report = QARunReport(
            suite: .e2e,
            checks: [
                HTTPCheckResult(
                    name: "a", service: "s", method: "GET", url: "http://h:1/a", expectedStatus: 200, status: 404,
                    outcome: .wrongStatus, message: "expected HTTP 200, got 404", attempts: 1, seconds: 0.25, responseExcerpt: nil),
                HTTPCheckResult(
                    name: "b", service: "s", method: "GET", url: "http://h:1/b", expectedStatus: 200, status: nil,
                    outcome: .skipped, message: "skipped: the earlier step 'a' did not pass", attempts: 0, seconds: 0, responseExcerpt: nil),
            ], seconds: 0.25)
        let dir = try QAFixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("r.xml")
        try JUnitReport(run: report).write(to: url)
        let parsed = try QAFixtures.readJUnit(url)
        let root = try #require(parsed["root"] as? [String: String])
        #expect(root["skipped"] == "1" && root["failures"] == "1" && root["tests"] == "2" && root["time"] == "0.250")
        let cases = try #require((parsed["suites"] as? [[String: Any]])?.first?["cases"] as? [[String: Any]])
        #expect(cases[1]["result"] as? String == "skipped")
        #expect(cases[1]["message"] as? String == "skipped: the earlier step 'a' did not pass")
        #expect(cases[0]["time"] as? Double == 0.25)
    }

    @Test("qa boot results as one test case with the console in system-out")
    func boot() throws {
        let dir = try QAFixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        for seen in [true, false] {
            let result = BootResult(
                image: "/tmp/x/unisonos.qcow2", format: "qcow2", firmware: .uefi, accelerator: "tcg",
                marker: "UNISONOS-FIRSTBOOT-OK", markerSeen: seen, seconds: 12.5,
                reason: seen ? "marker" : "timeout after 900 s",
                consoleTail: ["Booting <Linux> & friends", "login:"], qemuStderr: "")
            let url = dir.appendingPathComponent("boot-\(seen).xml")
            try JUnitReport(boot: result).write(to: url)
            let parsed = try QAFixtures.readJUnit(url)
            let root = try #require(parsed["root"] as? [String: String])
            #expect(root["tests"] == "1")
            #expect(root["failures"] == (seen ? "0" : "1"))
            let c = try #require((parsed["suites"] as? [[String: Any]])?.first?["cases"] as? [[String: Any]]).first
            #expect(c?["name"] as? String == "unisonos.qcow2")
            #expect(c?["result"] as? String == (seen ? "passed" : "failure"))
            #expect((c?["out"] as? String)?.contains("Booting <Linux> & friends\nlogin:") == true)
            if !seen { #expect((c?["message"] as? String)?.contains("timeout after 900 s") == true) }
        }
    }

    @Test(
        "the schema check has teeth: xmllint rejects what the format forbids",
        arguments: [
            #"<testsuites><testsuite name="s" tests="1" failures="0" errors="0"><testcase name="a" classname="c" time="-1"/></testsuite></testsuites>"#,
            #"<testsuites><testsuite name="s" tests="1" failures="1" errors="0"><testcase name="a" classname="c" time="1"><failure/><skipped/></testcase></testsuite></testsuites>"#,
            #"<testsuites><testsuite tests="1" failures="0" errors="0"><testcase name="a" classname="c" time="1"/></testsuite></testsuites>"#,
            #"<testsuites><testsuite name="s" tests="1" failures="0" errors="0"><testcase name="a" classname="c" time="1"><system-out>x</system-out><failure/></testcase></testsuite></testsuites>"#,
        ])
    func schemaRejects(document: String) throws {
        let dir = try QAFixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("bad.xml")
        try Data(document.utf8).write(to: url)
        #expect(throws: FixtureFailure.self) { try QAFixtures.validateJUnit(url) }
    }

    @Test(
        "XML escaping of text and attributes",
        arguments: [
            ("a<b>&c", "a&lt;b&gt;&amp;c", "a&lt;b&gt;&amp;c"),
            ("say \"hi\" 'x'", "say \"hi\" 'x'", "say &quot;hi&quot; &apos;x&apos;"),
            ("l1\nl2\tt\r", "l1\nl2\tt&#13;", "l1&#10;l2&#9;t&#13;"),
            ("nul\u{0}esc\u{1B}", "nul\u{FFFD}esc\u{FFFD}", "nul\u{FFFD}esc\u{FFFD}"),
            ("ü ✓ \u{FFFF}", "ü ✓ \u{FFFD}", "ü ✓ \u{FFFD}"),
        ])
    func escaping(raw: String, content: String, attribute: String) {
        #expect(XMLText.content(raw) == content)
        #expect(XMLText.attribute(raw) == attribute)
    }

    @Test("time values use a dot and three decimals", arguments: [(0.0, "0.000"), (1.2344, "1.234"), (12.0006, "12.001"), (-1, "0.000")])
    func times(seconds: Double, text: String) {
        #expect(QATime.format(seconds) == text)
    }
}
