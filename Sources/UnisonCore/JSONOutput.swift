import FoundationEssentials

/// The one JSON encoder for machine-readable output: sorted keys and stable formatting so that
/// output is diffable and reproducible; slashes are not escaped (paths and image references).
package enum JSONOutput {
    package static func encoder(pretty: Bool = true) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting =
            pretty
            ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            : [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// The text of `value`; pretty output has the top-level `schema` key first, so that a reader
    /// sees what a document is before anything else (the other keys stay sorted).
    package static func string<T: Encodable>(_ value: T, pretty: Bool = true) throws -> String {
        let text = String(decoding: try encoder(pretty: pretty).encode(value), as: UTF8.self)
        return pretty ? schemaFirst(text) : text
    }

    /// Moves the line of the top-level `"schema"` member (pretty-printed: the only members
    /// indented by exactly two spaces are top-level) right after the opening brace, fixing
    /// the commas when it was the last member.
    static func schemaFirst(_ text: String) -> String {
        guard text.hasPrefix("{\n") else { return text }
        var lines = text.components(separatedBy: "\n")
        guard let index = lines.firstIndex(where: { $0.hasPrefix("  \"schema\" : ") }), index > 1 else { return text }
        var line = lines.remove(at: index)
        if !line.hasSuffix(",") {
            line += ","
            if lines[index - 1].hasSuffix(",") { lines[index - 1].removeLast() }
        }
        lines.insert(line, at: 1)
        return lines.joined(separator: "\n")
    }
}
