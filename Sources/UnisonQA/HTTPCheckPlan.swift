import FoundationEssentials
import UnisonCore
import UnisonSpec

/// Which list of the spec's `qa:` section a run takes its checks from.
package enum QASuite: String, Sendable, Codable, CaseIterable {
    /// Independent checks that services answer; retried while services start.
    case smoke
    /// Ordered steps of a scenario; each runs once, later steps depend on earlier ones.
    case e2e
}

/// One HTTP check to run, from the spec's `HTTPCheck` (`expect`, `expectBody`, `expectJSON`,
/// `timeout`).
package struct HTTPCheckPlan: Sendable, Equatable, Codable {
    package var name: String
    package var service: String
    package var method: String
    /// Request target relative to the service's base URL: `/health`, `/v1/intents?x=1`.
    package var path: String
    package var body: String?
    package var expectStatus: Int
    /// The response body must contain this text.
    package var expectBodyContains: String?
    /// The response body must be a JSON object with this key; dots walk nested objects (`data.version`).
    package var expectJSONKey: String?
    /// Seconds one request of this check may take, instead of the run's request timeout.
    package var timeout: TimeInterval?

    package init(
        name: String, service: String, method: String = "GET", path: String, body: String? = nil,
        expectStatus: Int = 200, expectBodyContains: String? = nil, expectJSONKey: String? = nil,
        timeout: TimeInterval? = nil
    ) {
        self.name = name
        self.service = service
        self.method = method.uppercased()
        self.path = path
        self.body = body
        self.expectStatus = expectStatus
        self.expectBodyContains = expectBodyContains
        self.expectJSONKey = expectJSONKey
        self.timeout = timeout
    }

    package init(_ check: HTTPCheck) {
        self.init(
            name: check.name, service: check.service, method: check.method, path: check.path, body: check.body,
            expectStatus: check.expect, expectBodyContains: check.expectBody, expectJSONKey: check.expectJSON,
            timeout: check.timeout.map(TimeInterval.init))
    }

    /// `application/json` when the body parses as a JSON object or array, else plain text.
    package var contentType: String? {
        guard let body else { return nil }
        // JSONSerialization's rule without .fragmentsAllowed: only an object or array is JSON.
        if let object = try? JSONValue.parse(Data(body.utf8)), object.object != nil || object.array != nil {
            return "application/json"
        }
        return "text/plain; charset=utf-8"
    }
}

/// Where a service is reached: scheme-less HTTP endpoint plus an optional path prefix.
package struct ServiceEndpoint: Sendable, Equatable, Codable {
    package var host: String
    package var port: Int
    /// Prepended to every check's path (`/api` for `http://gw:8000/api`); empty for none.
    package var basePath: String

    package init(host: String, port: Int, basePath: String = "") {
        self.host = host
        self.port = port
        self.basePath = basePath
    }

    package func url(for path: String) -> String {
        let authority = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        return "http://\(authority)\(target(for: path))"
    }

    /// The request target: base path and check path joined by exactly one slash.
    package func target(for path: String) -> String {
        let p = path.hasPrefix("/") ? path : "/" + path
        guard !basePath.isEmpty else { return p }
        return (basePath.hasSuffix("/") ? String(basePath.dropLast()) : basePath) + p
    }

    /// Parses `http://host[:port][/base]` (IPv6 hosts in brackets); the port defaults to 80.
    package static func parse(_ text: String) -> ServiceEndpoint? {
        let lower = text.lowercased()
        guard lower.hasPrefix("http://") else { return nil }
        let rest = text.dropFirst("http://".count)
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<slash]
        var basePath = String(rest[slash...])
        if basePath == "/" { basePath = "" }
        guard !authority.isEmpty, !authority.contains("@"), !basePath.contains("?"), !basePath.contains("#") else { return nil }
        var host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return nil }
                portText = after.dropFirst()
            }
        } else {
            let parts = authority.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            host = parts[0]
            portText = parts.count > 1 ? parts[1] : nil
        }
        guard !host.isEmpty, !host.contains(where: { $0 == " " || $0 == "/" }) else { return nil }
        var port = 80
        if let portText {
            guard let p = Int(portText), (1...65535).contains(p) else { return nil }
            port = p
        }
        return ServiceEndpoint(host: String(host), port: port, basePath: basePath)
    }
}

/// How checks find their services: the spec's ports on a host, with per-service overrides.
package struct QAEndpoints: Sendable {
    package var spec: PlatformSpec
    /// Host for services without an override (default 127.0.0.1).
    package var host: String
    package var overrides: [String: ServiceEndpoint]
    /// A published port reached elsewhere on `host` (a guest's port forwarded to the host):
    /// spec port -> port to connect to. Ports not in it are used as they are.
    package var remappedPorts: [Int: Int] = [:]

    /// `baseURLs` are `SERVICE=URL` pairs as given on the command line. Throws `HTTPCheckError`
    /// for an unknown service, a malformed pair or URL, or a service given twice.
    package init(spec: PlatformSpec, host: String? = nil, baseURLs: [String] = []) throws {
        self.spec = spec
        let chosenHost = host ?? "127.0.0.1"
        guard !chosenHost.isEmpty, !chosenHost.contains(where: { $0 == " " || $0 == "/" }) else {
            throw HTTPCheckError.badHost(chosenHost)
        }
        self.host = chosenHost
        var overrides: [String: ServiceEndpoint] = [:]
        for pair in baseURLs {
            guard let eq = pair.firstIndex(of: "="), eq != pair.startIndex else { throw HTTPCheckError.badBaseURL(pair, "expected SERVICE=URL") }
            let name = String(pair[..<eq])
            let url = String(pair[pair.index(after: eq)...])
            guard spec.service(named: name) != nil else {
                throw HTTPCheckError.unknownService(name, context: "--base-url", known: spec.allServices.map(\.name))
            }
            guard overrides[name] == nil else { throw HTTPCheckError.badBaseURL(pair, "service '\(name)' is given twice") }
            guard let endpoint = ServiceEndpoint.parse(url) else {
                throw HTTPCheckError.badBaseURL(pair, "'\(url)' is not an http://host[:port][/path] URL (https is not supported)")
            }
            overrides[name] = endpoint
        }
        self.overrides = overrides
    }

    /// The endpoint a check goes to: the override for its service, else the service's port on
    /// `host` — its `healthPort` when the check asks for the service's health path.
    package func endpoint(for check: HTTPCheckPlan) throws -> ServiceEndpoint {
        if let override = overrides[check.service] { return override }
        guard let service = spec.service(named: check.service) else {
            throw HTTPCheckError.unknownService(check.service, context: "check '\(check.name)'", known: spec.allServices.map(\.name))
        }
        // Published ports: the host side (a service's image may listen on another port inside),
        // read as health and doctor read them (`Service.publishedPorts`).
        let port = (check.path == service.health ? service.hostHealthPort : service.hostPort) ?? service.port
        return ServiceEndpoint(host: host, port: remappedPorts[port] ?? port)
    }
}

/// Bad input for `qa smoke` and `qa e2e` (exit 2); failing checks are results, not errors.
package enum HTTPCheckError: Error, CustomStringConvertible, Sendable, Equatable, ExitCoded {
    case unknownService(String, context: String, known: [String])
    case badBaseURL(String, String)
    case badHost(String)
    case unknownCheck(String, suite: QASuite, known: [String])
    case noChecks(QASuite)
    case duplicateCheck(String, suite: QASuite)
    case badCheck(name: String, detail: String)
    case badOption(String)
    /// The JUnit report cannot be written there.
    case cannotWrite(path: String, detail: String)

    package var exitStatus: ExitStatus { .badInput }

    package var description: String {
        switch self {
        case let .unknownService(name, context, known):
            return "\(context): unknown service '\(name)' (known: \(known.joined(separator: ", ")))"
        case let .badBaseURL(pair, detail): return "--base-url '\(pair)': \(detail)"
        case let .badHost(host): return "--host '\(host)' is not a host name or address"
        case let .unknownCheck(name, suite, known):
            return "--only '\(name)': no such check in qa.\(suite.rawValue) (known: \(known.isEmpty ? "none" : known.joined(separator: ", ")))"
        case let .noChecks(suite): return "qa.\(suite.rawValue) in the spec declares no checks"
        case let .duplicateCheck(name, suite): return "qa.\(suite.rawValue) declares the check '\(name)' twice"
        case let .badCheck(name, detail): return "check '\(name)': \(detail)"
        case let .badOption(text): return text
        case let .cannotWrite(path, detail): return "cannot write the report '\(path)': \(detail)"
        }
    }
}
