import FoundationEssentials
import Glibc
import UnisonCore
import UnisonSpec

/// Printing at the CLI edge: the words for people live here, not in the libraries.
enum Output {
    static func json<T: Encodable>(_ value: T) throws {
        print(try JSONOutput.string(value))
    }

    /// Text lines are printed with control characters escaped: much of what commands print
    /// (tags, annotations, error bodies, log lines) comes from elsewhere.
    static func line(_ text: String) { print(Terminal.escapingControls(text)) }
}

enum ErrorOutput {
    /// One clear sentence per problem on stderr, prefixed with the tool's name (or the
    /// `file:line:column:` of a spec problem, which editors and CI annotations read).
    static func print(_ error: Error) {
        let text: String
        switch error {
        case let spec as SpecError:
            let errorWord = Terminal.paint("error:", .red, enabled: Terminal.colorEnabled && Terminal.isTTY(STDERR_FILENO))
            text =
                spec.diagnostics.map { d in
                    "\(Terminal.escapingControls(d.file)):\(d.line):\(d.column): \(errorWord) \(SpecCharacterRule.escapingControls(d.message))"
                        + (d.hint.map { "\n    hint: \(SpecCharacterRule.escapingControls($0))" } ?? "")
                }.joined(separator: "\n") + "\n\(spec.diagnostics.count) problem\(spec.diagnostics.count == 1 ? "" : "s") in the spec"
        case let described as CustomStringConvertible:
            text = "unisonctl: \(Terminal.escapingControls(described.description))"
        default:
            text = "unisonctl: \(Terminal.escapingControls(ErrorText.describe(error)))"
        }
        FileIO.standardError.write((text + "\n"))
    }
}
