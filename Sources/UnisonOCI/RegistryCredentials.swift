// Where registry credentials come from, first match wins:
//   1. explicit ones (command-line flags), for the one registry they were given for (the
//      registry a command writes to, or reads from when it only reads);
//   2. UNISON_REGISTRY_USER / UNISON_REGISTRY_PASSWORD, for the registry UNISON_REGISTRY_HOST
//      names; when it is unset, for the command's own registry (`explicitRegistry`) only, and
//      for none at all when that is unknown — never for every registry a command talks to;
//   3. GITHUB_TOKEN for ghcr.io (user GITHUB_ACTOR, else "unisonctl"; GHCR checks the token);
//   4. ~/.docker/config.json (or $DOCKER_CONFIG/config.json): `auths.<host>.auth`, base64 of
//      `user:password`; keys may be written as URLs (`https://index.docker.io/v1/`).
// Secrets are never printed: descriptions show the user name only.
import FoundationEssentials
import UnisonCore

package struct RegistryCredential: Sendable, Hashable, CustomStringConvertible {
    package var username: String
    package var password: String

    package init(username: String, password: String) {
        self.username = username
        self.password = password
    }

    /// `Basic base64(user:password)`.
    var basicAuthorization: String {
        "Basic " + Data("\(username):\(password)".utf8).base64EncodedString()
    }

    package var description: String { "\(username):<redacted>" }
}

package struct CredentialSource: Sendable {
    package var explicit: RegistryCredential?
    /// The registry (`host[:port]`) `explicit` is for (nil sends it to every registry); also
    /// the one environment credentials go to when UNISON_REGISTRY_HOST is unset.
    package var explicitRegistry: String?
    package var environment: [String: String]
    package var dockerConfig: URL?

    /// `environment` defaults to the process environment, `dockerConfig` to
    /// `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`.
    package init(
        explicit: RegistryCredential? = nil, for explicitRegistry: String? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment, dockerConfig: URL? = nil
    ) {
        self.explicit = explicit
        self.explicitRegistry = explicitRegistry.map(Self.normalize)
        self.environment = environment
        if let dockerConfig {
            self.dockerConfig = dockerConfig
        } else if let dir = environment["DOCKER_CONFIG"], !dir.isEmpty {
            self.dockerConfig = URL(fileURLWithPath: dir).appendingPathComponent("config.json")
        } else if let home = environment["HOME"], !home.isEmpty {
            self.dockerConfig = URL(fileURLWithPath: home).appendingPathComponent(".docker/config.json")
        } else {
            self.dockerConfig = nil
        }
    }

    /// No credentials at all (anonymous access only).
    package static let none = CredentialSource(explicit: nil, environment: [:], dockerConfig: URL(fileURLWithPath: "/nonexistent"))

    /// The credential for `registry` (`host[:port]`, `docker.io` for Docker Hub), if any.
    package func credential(for registry: String) -> RegistryCredential? {
        let wanted = Self.normalize(registry)
        if let explicit, explicitRegistry == nil || explicitRegistry == wanted { return explicit }
        let envHost = environment["UNISON_REGISTRY_HOST"].flatMap { $0.isEmpty ? nil : Self.normalize($0) }
        if let user = environment["UNISON_REGISTRY_USER"], let password = environment["UNISON_REGISTRY_PASSWORD"],
            !user.isEmpty, !password.isEmpty, let scope = envHost ?? explicitRegistry, scope == wanted
        {
            return RegistryCredential(username: user, password: password)
        }
        if registry == "ghcr.io", let token = environment["GITHUB_TOKEN"], !token.isEmpty {
            let actor = environment["GITHUB_ACTOR"].flatMap { $0.isEmpty ? nil : $0 } ?? "unisonctl"
            return RegistryCredential(username: actor, password: token)
        }
        return dockerConfigCredential(for: registry)
    }

    func dockerConfigCredential(for registry: String) -> RegistryCredential? {
        guard let dockerConfig, let data = FileManager.default.contents(atPath: dockerConfig.path),
            let auths = (try? JSONValue.parse(data))?["auths"]?.object
        else { return nil }
        let wanted = Self.normalize(registry)
        for (key, value) in auths.sorted(by: { $0.key < $1.key }) where Self.normalize(key) == wanted {
            guard let entry = value.object else { continue }
            if let auth = entry["auth"]?.string, let decoded = Data(base64Encoded: auth),
                let text = String(data: decoded, encoding: .utf8), let colon = text.firstIndex(of: ":")
            {
                return RegistryCredential(username: String(text[..<colon]), password: String(text[text.index(after: colon)...]))
            }
            if let user = entry["username"]?.string, let password = entry["password"]?.string {
                return RegistryCredential(username: user, password: password)
            }
        }
        return nil
    }

    /// `https://index.docker.io/v1/` → `docker.io`; `http://host:5000/x` → `host:5000`.
    static func normalize(_ key: String) -> String {
        var s = Substring(key.lowercased())
        if let scheme = s.firstRange(of: "://") { s = s[scheme.upperBound...] }
        if let slash = s.firstIndex(of: "/") { s = s[..<slash] }
        let host = String(s)
        return ["index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"].contains(host) ? ImageReference.dockerHub : host
    }
}
