// Registry authentication (distribution "token authentication specification", RFC 7235
// challenges). A 401 carries `WWW-Authenticate`:
//   Basic realm="…"                                   → send user:password to the registry
//   Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:org/app:pull"
//                                                     → GET realm?service=…&scope=… (with Basic
//                                                       credentials when there are any) answers
//                                                       {"token"|"access_token", "expires_in"}
// Tokens are cached per registry and scope set, dropped on a 401 and fetched again, and never
// logged or printed.
import FoundationEssentials
import UnisonCore

/// A scope of the token protocol: `repository:<name>:<actions>`.
package struct AuthScope: Sendable, Hashable, Comparable, CustomStringConvertible {
    package var repository: String
    package var actions: [String]

    package init(repository: String, actions: [String]) {
        self.repository = repository
        self.actions = actions
    }

    package static func pull(_ repository: String) -> AuthScope { AuthScope(repository: repository, actions: ["pull"]) }
    package static func push(_ repository: String) -> AuthScope { AuthScope(repository: repository, actions: ["pull", "push"]) }

    package var description: String { "repository:\(repository):\(actions.joined(separator: ","))" }
    package static func < (a: AuthScope, b: AuthScope) -> Bool { a.description < b.description }
}

/// One parsed `WWW-Authenticate` challenge.
package struct AuthChallenge: Sendable, Hashable {
    package enum Scheme: String, Sendable { case basic, bearer }
    package var scheme: Scheme
    package var parameters: [String: String]

    package var realm: String? { parameters["realm"] }
    package var service: String? { parameters["service"] }
    package var scope: String? { parameters["scope"] }

    /// Parses `Scheme k="v", k2=v2`; quoted values may contain commas and `\"`.
    package init?(header: String) {
        var s = Substring(header).drop { $0 == " " }
        let schemeName = s.prefix { $0 != " " }
        guard let scheme = Scheme(rawValue: schemeName.lowercased()) else { return nil }
        self.scheme = scheme
        s = s.dropFirst(schemeName.count)
        var params: [String: String] = [:]
        while true {
            s = s.drop { $0 == " " || $0 == "," }
            guard !s.isEmpty else { break }
            let key = s.prefix { $0 != "=" && $0 != " " && $0 != "," }
            guard !key.isEmpty else { break }
            s = s.dropFirst(key.count).drop { $0 == " " }
            guard s.first == "=" else { params[key.lowercased()] = ""; continue }
            s = s.dropFirst().drop { $0 == " " }
            var value = ""
            if s.first == "\"" {
                s = s.dropFirst()
                var escaped = false
                while let c = s.first {
                    s = s.dropFirst()
                    if escaped { value.append(c); escaped = false; continue }
                    if c == "\\" { escaped = true; continue }
                    if c == "\"" { break }
                    value.append(c)
                }
            } else {
                let raw = s.prefix { $0 != "," }
                value = raw.trimming(.whitespaces)
                s = s.dropFirst(raw.count)
            }
            params[key.lowercased()] = value
        }
        parameters = params
    }
}

/// Auth state shared by all requests of one client: which registries want Basic, and the
/// Bearer tokens fetched so far.
actor AuthSession {
    struct TokenKey: Hashable {
        var registry: String
        var scopes: String
    }

    struct Token {
        var value: String
        var expires: Date?
    }

    private var basicRegistries: Set<String> = []
    private var tokens: [TokenKey: Token] = [:]
    private var bearerChallenges: [String: AuthChallenge] = [:]

    static func key(_ registry: String, _ scopes: [AuthScope]) -> TokenKey {
        TokenKey(registry: registry, scopes: scopes.sorted().map(\.description).joined(separator: " "))
    }

    /// The Authorization header to send proactively, if the registry is known to want one.
    func authorization(registry: String, scopes: [AuthScope], credential: RegistryCredential?) -> String? {
        if basicRegistries.contains(registry), let credential { return credential.basicAuthorization }
        if let token = tokens[Self.key(registry, scopes)] {
            if let expires = token.expires, expires < Date() { return nil }
            return "Bearer \(token.value)"
        }
        return nil
    }

    func rememberBasic(_ registry: String) { basicRegistries.insert(registry) }

    func store(token: String, expiresIn: Double?, registry: String, scopes: [AuthScope]) {
        let expires = expiresIn.map { Date().addingTimeInterval(max(0, $0 - 10)) }
        tokens[Self.key(registry, scopes)] = Token(value: token, expires: expires)
    }

    func forget(registry: String, scopes: [AuthScope]) {
        tokens[Self.key(registry, scopes)] = nil
    }

    func remember(challenge: AuthChallenge, registry: String) { bearerChallenges[registry] = challenge }
    func challenge(for registry: String) -> AuthChallenge? { bearerChallenges[registry] }
}
