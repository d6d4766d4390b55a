/// A container image reference as the spec writes it: `[host[:port]/]path[:tag][@sha256:hex]`,
/// checked against the distribution spec's grammar. The registry client has the full type;
/// the spec needs only to reject malformed references and to see tag and digest.
public struct ImageName: Sendable, Equatable {
    public var host: String?
    public var path: String
    public var tag: String?
    public var digest: String?

    public init?(_ text: String) {
        var rest = Substring(text)
        if let at = rest.firstIndex(of: "@") {
            let d = rest[rest.index(after: at)...]
            guard d.hasPrefix("sha256:"), d.count == 71,
                  d.dropFirst(7).allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else { return nil }
            digest = String(d)
            rest = rest[..<at]
        }
        let slash = rest.lastIndex(of: "/")
        if let colon = rest.lastIndex(of: ":"), slash.map({ colon > $0 }) ?? true {
            let t = rest[rest.index(after: colon)...]
            guard Self.isTag(t) else { return nil }
            tag = String(t)
            rest = rest[..<colon]
        }
        var components = rest.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        if components.count > 1, let first = components.first,
           first.contains(".") || first.contains(":") || first == "localhost" {
            guard Self.isHost(first) else { return nil }
            host = first
            components.removeFirst()
        }
        guard !components.isEmpty, components.allSatisfy(Self.isPathComponent) else { return nil }
        path = components.joined(separator: "/")
    }

    /// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
    static func isPathComponent(_ s: String) -> Bool {
        guard let first = s.first, let last = s.last, first.isLowerAlnum, last.isLowerAlnum else { return false }
        var previousSeparator: Character?
        for c in s {
            if c.isLowerAlnum { previousSeparator = nil; continue }
            guard "._-".contains(c) else { return false }
            if let p = previousSeparator {
                let ok = (p == "_" && c == "_") || (p == "-" && c == "-")
                if !ok { return false }
            }
            previousSeparator = c
        }
        return true
    }

    /// `[\w][\w.-]{0,127}`
    static func isTag(_ s: Substring) -> Bool {
        guard let first = s.first, s.count <= 128, first.isWord else { return false }
        return s.allSatisfy { $0.isWord || $0 == "." || $0 == "-" }
    }

    static func isHost(_ s: String) -> Bool {
        let parts = s.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count <= 2, let name = parts.first, !name.isEmpty else { return false }
        if parts.count == 2 { guard let port = Int(parts[1]), (1...65535).contains(port) else { return false } }
        return name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-") }
    }

    /// An Ollama model name: `name[:tag]`, optionally `namespace/name:tag`.
    public static func isValidModelName(_ s: String) -> Bool {
        guard let name = ImageName(s), name.digest == nil else { return false }
        return true
    }
}

extension Character {
    var isLowerAlnum: Bool { isASCII && (isLowercase || isNumber) }
    var isWord: Bool { isASCII && (isLetter || isNumber || self == "_") }
}
