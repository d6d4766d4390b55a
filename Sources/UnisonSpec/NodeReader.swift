import UnisonCore
import UnisonYAML

/// Reads a composed YAML tree while collecting every problem instead of stopping at the first:
/// wrong types, missing keys and unknown keys each become a located diagnostic.
final class DiagnosticSink {
    let file: String
    private(set) var diagnostics: [SpecDiagnostic] = []

    init(file: String) { self.file = file }

    func report(_ node: Node?, _ message: String, hint: String? = nil) {
        let mark = node?.mark
        diagnostics.append(
            SpecDiagnostic(
                file: file, line: mark?.line ?? 1, column: mark?.column ?? 1,
                message: message, hint: hint))
    }

    func report(line: Int, column: Int, _ message: String, hint: String? = nil) {
        diagnostics.append(SpecDiagnostic(file: file, line: line, column: column, message: message, hint: hint))
    }

    var sorted: [SpecDiagnostic] {
        diagnostics.enumerated().sorted { a, b in
            (a.element.line, a.element.column, a.offset) < (b.element.line, b.element.column, b.offset)
        }.map(\.element)
    }
}

/// A YAML mapping being read; records which keys were consumed so the rest can be reported.
final class MapReader {
    let node: Node
    let path: String
    let sink: DiagnosticSink
    private var pairs: [(key: String, keyNode: Node, value: Node)] = []
    private var consumed: Set<String> = []

    /// nil (with a diagnostic) when `node` is not a mapping.
    init?(_ node: Node, path: String, sink: DiagnosticSink) {
        guard case let .mapping(mapping) = node else {
            sink.report(node, "\(path) must be a mapping, found \(node.kindName)")
            return nil
        }
        self.node = node
        self.path = path
        self.sink = sink
        for (k, v) in mapping {
            guard let key = k.scalar?.string else {
                sink.report(k, "\(path) has a key that is not a plain string")
                continue
            }
            pairs.append((key, k, v))
        }
    }

    var keys: [String] { pairs.map(\.key) }
    func keyNode(_ key: String) -> Node? { pairs.first { $0.key == key }?.keyNode }
    func has(_ key: String) -> Bool { pairs.contains { $0.key == key } }

    func value(_ key: String, required: Bool = false) -> Node? {
        consumed.insert(key)
        if let pair = pairs.first(where: { $0.key == key }) {
            if case let .scalar(s) = pair.value, s.tag == .null || (s.style == .plain && ["", "~", "null"].contains(s.string)) {
                if required { sink.report(pair.value, "\(path).\(key) must not be empty") }
                return nil
            }
            return pair.value
        }
        if required { sink.report(node, "\(path) is missing required key '\(key)'") }
        return nil
    }

    func string(_ key: String, required: Bool = false) -> String? {
        guard let node = value(key, required: required) else { return nil }
        return scalarString(node, "\(path).\(key)")
    }

    func int(_ key: String, required: Bool = false, range: ClosedRange<Int>? = nil) -> Int? {
        guard let node = value(key, required: required) else { return nil }
        guard case let .scalar(s) = node, s.style == .plain, let n = Int(s.string) else {
            sink.report(node, "\(path).\(key) must be an integer, found \(node.kindDescription)")
            return nil
        }
        if let range, !range.contains(n) {
            sink.report(node, "\(path).\(key) must be between \(range.lowerBound) and \(range.upperBound), found \(n)")
            return nil
        }
        return n
    }

    func bool(_ key: String) -> Bool? {
        guard let node = value(key) else { return nil }
        guard case let .scalar(s) = node, s.style == .plain else {
            sink.report(node, "\(path).\(key) must be true or false, found \(node.kindDescription)")
            return nil
        }
        switch s.string {
        case "true", "True", "TRUE": return true
        case "false", "False", "FALSE": return false
        default:
            sink.report(node, "\(path).\(key) must be true or false, found '\(s.string)'")
            return nil
        }
    }

    func stringList(_ key: String, required: Bool = false) -> [String]? {
        guard let node = value(key, required: required) else { return nil }
        return stringList(node, "\(path).\(key)")
    }

    /// A list of strings; a single string is accepted as a one-element list.
    func stringList(_ node: Node, _ where_: String) -> [String]? {
        if case .scalar = node { return scalarString(node, where_).map { [$0] } }
        guard case let .sequence(seq) = node else {
            sink.report(node, "\(where_) must be a list of strings, found \(node.kindName)")
            return nil
        }
        var out: [String] = []
        for (i, item) in seq.enumerated() {
            if let s = scalarString(item, "\(where_)[\(i)]") { out.append(s) }
        }
        return out
    }

    func stringMap(_ key: String) -> [String: String]? {
        guard let node = value(key) else { return nil }
        guard let map = MapReader(node, path: "\(path).\(key)", sink: sink) else { return nil }
        var out: [String: String] = [:]
        for k in map.keys {
            if let v = map.string(k) { out[k] = v }
        }
        return out
    }

    func map(_ key: String, required: Bool = false) -> MapReader? {
        guard let node = value(key, required: required) else { return nil }
        return MapReader(node, path: "\(path).\(key)", sink: sink)
    }

    /// Each item of a list of mappings, read by `body`.
    func list<T>(_ key: String, required: Bool = false, _ body: (MapReader) -> T?) -> [T]? {
        guard let node = value(key, required: required) else { return nil }
        guard case let .sequence(seq) = node else {
            sink.report(node, "\(path).\(key) must be a list, found \(node.kindName)")
            return nil
        }
        var out: [T] = []
        for (i, item) in seq.enumerated() {
            guard let reader = MapReader(item, path: "\(path).\(key)[\(i)]", sink: sink) else { continue }
            if let value = body(reader) { out.append(value) }
            reader.finish()
        }
        return out
    }

    func scalarString(_ node: Node, _ where_: String) -> String? {
        guard case let .scalar(s) = node else {
            sink.report(node, "\(where_) must be a string, found \(node.kindName)")
            return nil
        }
        return s.string
    }

    /// Reports every key nobody asked for, with the closest known key as a hint.
    func finish() {
        for pair in pairs where !consumed.contains(pair.key) {
            let hint = suggestion(for: pair.key, among: Array(consumed)).map { "did you mean '\($0)'?" }
            sink.report(pair.keyNode, "unknown key '\(pair.key)' in \(path)", hint: hint)
        }
    }
}

extension Node {
    var kindName: String {
        switch self {
        case .scalar: return "a scalar"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        }
    }

    var kindDescription: String {
        if case let .scalar(s) = self { return "'\(s.string)'" }
        return kindName
    }
}
