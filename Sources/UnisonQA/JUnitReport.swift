import FoundationEssentials
import Glibc
import UnisonCore

/// A JUnit XML report, the de-facto format CI systems read test results from (the Ant
/// `junitreport` schema as Jenkins, GitLab and GitHub reporters accept it):
///
///     <?xml version="1.0" encoding="UTF-8"?>
///     <testsuites name=… tests=N failures=F errors=E skipped=S time=T>
///       <testsuite name=… tests=… failures=… errors=… skipped=… time=…>
///         <testcase classname=… name=… time=…>
///           <failure message=… type=…>text</failure>   | <error …>text</error> | <skipped message=…/>
///           <system-out>text</system-out>
///         </testcase>
///       </testsuite>
///     </testsuites>
///
/// Output is deterministic apart from the `time` attributes: fixed attribute order, no
/// timestamp or host name, times with three decimals and a dot.
package struct JUnitReport: Sendable, Equatable {
    package var name: String
    package var suites: [Suite]

    package struct Suite: Sendable, Equatable {
        package var name: String
        package var seconds: Double
        package var cases: [Case]
        package init(name: String, seconds: Double, cases: [Case]) {
            self.name = name
            self.seconds = seconds
            self.cases = cases
        }
    }

    package struct Case: Sendable, Equatable {
        package enum Result: Sendable, Equatable {
            case passed
            /// A check that ran and got the wrong answer.
            case failure(type: String, message: String, text: String)
            /// A check that got no usable answer.
            case error(type: String, message: String, text: String)
            case skipped(message: String)
        }
        package var classname: String
        package var name: String
        package var seconds: Double
        package var result: Result
        package var systemOut: String?
        package init(classname: String, name: String, seconds: Double, result: Result, systemOut: String? = nil) {
            self.classname = classname
            self.name = name
            self.seconds = seconds
            self.result = result
            self.systemOut = systemOut
        }
    }

    package init(name: String, suites: [Suite]) {
        self.name = name
        self.suites = suites
    }

    struct Counts {
        var tests = 0, failures = 0, errors = 0, skipped = 0
        init(_ cases: [Case]) {
            tests = cases.count
            for c in cases {
                switch c.result {
                case .passed: break
                case .failure: failures += 1
                case .error: errors += 1
                case .skipped: skipped += 1
                }
            }
        }
        func attributes() -> String {
            "tests=\"\(tests)\" failures=\"\(failures)\" errors=\"\(errors)\" skipped=\"\(skipped)\""
        }
    }

    package var xml: String {
        let all = suites.flatMap(\.cases)
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out +=
            "<testsuites name=\"\(XMLText.attribute(name))\" \(Counts(all).attributes()) time=\"\(QATime.format(suites.map(\.seconds).reduce(0, +)))\">\n"
        for suite in suites {
            out +=
                "  <testsuite name=\"\(XMLText.attribute(suite.name))\" \(Counts(suite.cases).attributes()) time=\"\(QATime.format(suite.seconds))\">\n"
            for c in suite.cases {
                out +=
                    "    <testcase classname=\"\(XMLText.attribute(c.classname))\" name=\"\(XMLText.attribute(c.name))\" time=\"\(QATime.format(c.seconds))\""
                if c.result == .passed, c.systemOut == nil { out += "/>\n"; continue }
                out += ">\n"
                switch c.result {
                case .passed: break
                case let .failure(type, message, text), let .error(type, message, text):
                    let tag = if case .failure = c.result { "failure" } else { "error" }
                    out +=
                        "      <\(tag) message=\"\(XMLText.attribute(message))\" type=\"\(XMLText.attribute(type))\">\(XMLText.content(text))</\(tag)>\n"
                case let .skipped(message):
                    out += "      <skipped message=\"\(XMLText.attribute(message))\"/>\n"
                }
                if let systemOut = c.systemOut {
                    out += "      <system-out>\(XMLText.content(systemOut))</system-out>\n"
                }
                out += "    </testcase>\n"
            }
            out += "  </testsuite>\n"
        }
        out += "</testsuites>\n"
        return out
    }

    /// Writes the report atomically: a reader never sees half a file.
    package func write(to url: URL) throws {
        do {
            try AtomicFile.write(Data(xml.utf8), to: url)
        } catch {
            throw HTTPCheckError.cannotWrite(path: url.path, detail: Self.reason(error))
        }
    }

    /// Refuses a report path that cannot be written (its directory is created if missing),
    /// so that a run is not wasted on a report that cannot be kept.
    package static func checkWritable(_ url: URL) throws {
        var isDir = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir), isDir {
            throw HTTPCheckError.cannotWrite(path: url.path, detail: "it is a directory")
        }
        let dir = url.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        } catch {
            throw HTTPCheckError.cannotWrite(path: url.path, detail: reason(error))
        }
        guard access(dir.path, W_OK) == 0 else {
            throw HTTPCheckError.cannotWrite(path: url.path, detail: "directory \(dir.path) is not writable")
        }
    }

    static func reason(_ error: Error) -> String {
        if let cocoa = error as? CocoaError, let text = cocoa.userInfo["NSLocalizedDescription"] as? String { return text }
        return "\(error)"
    }
}

extension JUnitReport {
    /// One suite named after the run (`smoke`, `e2e`), one test case per check, classname
    /// `<suite>.<service>`; the request and the start of the answer go to system-out.
    package init(run report: QARunReport) {
        let cases = report.checks.map { c -> Case in
            let result: Case.Result
            switch c.outcome {
            case .passed: result = .passed
            case .skipped: result = .skipped(message: c.message)
            case _ where c.outcome.isError:
                result = .error(type: c.outcome.rawValue, message: c.message, text: "\(c.method) \(c.url): \(c.message)")
            default:
                result = .failure(type: c.outcome.rawValue, message: c.message, text: "\(c.method) \(c.url): \(c.message)")
            }
            var out: String?
            if c.outcome != .skipped {
                var text =
                    "\(c.method) \(c.url)\nexpected status: \(c.expectedStatus)\nstatus: \(c.status.map(String.init) ?? "none")\nattempts: \(c.attempts)\n"
                if let body = c.responseExcerpt { text += "response body (start):\n\(body)\n" }
                out = text
            }
            return Case(classname: "\(report.suite.rawValue).\(c.service)", name: c.name, seconds: c.seconds, result: result, systemOut: out)
        }
        self.init(name: "unisonctl qa \(report.suite.rawValue)", suites: [Suite(name: report.suite.rawValue, seconds: report.seconds, cases: cases)])
    }

    /// `qa boot` as one test case; the serial console's last lines go to system-out.
    package init(boot result: BootResult) {
        let message = result.markerSeen ? "" : "'\(result.marker)' did not appear on the serial console: \(result.reason)"
        let console = result.consoleTail.joined(separator: "\n")
        var out = "image: \(result.image) (\(result.format), \(result.firmware.rawValue), \(result.accelerator))\nreason: \(result.reason)\n"
        out += "serial console (last lines):\n\(console)\n"
        if !result.qemuStderr.isEmpty { out += "qemu stderr:\n\(result.qemuStderr)\n" }
        let c = Case(
            classname: "boot.\(result.firmware.rawValue)", name: URL(fileURLWithPath: result.image).lastPathComponent,
            seconds: result.seconds,
            result: result.markerSeen ? .passed : .failure(type: "markerNotSeen", message: message, text: message),
            systemOut: out)
        self.init(name: "unisonctl qa boot", suites: [Suite(name: "boot", seconds: result.seconds, cases: [c])])
    }
}

/// Escaping for XML 1.0 text and attribute values (W3C XML 1.0 §2.2 Char, §2.4, §3.3.3).
package enum XMLText {
    /// Character data: `&`, `<`, `>` escaped; characters XML 1.0 forbids (most C0 controls,
    /// U+FFFE, U+FFFF) become U+FFFD so that any response body can be embedded.
    package static func content(_ text: String) -> String {
        escape(text, attribute: false)
    }

    /// Attribute values in double quotes: also `"`, `'`, and tab/CR/LF as character
    /// references, which attribute-value normalization would otherwise turn into spaces.
    package static func attribute(_ text: String) -> String {
        escape(text, attribute: true)
    }

    static func escape(_ text: String, attribute: Bool) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"" where attribute: out += "&quot;"
            case "'" where attribute: out += "&apos;"
            case "\t" where attribute: out += "&#9;"
            case "\n" where attribute: out += "&#10;"
            case "\r": out += "&#13;"
            case "\t", "\n": out.unicodeScalars.append(scalar)
            default:
                let v = scalar.value
                if v < 0x20 || v == 0xFFFE || v == 0xFFFF {
                    out += "\u{FFFD}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }
}
