// A client for registries implementing the OCI distribution spec 1.1
// (opencontainers/distribution-spec `spec.md`). Every HTTP exchange goes through one executor
// (`RegistryClient+Request.swift`) that adds credentials, answers auth challenges, follows
// redirects without leaking credentials, retries by `RetryPolicy`, and turns error bodies into
// `OCIError.registry`. The operations live in `+Manifests`, `+Blobs`, `+Upload`, `+Tags` and
// `+Referrers`; whole-image copies in `ImageTransfer`.
import FoundationEssentials
import Synchronization
import UnisonCore

package struct RegistryClient: Sendable {
    package struct Configuration: Sendable {
        package var credentials: CredentialSource
        /// Use plain HTTP for every registry (`--plain-http`). Loopback hosts use it without
        /// this flag unless the transport has a `certs.d` folder for them.
        package var plainHTTP: Bool
        package var retry: RetryPolicy
        /// Blobs larger than this are uploaded in PATCH chunks of this size; smaller ones in
        /// one PUT. GHCR refuses large chunks, hence a moderate default.
        package var chunkSize: Int64
        /// Upload every blob in one PUT, whatever its size.
        package var monolithicUploads: Bool
        /// Blob transfers running at once during a copy.
        package var maxConcurrentTransfers: Int
        /// Largest manifest accepted (the distribution spec suggests registries accept 4 MiB).
        package var manifestSizeLimit: Int
        package var userAgent: String

        package init(
            credentials: CredentialSource = CredentialSource(), plainHTTP: Bool = false,
            retry: RetryPolicy = .standard, chunkSize: Int64 = 8 << 20, monolithicUploads: Bool = false,
            maxConcurrentTransfers: Int = 4, manifestSizeLimit: Int = 4 << 20,
            userAgent: String = "unisonctl/\(ToolVersion.current)"
        ) {
            self.credentials = credentials
            self.plainHTTP = plainHTTP
            self.retry = retry
            self.chunkSize = max(1, chunkSize)
            self.monolithicUploads = monolithicUploads
            self.maxConcurrentTransfers = max(1, maxConcurrentTransfers)
            self.manifestSizeLimit = manifestSizeLimit
            self.userAgent = userAgent
        }
    }

    package let configuration: Configuration
    let transport: any RegistryTransport
    let auth = AuthSession()
    /// Byte and request counters for this client (what a re-push or promote really sent).
    package let stats = TransferStats()

    package init(configuration: Configuration = Configuration(), transport: any RegistryTransport = HTTPClientTransport.shared) {
        self.configuration = configuration
        self.transport = transport
    }

    /// Runs `body` with a client on a private transport that is shut down afterwards.
    package static func withClient<T: Sendable>(
        configuration: Configuration = Configuration(),
        _ body: (RegistryClient) async throws -> T
    ) async throws -> T {
        let transport = HTTPClientTransport()
        let client = RegistryClient(configuration: configuration, transport: transport)
        do {
            let result = try await body(client)
            try? await transport.shutdown()
            return result
        } catch {
            try? await transport.shutdown()
            throw error
        }
    }

    // MARK: Endpoints

    /// Whether `registry` is spoken to over plain HTTP: every registry with `plainHTTP`; a
    /// loopback one unless the transport has a `certs.d` folder named for it (a registry on this
    /// machine set up for TLS the way Docker and skopeo expect); never any other.
    package func usesPlainHTTP(_ registry: String) -> Bool {
        if configuration.plainHTTP { return true }
        let (host, port) = Self.hostAndPort(of: registry)
        guard Self.isLoopback(host: host) else { return false }
        return !transport.hasTLSFolder(host: host, port: port ?? 443)
    }

    /// `https://host[:port]` (`registry-1.docker.io` for Docker Hub).
    package func baseURL(_ registry: String) -> URL {
        let host = registry == ImageReference.dockerHub ? "registry-1.docker.io" : registry
        return URL(string: "\(usesPlainHTTP(registry) ? "http" : "https")://\(host)")!
    }

    func url(_ ref: ImageReference, _ path: String, query: [URLQueryItem] = []) -> URL {
        var components = URLComponents(url: baseURL(ref.registry), resolvingAgainstBaseURL: false)!
        components.path = "/v2/\(ref.repository)/\(path)"
        if !query.isEmpty { components.queryItems = query }
        return components.url!
    }

    /// The host of `host[:port]` or `[v6][:port]` (without brackets) and the port written after
    /// it, nil when none is.
    static func hostAndPort(of registry: String) -> (host: String, port: Int?) {
        let host: Substring
        let rest: Substring
        if registry.hasPrefix("["), let close = registry.firstIndex(of: "]") {
            host = registry[registry.index(after: registry.startIndex)..<close]
            rest = registry[registry.index(after: close)...]
        } else if let colon = registry.firstIndex(of: ":") {
            host = registry[..<colon]
            rest = registry[colon...]
        } else {
            return (registry, nil)
        }
        return (String(host), rest.first == ":" ? Int(rest.dropFirst()) : nil)
    }

    /// Hosts spoken to over plain HTTP without `--plain-http` (unless a `certs.d` folder names
    /// them): `localhost`, 127.0.0.0/8 and `::1` only. Other `*.localhost` names are not trusted
    /// to resolve to this machine (a resolver may send them anywhere), so they need
    /// `--plain-http` like any other host.
    static func isLoopback(host: String) -> Bool {
        var h = host.lowercased()
        if h.hasPrefix("["), h.hasSuffix("]") { h = String(h.dropFirst().dropLast()) }
        if h == "localhost" || h == "::1" || h == "0:0:0:0:0:0:0:1" { return true }
        let parts = h.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { !$0.isEmpty && $0.count <= 3 && UInt8($0) != nil }
    }

    /// The origin credentials are bound to: scheme, host and port (the scheme's default port
    /// when none is written). Two URLs share credentials only when all three match.
    struct Origin: Hashable, Sendable, CustomStringConvertible {
        var scheme: String
        var host: String
        var port: Int

        init?(_ url: URL) {
            guard let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
                let host = url.host?.lowercased(), !host.isEmpty
            else { return nil }
            self.scheme = scheme
            self.host = host
            self.port = url.port ?? (scheme == "https" ? 443 : 80)
        }

        var description: String { "\(scheme)://\(host.contains(":") ? "[\(host)]" : host):\(port)" }
    }

    /// The origin of `registry` as this client speaks to it (after `--plain-http` and the
    /// loopback rule): the only origin its credentials and tokens are ever sent to.
    func origin(of registry: String) -> Origin? { Origin(baseURL(registry)) }

    /// `host[:port]` of a URL, the unit credentials are bound to.
    static func authority(_ url: URL) -> String {
        var host = url.host ?? ""
        if host.contains(":") { host = "[\(host)]" }
        return url.port.map { "\(host):\($0)" } ?? host
    }
}

/// Counters of one client's traffic; thread-safe.
package final class TransferStats: Sendable {
    package struct Snapshot: Sendable, Codable, Equatable {
        /// Blob bytes sent in upload requests (PATCH and PUT bodies), retries included.
        package var blobBytesUploaded: Int64 = 0
        /// Blob bytes received and kept.
        package var blobBytesDownloaded: Int64 = 0
        package var blobsUploaded: Int = 0
        package var blobsMounted: Int = 0
        /// Blobs the destination already had (HEAD answered), so nothing was sent.
        package var blobsSkipped: Int = 0
        package var manifestsPushed: Int = 0
        package var requests: Int = 0
        package var retries: Int = 0
        package var authChallenges: Int = 0
    }

    private let value = Mutex(Snapshot())

    package init() {}

    package var snapshot: Snapshot { value.withLock { $0 } }

    func update(_ change: (inout Snapshot) -> Void) { value.withLock { change(&$0) } }
}
