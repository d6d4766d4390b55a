// The image reference grammar of the distribution project (distribution/reference), in the one
// place every module reads it from:
//
//   reference      := name [ ":" tag ] [ "@" digest ]
//   name           := [ domain "/" ] path-component ( "/" path-component )*
//   domain         := host [ ":" port ]      (first of two or more components with ".", ":" or "localhost")
//   path-component := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
//   tag            := [A-Za-z0-9_] [A-Za-z0-9_.-]{0,127}
//
// `split` cuts a text into those parts without judging them; the `is…` predicates judge one
// part each. The registry client (UnisonOCI's `ImageReference`), the spec (UnisonSpec's
// `ImageName`) and the workspace checks (which read references with unresolved variables in
// them) all split with this and differ only in what they then accept.

/// The distribution project's image reference grammar: one splitter and the checks of each part.
package enum ImageReferenceGrammar {
    /// A reference cut into its parts, each as written (nothing lowercased or defaulted).
    package struct Parts: Sendable, Equatable {
        /// The domain (`host[:port]`) when the first component is one.
        package var host: Substring?
        /// The path components after the domain; empty strings where `//` or a leading or
        /// trailing `/` was written.
        package var components: [Substring]
        /// Text after the last `:` that follows the last `/`, before any `@`.
        package var tag: Substring?
        /// Text after the first `@`.
        package var digest: Substring?

        /// The components joined by `/`.
        package var path: String { components.joined(separator: "/") }
    }

    /// Splits `[host[:port]/]path[:tag][@digest]`. The first of two or more components is the
    /// domain when it has a `.` or `:`, is `localhost`, or `alsoHost` says so (callers that
    /// treat an uppercase first component or a placeholder as a host).
    package static func split(_ text: Substring, alsoHost: (Substring) -> Bool = { _ in false }) -> Parts {
        var rest = text
        var digest: Substring?
        if let at = rest.firstIndex(of: "@") {
            digest = rest[rest.index(after: at)...]
            rest = rest[..<at]
        }
        var tag: Substring?
        let slash = rest.lastIndex(of: "/")
        if let colon = rest.lastIndex(of: ":"), slash.map({ colon > $0 }) ?? true {
            tag = rest[rest.index(after: colon)...]
            rest = rest[..<colon]
        }
        var components = rest.split(separator: "/", omittingEmptySubsequences: false)
        var host: Substring?
        if components.count > 1, let first = components.first,
            first.contains(".") || first.contains(":") || first == "localhost" || alsoHost(first)
        {
            host = first
            components.removeFirst()
        }
        return Parts(host: host, components: components, tag: tag, digest: digest)
    }

    /// `path-component`: `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`.
    package static func isPathComponent<S: StringProtocol>(_ s: S) -> Bool {
        let bytes = Array(s.utf8)
        func alnum(_ c: UInt8) -> Bool { (0x30...0x39).contains(c) || (0x61...0x7a).contains(c) }
        guard let first = bytes.first, let last = bytes.last, alnum(first), alnum(last) else { return false }
        var i = 0
        while i < bytes.count {
            if alnum(bytes[i]) { i += 1; continue }
            // A separator run: ".", "_", "__", or any number of "-".
            var j = i
            while j < bytes.count, !alnum(bytes[j]) { j += 1 }
            let run = bytes[i..<j]
            let ok =
                run.elementsEqual([UInt8(ascii: ".")]) || run.elementsEqual([UInt8(ascii: "_")])
                || run.elementsEqual([UInt8(ascii: "_"), UInt8(ascii: "_")]) || run.allSatisfy { $0 == UInt8(ascii: "-") }
            if !ok { return false }
            i = j
        }
        return true
    }

    /// `tag`: `[\w][\w.-]{0,127}` (ASCII word characters).
    package static func isTag<S: StringProtocol>(_ s: S) -> Bool {
        func word(_ c: UInt8) -> Bool {
            (0x30...0x39).contains(c) || (0x41...0x5a).contains(c) || (0x61...0x7a).contains(c) || c == UInt8(ascii: "_")
        }
        guard let first = s.utf8.first, s.utf8.count <= 128, word(first) else { return false }
        return s.utf8.allSatisfy { word($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
    }

    /// `domain`: DNS labels of ASCII letters, digits and `-` (not at either end) joined by `.`,
    /// or a bracketed IPv6 address, then an optional `:port` (1-65535, digits only).
    package static func isHost<S: StringProtocol>(_ s: S) -> Bool {
        let text = Substring(s)
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return false }
            let inside = text[text.index(after: text.startIndex)..<close]
            guard !inside.isEmpty, inside.allSatisfy({ $0.isHexDigit || $0 == ":" }) else { return false }
            let after = text[text.index(after: close)...]
            return after.isEmpty || (after.first == ":" && isPort(after.dropFirst()))
        }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count <= 2, let name = parts.first, !name.isEmpty else { return false }
        if parts.count == 2, !isPort(parts[1]) { return false }
        return name.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            guard let f = label.first, let l = label.last, f != "-", l != "-" else { return false }
            return label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        }
    }

    /// `sha256:` and 64 lowercase hex digits: the only digest algorithm the spec accepts.
    package static func isSHA256Digest<S: StringProtocol>(_ s: S) -> Bool {
        let text = Substring(s)
        return text.hasPrefix("sha256:") && text.utf8.count == 71
            && text.dropFirst(7).utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    /// The longest `host/path` name the grammar allows.
    package static let maxNameLength = 255

    private static func isPort(_ s: Substring) -> Bool {
        guard !s.isEmpty, s.utf8.allSatisfy({ (0x30...0x39).contains($0) }), let port = Int(s) else { return false }
        return (1...65535).contains(port)
    }
}
