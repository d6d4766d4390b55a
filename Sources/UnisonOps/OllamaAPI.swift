// The two read-only endpoints of the Ollama HTTP API that first boot needs
// (ollama/ollama `docs/api.md`, `server/routes.go`):
//
//   GET /api/version -> {"version": "0.5.7"}
//   GET /api/tags    -> {"models": [{"name": "qwen2.5:1.5b", "model": "qwen2.5:1.5b",
//                                    "digest": "<hex>", "size": 986061892, ...}, ...]}
//
// A model's `digest` is the SHA-256 of its manifest file in the store, as hex without the
// `sha256:` prefix (`server/manifest.go` hashes the manifest bytes as it decodes them). Plain
// HTTP only, through UnisonCore's HTTPExchange: the server listens on the machine itself or
// inside the compose network.
import FoundationEssentials
import UnisonCore

/// A local plain-HTTP Ollama endpoint, `http://host:port`.
package struct OllamaEndpoint: Sendable, Equatable, CustomStringConvertible {
    package var host: String
    package var port: Int

    package static let `default` = OllamaEndpoint(host: "127.0.0.1", port: 11434)

    package init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// `http://HOST[:PORT][/]`: an IPv4 address or a host name; port 11434 by default.
    package init(parsing text: String) throws {
        guard text.hasPrefix("http://") else { throw FirstBootError.badOllamaURL(text, reason: "only http:// URLs are supported") }
        var rest = Substring(text.dropFirst(7))
        while rest.hasSuffix("/") { rest = rest.dropLast() }
        var port = 11434
        if let colon = rest.lastIndex(of: ":") {
            guard let p = Int(rest[rest.index(after: colon)...]), (1...65535).contains(p) else {
                throw FirstBootError.badOllamaURL(text, reason: "the port is not a number from 1 to 65535")
            }
            port = p
            rest = rest[..<colon]
        }
        let host = String(rest).lowercased()
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        guard !host.isEmpty, host.count <= 253,
            labels.allSatisfy({
                !$0.isEmpty && $0.count <= 63 && !$0.hasPrefix("-") && !$0.hasSuffix("-")
                    && $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
            })
        else {
            throw FirstBootError.badOllamaURL(text, reason: "'\(rest)' is not an IPv4 address or a host name")
        }
        self.host = host
        self.port = port
    }

    package var description: String { "http://\(host):\(port)" }
}

/// What `/api/tags` says about one model.
package struct OllamaListedModel: Sendable, Codable, Equatable {
    package var name: String
    package var model: String?
    package var digest: String
    package var size: Int64?
}

/// Reads `/api/version` and `/api/tags`.
package struct OllamaAPI: Sendable {
    package var endpoint: OllamaEndpoint
    package var requestTimeout: TimeInterval

    package init(endpoint: OllamaEndpoint, requestTimeout: TimeInterval = 5) {
        self.endpoint = endpoint
        self.requestTimeout = requestTimeout
    }

    package enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        case unreachable(String)
        case status(path: String, code: Int)
        case badBody(path: String, reason: String)

        package var description: String {
            switch self {
            case let .unreachable(reason): return reason
            case let .status(path, code): return "\(path) answered HTTP \(code)"
            case let .badBody(path, reason): return "\(path) did not answer the Ollama API's JSON: \(reason)"
            }
        }
    }

    func getJSON(_ path: String) -> Result<JSONValue, Failure> {
        switch HTTPExchange.perform(
            HTTPExchange.Request(target: path, headers: [.init(name: "Accept", value: "application/json")]),
            host: endpoint.host, port: endpoint.port, timeout: requestTimeout, maxBody: 16 << 20)
        {
        case let .failure(error): return .failure(.unreachable(error.description))
        case let .success(response):
            guard response.status == 200 else { return .failure(.status(path: path, code: response.status)) }
            guard !response.truncated else { return .failure(.badBody(path: path, reason: "larger than 16 MiB")) }
            // An object or an array, as JSONSerialization accepted without .fragmentsAllowed.
            guard let value = try? JSONValue.parse(response.body), value.object != nil || value.array != nil else {
                return .failure(.badBody(path: path, reason: "not JSON (\(response.body.count) bytes)"))
            }
            return .success(value)
        }
    }

    /// A JSON number (or boolean) as NSNumber's `int64Value` read it: fractions cut off.
    static func int64(_ value: JSONValue?) -> Int64? {
        switch value {
        case .integer(let i)?: i
        case .double(let d)? where d.isFinite && abs(d) < 9.2e18: Int64(d)
        case .bool(let b)?: b ? 1 : 0
        default: nil
        }
    }

    /// The server's version string.
    package func version() -> Result<String, Failure> {
        getJSON("/api/version").flatMap { object in
            guard let version = object["version"]?.string else {
                return .failure(.badBody(path: "/api/version", reason: "no \"version\" string"))
            }
            return .success(version)
        }
    }

    /// Every model the server lists.
    package func tags() -> Result<[OllamaListedModel], Failure> {
        getJSON("/api/tags").flatMap { object in
            guard let list = object["models"]?.array, list.allSatisfy({ $0.object != nil }) else {
                return .failure(.badBody(path: "/api/tags", reason: "no \"models\" array"))
            }
            let models = list.compactMap(\.object)
            var out: [OllamaListedModel] = []
            for (i, m) in models.enumerated() {
                guard let name = m["name"]?.string, let digest = m["digest"]?.string else {
                    return .failure(.badBody(path: "/api/tags", reason: "model \(i) lacks \"name\" or \"digest\""))
                }
                out.append(
                    OllamaListedModel(
                        name: name, model: m["model"]?.string, digest: digest, size: Self.int64(m["size"])))
            }
            return .success(out)
        }
    }
}
