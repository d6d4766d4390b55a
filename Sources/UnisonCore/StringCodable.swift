/// A value written as one validated string in JSON and YAML (a tag, digest, version, GUID):
/// conforming gives it `Codable` that decodes through the type's own failable `init?(_:)` and
/// encodes `encodedText`, so a bad string fails with the same kind of error everywhere.
package protocol StringCodable: Codable, CustomStringConvertible {
    /// Parses and validates the text; nil when it is not a valid value.
    init?(_ text: String)
    /// What the value is written as; `description` unless the type says otherwise.
    var encodedText: String { get }
    /// The thing a rejected text is not, completing "'text' is not …" (e.g. "a valid tag").
    static var expectedText: String { get }
}

extension StringCodable {
    package var encodedText: String { description }

    package init(from decoder: any Decoder) throws {
        self = try Self.decodeText(try decoder.singleValueContainer().decode(String.self), codingPath: decoder.codingPath)
    }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(encodedText)
    }

    /// The value for a decoded string, or `DecodingError.dataCorrupted` naming the text and path.
    package static func decodeText(_ text: String, codingPath: [any CodingKey]) throws -> Self {
        guard let value = Self(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "'\(text)' is not \(expectedText)"))
        }
        return value
    }
}
