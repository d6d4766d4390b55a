import UnisonCore

/// A container image reference as the spec writes it: `[host[:port]/]path[:tag][@sha256:hex]`,
/// checked against the distribution spec's grammar (UnisonCore's `ImageReferenceGrammar`). The
/// registry client has the full type; the spec needs only to reject malformed references and to
/// see tag and digest.
package struct ImageName: Sendable, Equatable {
    package var host: String?
    package var path: String
    package var tag: String?
    package var digest: String?

    package init?(_ text: String) {
        let parts = ImageReferenceGrammar.split(Substring(text))
        if let d = parts.digest {
            guard ImageReferenceGrammar.isSHA256Digest(d) else { return nil }
            digest = String(d)
        }
        if let t = parts.tag {
            guard ImageReferenceGrammar.isTag(t) else { return nil }
            tag = String(t)
        }
        if let h = parts.host {
            guard ImageReferenceGrammar.isHost(h) else { return nil }
            host = String(h)
        }
        guard !parts.components.isEmpty, parts.components.allSatisfy(ImageReferenceGrammar.isPathComponent) else { return nil }
        path = parts.path
    }

    /// An Ollama model name: `name[:tag]`, optionally `namespace/name:tag`.
    package static func isValidModelName(_ s: String) -> Bool {
        guard let name = ImageName(s), name.digest == nil else { return false }
        return true
    }
}
