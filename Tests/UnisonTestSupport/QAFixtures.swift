import Foundation
import UnisonCore

/// A scratch directory with a blank disk and a firmware image (a tiny BIOS that prints a
/// message on COM1: `init(message:)` in the test targets, which see UnisonQA's TinyBIOS).
package struct BootFixture: Sendable {
    package let dir: URL
    package let disk: URL
    package let bios: URL

    package init(bios firmware: Data) throws {
        dir = URL(fileURLWithPath: "/tmp").appendingPathComponent("unison-qa-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        disk = dir.appendingPathComponent("blank.raw")
        try Data(count: 1 << 20).write(to: disk)
        bios = dir.appendingPathComponent("bios.bin")
        try firmware.write(to: bios)
    }

    package func cleanup() { try? FileManager.default.removeItem(at: dir) }
}

/// Counts running processes whose command line mentions `needle` (QEMU must never outlive a check).
package func processes(mentioning needle: String) -> Int {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.filter { Int($0) != nil }.filter { pid in
        guard let raw = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
        return String(decoding: raw, as: UTF8.self).contains(needle)
    }.count
}

/// The fixture HTTP service (Fixtures/qa/qa_http_server.py) as a child process on 127.0.0.1.
package final class FixtureServer: @unchecked Sendable {
    package static let script = TestFixtures.url("qa/qa_http_server.py")

    package let process: Process
    package let port: Int

    package var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Starts the server; with `delay` it only listens after that many seconds (on `port`,
    /// which must then be given), and this returns at once.
    package init(port: Int = 0, delay: Double = 0) throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Self.script.path, "--port", String(port), "--delay", String(delay)]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        guard delay == 0 else {
            precondition(port != 0, "a delayed server needs a known port")
            self.port = port
            return
        }
        // "READY <port>" once it listens.
        var text = ""
        let deadline = Date().addingTimeInterval(30)
        while !text.contains("\n"), Date() < deadline {
            let data = pipe.fileHandleForReading.availableData
            if data.isEmpty { break }
            text += String(decoding: data, as: UTF8.self)
        }
        guard text.hasPrefix("READY "), let p = Int(text.dropFirst(6).prefix { $0.isNumber }) else {
            process.terminate()
            throw FixtureFailure("fixture server did not start: '\(text)'")
        }
        self.port = p
    }

    /// SIGKILL: the test runner's blocked signal mask is inherited, so SIGTERM would stay pending.
    package func stop() { process.killAndWait() }
}

package struct FixtureFailure: Error, CustomStringConvertible {
    package let description: String
    package init(_ text: String) { description = text }
}

/// The QA tests' spec text, scratch directories and JUnit readers.
package enum QAFixtures {
    package static let repoRoot = Unisonctl.repoRoot

    /// The shipped spec's text with its `qa:` section replaced (for the CLI's --spec).
    package static func specText(qa: String, replacing: [(String, String)] = []) throws -> String {
        var text = try String(contentsOf: repoRoot.appendingPathComponent("unison.yaml"), encoding: .utf8)
        guard let start = text.range(of: "\nqa:\n"), let end = text.range(of: "\ntelemetry:", range: start.upperBound..<text.endIndex) else {
            throw FixtureFailure("the shipped spec has no qa: section before telemetry:")
        }
        text.replaceSubrange(start.lowerBound..<end.lowerBound, with: "\n" + qa)
        for (old, new) in replacing {
            guard text.components(separatedBy: old).count == 2 else { throw FixtureFailure("'\(old)' is not unique in the spec") }
            text = text.replacingOccurrences(of: old, with: new)
        }
        return text
    }

    package static func tempDir() throws -> URL { try TempDir.create("qa-http", in: URL(fileURLWithPath: "/tmp")) }

    /// Reads a JUnit file with Python's xml.etree (an XML parser we did not write) and
    /// returns what it found, as JSON: totals of <testsuites>, per-suite attributes, and per
    /// case its name, classname, time, result tag, message and system-out text.
    package static func readJUnit(_ url: URL) throws -> [String: Any] {
        let program = """
            import json, sys, xml.etree.ElementTree as ET
            root = ET.parse(sys.argv[1]).getroot()
            assert root.tag == "testsuites", root.tag
            out = {"root": dict(root.attrib), "suites": []}
            for s in root.findall("testsuite"):
                cases = []
                for c in s.findall("testcase"):
                    kids = [k for k in c if k.tag in ("failure", "error", "skipped")]
                    assert len(kids) <= 1, "more than one result in " + c.get("name")
                    so = c.find("system-out")
                    cases.append({"name": c.get("name"), "classname": c.get("classname"), "time": float(c.get("time")),
                                  "result": kids[0].tag if kids else "passed",
                                  "message": kids[0].get("message") if kids else None,
                                  "type": kids[0].get("type") if kids else None,
                                  "text": kids[0].text if kids else None,
                                  "out": so.text if so is not None else None})
                out["suites"].append({"attrib": dict(s.attrib), "cases": cases})
                for attr, tag in (("tests", None), ("failures", "failure"), ("errors", "error"), ("skipped", "skipped")):
                    want = len([c for c in cases if tag is None or c["result"] == tag])
                    assert int(s.get(attr)) == want, "%s=%s but %d found" % (attr, s.get(attr), want)
            for attr in ("tests", "failures", "errors", "skipped"):
                assert int(root.get(attr)) == sum(int(s["attrib"][attr]) for s in out["suites"]), "root " + attr
            print(json.dumps(out))
            """
        try validateJUnit(url)
        let r = try SystemProcessRunner().run(["python3", "-c", program, url.path])
        guard r.status == 0 else { throw FixtureFailure("python could not read \(url.path): \(r.stderrString)") }
        guard let object = try JSONSerialization.jsonObject(with: r.stdout) as? [String: Any] else {
            throw FixtureFailure("no JSON from the JUnit reader")
        }
        return object
    }

    package static let junitSchema = TestFixtures.url("qa/junit.xsd")

    /// `xmllint --schema` (libxml2) against the JUnit schema in Fixtures/qa/junit.xsd.
    package static func validateJUnit(_ url: URL) throws {
        let r = try SystemProcessRunner().run(["xmllint", "--noout", "--schema", junitSchema.path, url.path])
        guard r.status == 0 else { throw FixtureFailure("xmllint rejects \(url.path): \(r.stderrString)") }
    }
}
