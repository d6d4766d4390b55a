import Foundation
import UnisonInstall
import UnisonSpec

/// Keeps secrets out of a support bundle. The env file is rewritten with every secret's value
/// replaced; and because logs or tool output may echo a secret, every secret value found in
/// the env file is also scrubbed from everything else the bundle collects.
public struct DiagRedaction: Sendable {
    public static let mask = "<redacted>"
    /// Name fragments that mark a key as secret (compared upper-cased).
    public static let secretWords = ["PASSWORD", "PASSWD", "SECRET", "TOKEN", "KEY", "CREDENTIAL", "PRIVATE"]
    /// Values shorter than this are not scrubbed from free text (they would match everywhere);
    /// the env file itself always masks them.
    public static let minimumScrubLength = 6

    public var secretNames: Set<String>
    /// Values to scrub, longest first (so a value containing another is replaced whole).
    public private(set) var values: [String] = []

    public init(spec: PlatformSpec) {
        secretNames = Set(spec.installer.secrets.map(\.name))
    }

    public func isSecret(_ key: String) -> Bool {
        let upper = key.uppercased()
        return secretNames.contains(key) || Self.secretWords.contains { upper.contains($0) }
    }

    /// Learns the secret values of an env file, so `scrub` removes them from free text.
    public mutating func learn(envText: String) {
        var found = Set(values)
        for case let .assignment(key, value) in EnvFile.parse(envText) where isSecret(key) {
            for v in [value, value.trimmingCharacters(in: .whitespaces), Self.unquote(value)] where v.count >= Self.minimumScrubLength {
                if !v.hasPrefix(EnvFile.placeholder) { found.insert(v) }
            }
        }
        values = found.sorted { $0.count != $1.count ? $0.count > $1.count : $0 < $1 }
    }

    static func unquote(_ v: String) -> String {
        let t = v.trimmingCharacters(in: .whitespaces)
        if t.count >= 2, let f = t.first, f == t.last, f == "\"" || f == "'" { return String(t.dropFirst().dropLast()) }
        return t
    }

    /// The env file with each secret's value masked; comments, order and other values kept.
    /// A placeholder (`CHANGE_ME`) is kept, since it is no secret and tells support the
    /// secret was never generated; an empty value stays empty for the same reason.
    public func redactEnv(_ text: String) -> String {
        var out: [String] = []
        for line in EnvFile.parse(text) {
            switch line {
            case let .assignment(key, value) where isSecret(key):
                let bare = Self.unquote(value)
                if bare.isEmpty || bare.hasPrefix(EnvFile.placeholder) {
                    out.append("\(key)=\(value)")
                } else {
                    out.append("\(key)=\(Self.mask)")
                }
            case let .assignment(key, value):
                out.append("\(key)=\(scrub(value))")
            case let .other(raw):
                out.append(scrub(raw))
            }
        }
        return out.joined(separator: "\n") + (text.hasSuffix("\n") || text.isEmpty ? "\n" : "")
    }

    /// `text` with every learned secret value replaced by the mask.
    public func scrub(_ text: String) -> String {
        guard !values.isEmpty else { return text }
        var t = text
        for v in values where t.contains(v) { t = t.replacingOccurrences(of: v, with: Self.mask) }
        return t
    }

    /// Bytes: scrubbed as UTF-8 text (invalid sequences become U+FFFD, which is fine for logs).
    public func scrub(_ data: Data) -> Data {
        guard !values.isEmpty else { return data }
        return Data(scrub(String(decoding: data, as: UTF8.self)).utf8)
    }
}
