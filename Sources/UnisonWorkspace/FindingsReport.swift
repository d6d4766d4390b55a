import FoundationEssentials
import UnisonCore

/// The result of a check: findings in a stable order, renderable as JSON, Markdown or text.
package struct FindingsReport: Sendable {
    package static let workspaceSchema = "unisonctl.workspace-check/v1"
    package static let readmeSchema = "unisonctl.readme-check/v1"

    package var schema: String
    /// Sorted (repo, file, line, rule), without duplicates.
    package private(set) var findings: [Finding]

    package init(schema: String, findings: [Finding]) {
        self.schema = schema
        self.findings = Array(Set(findings)).sorted(by: Finding.precedes)
    }

    package var hasErrors: Bool { findings.contains { $0.severity == .error } }

    package func count(_ severity: Severity) -> Int { findings.filter { $0.severity == severity }.count }

    /// Exit status the CLI uses: 1 when any finding is an error, 0 otherwise.
    package var exitStatus: ExitStatus { hasErrors ? .checkFailed : .ok }

    /// `{"schema": …, "findings": [{"file", "hint", "line", "message", "repo", "rule", "severity"}]}`
    /// with `schema` first; keys inside a finding are sorted, absent file/line are `null`.
    package func json() throws -> String {
        try Self.schemaFirstJSON(schema: schema, key: "findings", value: findings)
    }

    /// `{"schema": …, "<key>": <value>}` pretty-printed with `schema` first (JSONEncoder
    /// sorts keys, which would put it anywhere), the value encoded with sorted keys.
    static func schemaFirstJSON<T: Encodable>(schema: String, key: String, value: T) throws -> String {
        let schemaText = try JSONOutput.string(schema)
        let body = try JSONOutput.string(value)
        let indented = body.split(separator: "\n", omittingEmptySubsequences: false)
            .enumerated().map { $0.offset == 0 ? String($0.element) : "  " + $0.element }
            .joined(separator: "\n")
        return "{\n  \"schema\" : \(schemaText),\n  \(try JSONOutput.string(key)) : \(indented)\n}\n"
    }

    /// `3 errors, 1 warning, 0 info`
    package var summaryLine: String {
        let e = count(.error), w = count(.warning), i = count(.info)
        return "\(e) error\(e == 1 ? "" : "s"), \(w) warning\(w == 1 ? "" : "s"), \(i) info"
    }

    /// One line per finding (`file:line: severity: [rule] message`) with its hint below, then
    /// the summary line: the form editors and CI logs read.
    package func text() -> String {
        var out = ""
        for f in findings {
            out += "\(f.location): \(f.severity.rawValue): [\(f.rule.rawValue)] \(f.message)\n"
            out += "    hint: \(f.hint)\n"
        }
        out += summaryLine + "\n"
        return out
    }
}
