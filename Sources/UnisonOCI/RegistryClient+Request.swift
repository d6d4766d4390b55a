// The one request path. For every exchange it:
//   - adds `Authorization` only to the registry's own origin — scheme, host and port of
//     `baseURL(registry)` — whatever URL the request goes to: an upload `Location` or a
//     redirect to another host, another port or from https to http carries none;
//   - answers a 401 once per request, and only from the registry's own origin: Basic → the registry's credential; Bearer → a token for
//     the request's scopes (a cached token that stopped working is dropped and refetched, which
//     is how an expiry in the middle of an upload is survived);
//   - follows 301/302/303/307/308 itself (at most 5);
//   - retries, when the request is safe to replay, on dropped connections, 408, 429 (honouring
//     Retry-After) and 5xx, waiting as `RetryPolicy` says;
//   - turns any other unexpected status into `OCIError.registry` with the error body's codes.
import FoundationEssentials
import UnisonCore

struct RegistryExchange: Sendable {
    var method: HTTPMethod
    var url: URL
    var headers: [String: String] = [:]
    var body: RequestBody = .empty
    /// The registry whose credentials apply (`host[:port]` as written in references).
    var registry: String
    var scopes: [AuthScope]
    /// For errors: "GET manifest", "PATCH blob upload", …
    var what: String
    /// For errors: the reference or digest concerned.
    var reference: String
    /// Statuses that are answers rather than failures.
    var expected: Set<Int>
    /// Whether the executor may replay the request on a dropped connection or a 5xx.
    var retryable: Bool = true
}

extension RegistryClient {
    func execute(_ exchange: RegistryExchange) async throws -> TransportResponse {
        let policy = exchange.retryable ? configuration.retry : .none
        // Bound to the registry, not to the URL asked for: an upload session's URL comes from a
        // `Location` header, which the registry (or anyone in between) chooses.
        let origin = self.origin(of: exchange.registry)
        var url = exchange.url
        var method = exchange.method
        var body = exchange.body
        var attempt = 0
        var answeredChallenge = false
        var redirects = 0
        while true {
            attempt += 1
            var headers = exchange.headers
            headers["User-Agent"] = configuration.userAgent
            let credential = configuration.credentials.credential(for: exchange.registry)
            let sameOrigin = origin != nil && Origin(url) == origin
            if sameOrigin {
                var authorization = await auth.authorization(registry: exchange.registry, scopes: exchange.scopes, credential: credential)
                // A registry that challenged for Bearer before gets a token up front for new scopes.
                if authorization == nil, !answeredChallenge, let known = await auth.challenge(for: exchange.registry) {
                    try await fetchToken(challenge: known, exchange: exchange, credential: credential)
                    authorization = await auth.authorization(registry: exchange.registry, scopes: exchange.scopes, credential: credential)
                }
                if let authorization { headers["Authorization"] = authorization }
            }
            stats.update { $0.requests += 1 }
            let response: TransportResponse
            do {
                response = try await transport.send(TransportRequest(method: method, url: url, headers: headers, body: body))
            } catch let error as TransportError {
                if error.retryable, attempt < policy.attempts {
                    stats.update { $0.retries += 1 }
                    try await Task.sleep(for: policy.delay(afterAttempt: attempt))
                    continue
                }
                throw OCIError.transport(what: exchange.what, reference: exchange.reference, detail: error.detail, attempts: attempt)
            }

            switch response.status {
            case 401 where sameOrigin && !answeredChallenge:
                _ = try? await response.body.collect(limit: 64 << 10)
                answeredChallenge = true
                attempt -= 1
                stats.update { $0.authChallenges += 1 }
                try await answer(
                    challengeHeaders: response.headers.all("WWW-Authenticate"), exchange: exchange,
                    credential: credential)
                continue
            case 401:
                let errorBody = try? await response.body.collect(limit: 64 << 10)
                let codes = errorBody.flatMap(RegistryErrorDetail.parse)?.map(\.code).joined(separator: ", ")
                throw OCIError.unauthorized(
                    registry: exchange.registry, what: exchange.what, reference: exchange.reference,
                    detail: credential == nil
                        ? "no credentials for \(exchange.registry)"
                        : "credentials for \(credential!.username) were refused" + (codes.map { ": \($0)" } ?? ""))
            case 301, 302, 303, 307, 308:
                _ = try? await response.body.collect(limit: 64 << 10)
                guard let location = response.headers["Location"],
                    let next = URL(string: location, relativeTo: url)?.absoluteURL, next.host != nil
                else {
                    throw OCIError.registry(
                        status: response.status, what: exchange.what, reference: exchange.reference,
                        errors: [], bodyExcerpt: "redirect without a usable Location")
                }
                redirects += 1
                guard redirects <= 5 else {
                    throw OCIError.registry(
                        status: response.status, what: exchange.what, reference: exchange.reference,
                        errors: [], bodyExcerpt: "more than 5 redirects")
                }
                if url.scheme == "https", next.scheme != "https", !Self.isLoopback(host: next.host ?? "") {
                    throw OCIError.insecureRedirect(from: Self.authority(url), to: Self.authority(next))
                }
                if response.status == 303 { method = .GET; body = .empty }
                url = next
                attempt -= 1
                continue
            default:
                break
            }

            if exchange.expected.contains(response.status) { return response }
            let errorBody = try? await response.body.collect(limit: 64 << 10)
            if RetryPolicy.isRetryable(status: response.status), attempt < policy.attempts {
                stats.update { $0.retries += 1 }
                let wait = policy.delay(afterAttempt: attempt, retryAfter: RetryPolicy.retryAfter(response.headers["Retry-After"]))
                try await Task.sleep(for: wait)
                continue
            }
            throw Self.registryError(status: response.status, exchange: exchange, url: url, body: errorBody)
        }
    }

    /// The error for a response the exchange did not expect, from its status and body.
    static func registryError(status: Int, exchange: RegistryExchange, url: URL, body: Data?) -> OCIError {
        let details = body.flatMap(RegistryErrorDetail.parse) ?? []
        var excerpt: String?
        if status == 400, url.scheme == "http", let body, String(decoding: body.prefix(200), as: UTF8.self).contains("HTTPS server") {
            // What Go's server (docker-registry) answers plain HTTP on a TLS port.
            let host = url.host ?? ""
            let advice =
                isLoopback(host: host)
                ? "a certs.d folder named \(TLSTrust.folderName(host: host, port: url.port ?? 443) ?? authority(url)) holding its CA "
                    + "(in /etc/containers/certs.d, /etc/docker/certs.d or --certs-dir) makes unisonctl use HTTPS for it"
                : "leave out --plain-http"
            excerpt = "the registry speaks HTTPS, and this went over plain HTTP; \(advice)"
        } else if details.isEmpty, let body, !body.isEmpty {
            // A server's words: terminal control sequences in them are escaped, never replayed.
            let text = Terminal.escapingControls(
                String(decoding: body.prefix(200), as: UTF8.self)
                    .replacing("\n", with: " ")
            ).trimming(.whitespaces)
            excerpt = text.isEmpty ? nil : text
        }
        return .registry(status: status, what: exchange.what, reference: exchange.reference, errors: details, bodyExcerpt: excerpt)
    }

    /// Prepares credentials for the replay of a request that got a 401.
    private func answer(challengeHeaders: [String], exchange: RegistryExchange, credential: RegistryCredential?) async throws {
        let challenges = challengeHeaders.compactMap(AuthChallenge.init(header:))
        if let bearer = challenges.first(where: { $0.scheme == .bearer }) {
            await auth.forget(registry: exchange.registry, scopes: exchange.scopes)
            await auth.remember(challenge: bearer, registry: exchange.registry)
            try await fetchToken(challenge: bearer, exchange: exchange, credential: credential)
            return
        }
        if challenges.contains(where: { $0.scheme == .basic }) || challenges.isEmpty {
            guard credential != nil else {
                throw OCIError.unauthorized(
                    registry: exchange.registry, what: exchange.what, reference: exchange.reference,
                    detail: "no credentials for \(exchange.registry)")
            }
            await auth.rememberBasic(exchange.registry)
            return
        }
    }

    /// The token flow: GET realm?service=…&scope=… with Basic credentials when there are any
    /// (only to an HTTPS realm, a loopback one, or the registry itself).
    private func fetchToken(challenge: AuthChallenge, exchange: RegistryExchange, credential: RegistryCredential?) async throws {
        guard let realmText = challenge.realm, var components = URLComponents(string: realmText),
            let realmURL = components.url, realmURL.host != nil
        else {
            throw OCIError.tokenRequestFailed(realm: challenge.realm ?? "(none)", status: nil, detail: "the Bearer challenge has no usable realm")
        }
        var items = components.queryItems ?? []
        if let service = challenge.service { items.append(URLQueryItem(name: "service", value: service)) }
        var scopes = Set(exchange.scopes.map(\.description))
        if let challenged = challenge.scope {
            for s in challenged.split(separator: " ") { scopes.insert(String(s)) }
        }
        for scope in scopes.sorted() { items.append(URLQueryItem(name: "scope", value: scope)) }
        components.queryItems = items
        guard let tokenURL = components.url else {
            throw OCIError.tokenRequestFailed(realm: realmText, status: nil, detail: "cannot build the token URL")
        }
        let realmHost = Self.authority(tokenURL)
        var headers = ["User-Agent": configuration.userAgent]
        let safeRealm =
            tokenURL.scheme == "https" || Self.isLoopback(host: tokenURL.host ?? "")
            || (Origin(tokenURL) != nil && Origin(tokenURL) == origin(of: exchange.registry))
        if let credential, safeRealm { headers["Authorization"] = credential.basicAuthorization }

        let policy = configuration.retry
        var attempt = 0
        while true {
            attempt += 1
            stats.update { $0.requests += 1 }
            let response: TransportResponse
            do {
                response = try await transport.send(TransportRequest(method: .GET, url: tokenURL, headers: headers))
            } catch let error as TransportError {
                if error.retryable, attempt < policy.attempts {
                    try await Task.sleep(for: policy.delay(afterAttempt: attempt))
                    continue
                }
                throw OCIError.tokenRequestFailed(realm: realmHost, status: nil, detail: error.detail)
            }
            let data = try? await response.body.collect(limit: 1 << 20)
            if RetryPolicy.isRetryable(status: response.status), attempt < policy.attempts {
                try await Task.sleep(for: policy.delay(afterAttempt: attempt, retryAfter: RetryPolicy.retryAfter(response.headers["Retry-After"])))
                continue
            }
            guard response.status == 200 else {
                if response.status == 401 || response.status == 403 {
                    throw OCIError.unauthorized(
                        registry: exchange.registry, what: exchange.what, reference: exchange.reference,
                        detail: credential == nil
                            ? "the token service \(realmHost) wants credentials"
                            : "the token service \(realmHost) refused the credentials for \(credential!.username)")
                }
                let codes = data.flatMap(RegistryErrorDetail.parse)?.map(\.code).joined(separator: ", ")
                throw OCIError.tokenRequestFailed(realm: realmHost, status: response.status, detail: codes ?? "no token")
            }
            guard let data, let object = (try? JSONValue.parse(data))?.object,
                let token = object["token"]?.string ?? object["access_token"]?.string, !token.isEmpty
            else {
                throw OCIError.tokenRequestFailed(realm: realmHost, status: 200, detail: "the answer has no token")
            }
            let expiresIn = object["expires_in"]?.double
            await auth.store(token: token, expiresIn: expiresIn, registry: exchange.registry, scopes: exchange.scopes)
            return
        }
    }
}
