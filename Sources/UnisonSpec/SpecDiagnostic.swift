import UnisonCore

/// One problem found in a spec, located at `file:line:column`.
package struct SpecDiagnostic: Sendable, Codable, Equatable, CustomStringConvertible {
    package var file: String
    package var line: Int
    package var column: Int
    package var message: String
    package var hint: String?

    package init(file: String, line: Int, column: Int, message: String, hint: String? = nil) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
        self.hint = hint
    }

    /// `unison.yaml:12:5: message (hint: …)`, the form editors and CI annotate from.
    package var description: String {
        // One line whatever a value held: control characters in messages are escaped.
        SpecCharacterRule.escapingControls("\(file):\(line):\(column): \(message)" + (hint.map { " (hint: \($0))" } ?? ""))
    }
}

/// A spec that could not be loaded: every problem found, in file order.
package struct SpecError: Error, ExitCoded, CustomStringConvertible, Sendable {
    package var diagnostics: [SpecDiagnostic]
    package var exitStatus: ExitStatus { .badInput }
    package var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}

/// The spec file could not be found or read at all.
package enum SpecLocationError: Error, ExitCoded, CustomStringConvertible, Sendable {
    case notFound(searchedFrom: String)
    case unreadable(path: String, reason: String)

    package var exitStatus: ExitStatus { .badInput }
    package var description: String {
        switch self {
        case let .notFound(dir):
            return "no unison.yaml found in \(dir) or any directory above it; pass --spec FILE or set UNISON_SPEC"
        case let .unreadable(path, reason):
            return "cannot read spec \(path): \(reason)"
        }
    }
}

/// The closest of `candidates` to `word` by edit distance, when it is close enough to suggest.
func suggestion(for word: String, among candidates: [String]) -> String? {
    let scored = candidates.map { ($0, editDistance(word.lowercased(), $0.lowercased())) }
    guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= max(2, word.count / 3) else { return nil }
    return best.0
}

func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    for i in 1...a.count {
        var current = [i] + Array(repeating: 0, count: b.count)
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        previous = current
    }
    return previous[b.count]
}
