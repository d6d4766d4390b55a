import UnisonCore

/// An image reference as written in a Compose file, Dockerfile or workflow, split by the
/// distribution project's reference grammar (UnisonCore's `ImageReferenceGrammar`; a first
/// component holding an unresolved variable counts as a host), but without
/// rejecting anything: judging the parts is the GHCR rules' job. Text a variable would supply
/// and that could not be resolved is marked with `ImageReference.unresolved`.
struct ImageReference: Equatable {
    /// Stands in for the value of an unresolved `${VAR}` or `${{ expr }}`.
    static let unresolved: Character = "\u{1}"

    var host: String?
    var path: String
    var tag: String?
    var digest: String?

    init?(_ text: String) {
        let trimmed = text.trimmingSpaces
        guard !trimmed.isEmpty, !trimmed.contains(" "), !trimmed.contains("\t") else { return nil }
        let parts = ImageReferenceGrammar.split(Substring(trimmed), alsoHost: { $0.contains(Self.unresolved) })
        guard !parts.components.isEmpty, !parts.components.contains(where: \.isEmpty) else { return nil }
        host = parts.host.map(String.init)
        path = parts.path
        tag = parts.tag.map(String.init)
        digest = parts.digest.map(String.init)
    }

    var components: [String] { path.split(separator: "/").map(String.init) }

    /// The last path component: the repository name (`unison-auth`).
    var repositoryName: String { components.last ?? path }

    /// The name with the registry Docker assumes when none is written (`docker.io`, and
    /// `library/` for one-component names).
    var canonicalName: String {
        let h = host ?? "docker.io"
        let p = (host == nil && !path.contains("/")) ? "library/\(path)" : path
        return "\(h)/\(p)"
    }

    var nameIsResolved: Bool { !(host ?? "").contains(Self.unresolved) && !path.contains(Self.unresolved) }
    var tagIsParameterized: Bool { tag?.contains(Self.unresolved) == true }

    /// The reference as a person reads it, unresolved parts shown as `${…}`.
    static func display(_ text: String) -> String {
        text.replacing(String(unresolved), with: "${…}")
    }
}

/// Variable substitution where references are written with variables.
enum Interpolation {
    /// Shell and Compose forms: `${NAME}`, `${NAME:-default}`, `${NAME-default}`,
    /// `${NAME:?message}`, `$NAME`. `$$` is a literal `$` (Compose). Unknown names without a
    /// default become `ImageReference.unresolved`.
    static func shell(_ text: String, _ lookup: (String) -> String?) -> String {
        var out = ""
        var chars = Array(text)[...]
        while let c = chars.first {
            chars = chars.dropFirst()
            guard c == "$" else { out.append(c); continue }
            if chars.first == "$" { out.append("$"); chars = chars.dropFirst(); continue }
            if chars.first == "{" {
                // `${{ … }}` belongs to GitHub expressions, resolved separately.
                if chars.dropFirst().first == "{" { out.append("$"); continue }
                guard let close = chars.firstIndex(of: "}") else { out.append("$"); continue }
                let body = String(chars[chars.index(after: chars.startIndex)..<close])
                chars = chars[chars.index(after: close)...]
                out += expand(body, lookup)
                continue
            }
            let name = chars.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
            if name.isEmpty { out.append("$"); continue }
            chars = chars.dropFirst(name.count)
            out += lookup(String(name)) ?? String(ImageReference.unresolved)
        }
        return out
    }

    private static func expand(_ body: String, _ lookup: (String) -> String?) -> String {
        for separator in [":-", "-", ":?", "?", ":+", "+"] {
            if let range = body.firstRange(of: separator) {
                let name = String(body[..<range.lowerBound])
                guard name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }), !name.isEmpty else { continue }
                let word = String(body[range.upperBound...])
                let value = lookup(name)
                switch separator {
                case ":-": return (value?.isEmpty == false ? value : nil) ?? shell(word, lookup)
                case "-": return value ?? shell(word, lookup)
                case ":+", "+": return value.map { _ in shell(word, lookup) } ?? ""
                default: return value ?? String(ImageReference.unresolved)
                }
            }
        }
        return lookup(body) ?? String(ImageReference.unresolved)
    }

    /// GitHub Actions expressions `${{ … }}`: `resolve` gets the trimmed expression and returns
    /// its value, or nil for one that cannot be known before the workflow runs.
    static func github(_ text: String, _ resolve: (String) -> String?) -> String {
        var out = ""
        var rest = Substring(text)
        while let open = rest.firstRange(of: "${{") {
            out += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].firstRange(of: "}}") else {
                out += rest[open.lowerBound...]
                return out
            }
            let expression = String(rest[open.upperBound..<close.lowerBound]).trimmingSpaces
            out += resolve(expression) ?? String(ImageReference.unresolved)
            rest = rest[close.upperBound...]
        }
        out += rest
        return out
    }
}
