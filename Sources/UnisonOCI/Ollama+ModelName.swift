// Ollama model names (ollama/ollama `types/model/name.go`): `[host/][namespace/]model[:tag]`,
// defaults `registry.ollama.ai`, `library`, `latest`. In a registry the model is the repository
// `<namespace>/<model>` and the tag is the tag; in the store its manifest is the file
// `manifests/<host>/<namespace>/<model>/<tag>` (host with its port, as Ollama writes it).
import FoundationEssentials

package struct ModelName: Sendable, Hashable, Comparable, CustomStringConvertible, Codable {
    package static let defaultHost = "registry.ollama.ai"
    package static let defaultNamespace = "library"
    package static let defaultTag = "latest"

    package var host: String
    package var namespace: String
    package var model: String
    package var tag: String

    package init(host: String, namespace: String, model: String, tag: String) throws {
        let text = "\(host)/\(namespace)/\(model):\(tag)"
        guard ImageReference.isValidHost(host) else { throw OCIError.invalidModelName(text, reason: "'\(host)' is not a valid host") }
        guard ImageReference.isPathComponent(namespace), !namespace.contains(".") else {
            throw OCIError.invalidModelName(text, reason: "'\(namespace)' is not a valid namespace (lowercase letters, digits, _ and -)")
        }
        guard ImageReference.isPathComponent(model) else {
            throw OCIError.invalidModelName(text, reason: "'\(model)' is not a valid model name (lowercase letters, digits and . _ - separators)")
        }
        guard Tag(tag) != nil, tag.count <= 80 else { throw OCIError.invalidModelName(text, reason: "'\(tag)' is not a valid tag") }
        self.host = host.lowercased()
        self.namespace = namespace
        self.model = model
        self.tag = tag
    }

    /// Parses `[host/][namespace/]model[:tag]`; `host` overrides (or supplies) the host.
    /// Model and namespace are lowercased (Ollama compares names case-insensitively; registries
    /// only accept lowercase repositories).
    package init(parsing text: String, host overrideHost: String? = nil) throws {
        var rest = Substring(text)
        for scheme in ["https://", "http://"] where rest.hasPrefix(scheme) { rest = rest.dropFirst(scheme.count) }
        guard !rest.isEmpty, !rest.contains("@") else { throw OCIError.invalidModelName(text, reason: "expected [namespace/]name[:tag]") }
        var tag = Self.defaultTag
        if let colon = rest.lastIndex(of: ":"), !rest[colon...].contains("/") {
            tag = String(rest[rest.index(after: colon)...])
            rest = rest[..<colon]
        }
        let parts = rest.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        var host = Self.defaultHost, namespace = Self.defaultNamespace, model: String
        switch parts.count {
        case 1: model = parts[0]
        case 2: namespace = parts[0]; model = parts[1]
        case 3: host = parts[0]; namespace = parts[1]; model = parts[2]
        default: throw OCIError.invalidModelName(text, reason: "expected at most host/namespace/name")
        }
        guard !model.isEmpty else { throw OCIError.invalidModelName(text, reason: "the model name is empty") }
        try self.init(host: overrideHost ?? host, namespace: namespace.lowercased(), model: model.lowercased(), tag: tag)
    }

    /// `namespace/model`, the registry repository.
    package var repository: String { "\(namespace)/\(model)" }

    /// The registry reference of this model.
    package func reference() throws -> ImageReference {
        try ImageReference(registry: host, repository: repository, tag: Tag.parse(tag))
    }

    /// `manifests/<host>/<namespace>/<model>/<tag>` relative to the store root.
    package var manifestPath: String { "manifests/\(host)/\(namespace)/\(model)/\(tag)" }

    /// `host/namespace/model:tag`.
    package var description: String { "\(host)/\(namespace)/\(model):\(tag)" }

    /// How Ollama shows it: `model:tag` for the default host and namespace.
    package var shortName: String {
        if host == Self.defaultHost { return namespace == Self.defaultNamespace ? "\(model):\(tag)" : "\(namespace)/\(model):\(tag)" }
        return description
    }

    package static func < (a: ModelName, b: ModelName) -> Bool { a.description < b.description }
}

/// A registry named by URL or host: `http://127.0.0.1:5000`, `https://registry.ollama.ai`,
/// `127.0.0.1:5000`. `http://` asks for plain HTTP.
package struct RegistryEndpoint: Sendable, Hashable {
    package var host: String
    package var plainHTTP: Bool

    package init(parsing text: String) throws {
        var rest = Substring(text)
        var plain = false
        if rest.hasPrefix("http://") { plain = true; rest = rest.dropFirst(7) } else if rest.hasPrefix("https://") { rest = rest.dropFirst(8) }
        while rest.hasSuffix("/") { rest = rest.dropLast() }
        if rest.hasSuffix("/v2") { rest = rest.dropLast(3) }
        guard ImageReference.isValidHost(String(rest)) else {
            throw OCIError.invalidArgument("registry '\(text)' is not a host[:port] or http(s)://host[:port] URL")
        }
        host = String(rest).lowercased()
        plainHTTP = plain
    }
}

/// Ollama's layer media types (`application/vnd.ollama.image.<kind>`).
package enum OllamaLayerKind: String, Sendable, CaseIterable, Codable {
    case model, projector, adapter, template, system, params, license, messages

    package var mediaType: String { "application/vnd.ollama.image.\(rawValue)" }

    package init?(mediaType: String) {
        let prefix = "application/vnd.ollama.image."
        guard mediaType.hasPrefix(prefix), let kind = OllamaLayerKind(rawValue: String(mediaType.dropFirst(prefix.count))) else { return nil }
        self = kind
    }

    /// From a file name: `*.gguf` and `model*` are the model; `template*`, `params*`, … by prefix.
    package init?(fileName: String) {
        let name = fileName.lowercased()
        if name.hasSuffix(".gguf") && !name.hasPrefix("projector") && !name.hasPrefix("adapter") { self = .model; return }
        for kind in OllamaLayerKind.allCases
        where name == kind.rawValue || name.hasPrefix(kind.rawValue + ".")
            || name.hasPrefix(kind.rawValue + "-") || name.hasPrefix(kind.rawValue + "_")
        {
            self = kind
            return
        }
        return nil
    }
}
