import FoundationEssentials
import UnisonCore
import UnisonYAML

/// Loads `unison.yaml`: parses, reads every section, applies defaults, then validates the
/// references between sections. Every problem is collected and thrown together as `SpecError`.
package enum SpecLoader {
    /// Which list of a channel a rule line comes from.
    package enum ChannelRuleKind: Sendable { case tag, flavor }

    /// Checks one channel rule line (the release engine's grammar, which this module cannot
    /// see); returns the problem, or nil when the line is good.
    package typealias ChannelRuleCheck = @Sendable (_ kind: ChannelRuleKind, _ line: String) -> String?

    package static func load(file url: URL, ruleCheck: ChannelRuleCheck? = nil) throws -> PlatformSpec {
        try loadDocument(file: url, ruleCheck: ruleCheck).spec
    }

    /// Reads `url` once and returns the file, its text and the model together, so a use case
    /// that needs the text (an image carries the spec) never reads the file again.
    package static func loadDocument(file url: URL, ruleCheck: ChannelRuleCheck? = nil) throws -> SpecDocument {
        let bytes: Data
        do {
            bytes = try Data(contentsOf: url)
        } catch {
            throw SpecLocationError.unreadable(path: url.path, reason: ErrorText.reason(error))
        }
        if let bad = SpecEncoding.firstInvalid(Array(bytes)) {
            throw SpecError(diagnostics: [
                SpecDiagnostic(
                    file: displayPath(url), line: bad.line, column: bad.column,
                    message: "the spec is not UTF-8: invalid byte 0x\(String(bytes[bad.offset], radix: 16)) at offset \(bad.offset)",
                    hint: "save the file as UTF-8")
            ])
        }
        let text = String(decoding: bytes, as: UTF8.self)
        return SpecDocument(url: url, text: text, spec: try load(text: text, file: displayPath(url), ruleCheck: ruleCheck))
    }

    /// Parses spec text; `file` is the name diagnostics carry.
    package static func load(text: String, file: String = "unison.yaml", ruleCheck: ChannelRuleCheck? = nil) throws -> PlatformSpec {
        let sink = DiagnosticSink(file: file)
        let root: Node?
        do {
            root = try UnisonYAML.compose(yaml: text)
        } catch let error as YAMLError {
            sink.append(yamlError: error, text: text)
            throw SpecError(diagnostics: sink.sorted)
        }
        guard let root else {
            sink.report(line: 1, column: 1, "the spec is empty", hint: "start from the unison.yaml shipped with unisonctl")
            throw SpecError(diagnostics: sink.sorted)
        }
        let spec = SectionReader(sink: sink).read(root)
        SpecCharacterCheck(root: root, sink: sink).run()
        if let spec { SpecValidator(spec: spec, sink: sink, ruleCheck: ruleCheck).validate() }
        guard sink.diagnostics.isEmpty, let spec else { throw SpecError(diagnostics: sink.sorted) }
        return spec.spec
    }

    /// A path relative to the working directory when it lies below it, as editors expect.
    static func displayPath(_ url: URL) -> String {
        let cwd = FileManager.default.currentDirectoryPath
        let path = url.standardizedFileURL.path
        if path.hasPrefix(cwd + "/") { return String(path.dropFirst(cwd.count + 1)) }
        return path
    }
}

extension DiagnosticSink {
    /// Turns a libyaml error into a located diagnostic.
    func append(yamlError error: YAMLError, text: String) {
        switch error {
        case let .scanner(context, problem, mark), let .parser(context, problem, mark),
            let .composer(context, problem, mark):
            let ctx = context.map { " (\($0.text) at \($0.mark.line):\($0.mark.column))" } ?? ""
            report(line: mark.line, column: mark.column, "YAML syntax error: \(problem)\(ctx)")
        case let .duplicatedKeysInMapping(duplicates, context):
            // The error marks the first occurrence; point at the repeat, which is the one to remove.
            for key in duplicates {
                let (line, column) = Self.secondOccurrence(of: key, after: context.mark, in: text)
                report(
                    line: line, column: column, "duplicate key '\(key)'",
                    hint: "first defined at \(context.mark.line):\(context.mark.column)")
            }
        case let .reader(problem, offset, _):
            let prefix = text.utf8.prefix(offset)
            let line = prefix.filter { $0 == UInt8(ascii: "\n") }.count + 1
            report(line: line, column: 1, "the spec cannot be read as text: \(problem)")
        case .memory:
            report(line: 1, column: 1, "YAML error: \(error)")
        }
    }

    /// The next line after `mark` with the same indentation that starts with `key:`.
    static func secondOccurrence(of key: String, after mark: Mark, in text: String) -> (Int, Int) {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let indent = mark.column - 1
        guard mark.line < lines.count else { return (mark.line, mark.column) }
        for index in mark.line..<lines.count {
            let line = lines[index]
            let body = line.dropFirst(indent)
            let leading = line.prefix(indent)
            guard leading.allSatisfy({ $0 == " " || $0 == "-" }) else { continue }
            for form in [key, "\"\(key)\"", "'\(key)'"] where body.hasPrefix(form + ":") {
                return (index + 1, indent + 1)
            }
        }
        return (mark.line, mark.column)
    }
}

/// A loaded spec: the file it came from, its text as read, and the model parsed from that text.
package struct SpecDocument: Sendable {
    package var url: URL
    package var text: String
    package var spec: PlatformSpec

    package init(url: URL, text: String, spec: PlatformSpec) {
        self.url = url
        self.text = text
        self.spec = spec
    }

    /// The directory holding the spec: relative paths in it (`release.artifacts`) start here.
    package var directory: URL { url.deletingLastPathComponent() }
}

/// The spec plus where each named thing was declared, for the validator's diagnostics.
struct LocatedSpec {
    var spec: PlatformSpec
    var locations: [String: Node]

    func node(_ key: String) -> Node? { locations[key] }
}
