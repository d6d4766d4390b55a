// The transport's TLS against a real docker-registry serving HTTPS on 127.0.0.1, with a CA and
// certificates made by openssl for each run: trust comes only from a certs.d folder named for
// the registry's own origin, an untrusted or misnamed certificate fails at once and is never
// retried, a client certificate is presented when the registry asks for one, and broken
// certs.d contents are named.
import Foundation
import Testing
import UnisonTestSupport

@testable import UnisonOCI

@Suite("Registry TLS: certs.d trust, failures at once, client certificates", .tags(.interop))
struct RegistryTLSTests {
    private func get(_ transport: HTTPClientTransport, _ url: String) async throws -> Int {
        let response = try await transport.send(TransportRequest(method: .GET, url: URL(string: url)!))
        _ = try await response.body.collect(limit: 1 << 20)
        return response.status
    }

    /// The transport's failure for `url`, which must be a TransportError.
    private func failure(_ transport: HTTPClientTransport, _ url: String) async -> TransportError? {
        do {
            _ = try await get(transport, url)
            Issue.record("\(url) answered, expected a TLS failure")
            return nil
        } catch let error as TransportError {
            return error
        } catch {
            Issue.record("expected a TransportError, got \(error)")
            return nil
        }
    }

    @Test("a CA in certs.d/127.0.0.1:PORT is trusted for that registry: /v2/ answers, a blob goes up and comes back over TLS")
    func trustedByFolder() async throws {
        let temp = try TempDir("tls")
        let pki = try TestPKI(in: temp.url)
        let registry = try TestRegistry.start(tls: .init(certificate: pki.serverCertificate, key: pki.serverKey))
        defer { registry.stop() }
        let certsD = try pki.certsD("certs.d", folder: registry.host, [("ca.crt", pki.serverCA)])
        let transport = HTTPClientTransport(trust: TLSTrust(directories: ["/nonexistent", certsD]))
        defer { Task { try await transport.shutdown() } }
        let base = "https://\(registry.host)"
        #expect(try await get(transport, "\(base)/v2/") == 200)

        // 3 MiB through the TLS write path (buffers, not sendfile), then read back whole.
        let data = TestImage.noise(3 << 20, seed: 11)
        let digest = Digest.sha256(of: data)
        let file = temp.path("blob")
        try data.write(to: file)
        let session = try await transport.send(TransportRequest(method: .POST, url: URL(string: "\(base)/v2/tls/test/blobs/uploads/")!))
        _ = try await session.body.collect(limit: 1 << 20)
        #expect(session.status == 202)
        let location = try #require(session.headers["Location"])
        let target = (location.hasPrefix("/") ? base + location : location) + (location.contains("?") ? "&" : "?") + "digest=\(digest)"
        let upload = try await transport.send(
            TransportRequest(
                method: .PUT, url: URL(string: target)!, headers: ["Content-Type": "application/octet-stream"],
                body: .file(file, range: 0..<Int64(data.count))))
        _ = try await upload.body.collect(limit: 1 << 20)
        #expect(upload.status == 201)
        let back = try await transport.send(TransportRequest(method: .GET, url: URL(string: "\(base)/v2/tls/test/blobs/\(digest)")!))
        #expect(back.status == 200)
        #expect(try await back.body.collect(limit: 8 << 20) == data)
    }

    @Test("without the CA, or with it filed under another port, the certificate is refused at once, naming the folder")
    func untrusted() async throws {
        let temp = try TempDir("tls")
        let pki = try TestPKI(in: temp.url)
        let registry = try TestRegistry.start(tls: .init(certificate: pki.serverCertificate, key: pki.serverKey))
        defer { registry.stop() }
        let elsewhere = try pki.certsD("certs.d", folder: "127.0.0.1:\(registry.port == 65535 ? 1 : registry.port + 1)", [("ca.crt", pki.serverCA)])
        for trust in [TLSTrust(directories: []), TLSTrust(directories: [elsewhere])] {
            let transport = HTTPClientTransport(trust: trust)
            let error = await failure(transport, "https://\(registry.host)/v2/")
            #expect(error?.retryable == false)
            #expect(error?.detail.contains("not trusted") == true, "\(error?.detail ?? "")")
            #expect(error?.detail.contains("/etc/docker/certs.d/\(registry.host)/ca.crt") == true, "\(error?.detail ?? "")")
            try await transport.shutdown()
        }

        // Through the request executor: one attempt, although five are allowed.
        let client = RegistryClient(
            configuration: .init(
                credentials: CredentialSource(explicit: nil, environment: [:], dockerConfig: URL(fileURLWithPath: "/nonexistent")),
                retry: RetryPolicy(attempts: 5, initialBackoff: .milliseconds(20), maxBackoff: .milliseconds(200))),
            transport: ReroutingTransport(port: registry.port))
        do {
            _ = try await client.fetchManifest(try ImageReference(parsing: "registry.test/tls/test:v1"))
            Issue.record("resolved through an untrusted certificate")
        } catch let error as OCIError {
            #expect("\(error)".contains("after 1 attempt:"), "\(error)")
            #expect("\(error)".contains("not trusted"), "\(error)")
        }
        #expect(client.stats.snapshot.retries == 0)
    }

    @Test("a loopback registry goes over HTTPS when a certs.d folder names it, else over plain HTTP, where its 400 says what to do")
    func loopbackScheme() async throws {
        let temp = try TempDir("tls")
        let pki = try TestPKI(in: temp.url)
        let registry = try TestRegistry.start(tls: .init(certificate: pki.serverCertificate, key: pki.serverKey))
        defer { registry.stop() }
        let certsD = try pki.certsD("certs.d", folder: registry.host, [("ca.crt", pki.serverCA)])
        let configuration = RegistryClient.Configuration(credentials: .none, retry: .none)
        let missing = try ImageReference(parsing: "\(registry.host)/tls/none:v1")

        let transport = HTTPClientTransport(trust: TLSTrust(directories: ["/nonexistent", certsD]))
        let client = RegistryClient(configuration: configuration, transport: transport)
        #expect(!client.usesPlainHTTP(registry.host))
        #expect(client.baseURL(registry.host).absoluteString == "https://\(registry.host)")
        #expect(client.usesPlainHTTP("127.0.0.1:\(registry.port == 65535 ? 1 : registry.port + 1)"), "no folder for that port")
        // The registry's own 404 for a missing tag: the exchange went over TLS, trusted by the folder.
        do {
            _ = try await client.fetchManifest(missing)
            Issue.record("a manifest that was never pushed was found")
        } catch let OCIError.registry(status, _, _, errors, _) {
            #expect(status == 404)
            #expect(errors.map(\.code) == ["MANIFEST_UNKNOWN"])
        }
        var plain = configuration
        plain.plainHTTP = true
        #expect(RegistryClient(configuration: plain, transport: transport).usesPlainHTTP(registry.host), "--plain-http wins")
        try await transport.shutdown()

        // No folder: plain HTTP to a TLS port; Go's 400 becomes advice naming the folder.
        let bareTransport = HTTPClientTransport(trust: TLSTrust(directories: [temp.path("empty").path]))
        let bare = RegistryClient(configuration: configuration, transport: bareTransport)
        #expect(bare.usesPlainHTTP(registry.host))
        do {
            _ = try await bare.fetchManifest(missing)
            Issue.record("plain HTTP to a TLS registry answered")
        } catch let error as OCIError {
            let text = "\(error)"
            #expect(text.contains("HTTP 400: the registry speaks HTTPS, and this went over plain HTTP"), "\(text)")
            #expect(text.contains("a certs.d folder named \(registry.host) holding its CA"), "\(text)")
        }
        try await bareTransport.shutdown()
    }

    @Test("connected by name, the certificate must name the host: an address entry alone does not do (NIOSSL would take it)")
    func names() async throws {
        let temp = try TempDir("tls")
        // Issued for IP 127.0.0.1 only: fine for https://127.0.0.1, refused for https://localhost.
        let byAddress = try TestPKI(in: temp.path("address"))
        let registry = try TestRegistry.start(tls: .init(certificate: byAddress.serverCertificate, key: byAddress.serverKey))
        defer { registry.stop() }
        let certsD = try byAddress.certsD(
            "certs.d", folder: "localhost:\(registry.port)", [("ca.crt", byAddress.serverCA)])
        _ = try byAddress.certsD("certs.d", folder: registry.host, [("ca.crt", byAddress.serverCA)])
        let transport = HTTPClientTransport(trust: TLSTrust(directories: [certsD]))
        #expect(try await get(transport, "https://\(registry.host)/v2/") == 200)
        let error = await failure(transport, "https://localhost:\(registry.port)/v2/")
        #expect(error?.retryable == false)
        #expect(
            error?.detail == "TLS: the certificate of localhost does not name localhost (only IP addresses or other names)", "\(error?.detail ?? "")")
        try await transport.shutdown()

        // Issued for DNS localhost only: fine by that name, refused for the bare address.
        let byName = try TestPKI(in: temp.path("name"), serverNames: "DNS:localhost")
        let named = try TestRegistry.start(tls: .init(certificate: byName.serverCertificate, key: byName.serverKey))
        defer { named.stop() }
        let namedD = try byName.certsD("certs.d", folder: "localhost:\(named.port)", [("ca.crt", byName.serverCA)])
        _ = try byName.certsD("certs.d", folder: named.host, [("ca.crt", byName.serverCA)])
        let second = HTTPClientTransport(trust: TLSTrust(directories: [namedD]))
        #expect(try await get(second, "https://localhost:\(named.port)/v2/") == 200)
        let bare = await failure(second, "https://\(named.host)/v2/")
        #expect(bare?.retryable == false)
        #expect(bare?.detail == "TLS: the certificate of \(named.host) is not issued for 127.0.0.1", "\(bare?.detail ?? "")")
        try await second.shutdown()
    }

    @Test("dNSName matching: exact and case-blind, trailing dot, a wildcard for the first label only, never over a bare suffix")
    func dnsNameMatching() {
        #expect(PeerNameCheck.matches(dnsName: "ghcr.io", host: "GHCR.io"))
        #expect(PeerNameCheck.matches(dnsName: "ghcr.io.", host: "ghcr.io"))
        #expect(PeerNameCheck.matches(dnsName: "*.example.com", host: "registry.example.com"))
        #expect(!PeerNameCheck.matches(dnsName: "*.example.com", host: "a.registry.example.com"))
        #expect(!PeerNameCheck.matches(dnsName: "*.example.com", host: "example.com"))
        #expect(!PeerNameCheck.matches(dnsName: "*.com", host: "example.com"))
        #expect(!PeerNameCheck.matches(dnsName: "registry.example.com", host: "evil.example.com"))
        #expect(!PeerNameCheck.matches(dnsName: "127.0.0.1", host: "localhost"))
    }

    @Test("a registry that requires a client certificate gets the one in certs.d (NAME.cert, NAME.key), and refuses a client without")
    func clientCertificate() async throws {
        let temp = try TempDir("tls")
        let pki = try TestPKI(in: temp.url)
        let registry = try TestRegistry.start(tls: .init(certificate: pki.serverCertificate, key: pki.serverKey, clientCA: pki.clientCA))
        defer { registry.stop() }
        let url = "https://\(registry.host)/v2/"
        let withClient = try pki.certsD(
            "with", folder: registry.host,
            [("ca.crt", pki.serverCA), ("client.cert", pki.clientCertificate), ("client.key", pki.clientKey)])
        let transport = HTTPClientTransport(trust: TLSTrust(directories: [withClient]))
        #expect(try await get(transport, url) == 200)
        try await transport.shutdown()

        let without = try pki.certsD("without", folder: registry.host, [("ca.crt", pki.serverCA)])
        let bare = HTTPClientTransport(trust: TLSTrust(directories: [without]))
        await #expect(throws: TransportError.self) { _ = try await get(bare, url) }
        try await bare.shutdown()
    }

    @Test("broken certs.d contents are named and not retried: a .cert without its .key, a .crt that is not PEM, an oversized file")
    func brokenFolders() async throws {
        let temp = try TempDir("tls")
        let pki = try TestPKI(in: temp.url)
        let notPEM = temp.path("not-pem")
        try Data("this is not a certificate\n".utf8).write(to: notPEM)
        let huge = temp.path("huge")
        try Data(count: TLSTrust.maximumFileSize + 1).write(to: huge)
        let cases: [(name: String, files: [(String, String)], says: String)] = [
            ("nokey", [("ca.crt", pki.serverCA), ("client.cert", pki.clientCertificate)], "has no key"),
            ("notpem", [("ca.crt", notPEM.path)], "holds no PEM certificate"),
            ("huge", [("ca.crt", huge.path)], "is larger than"),
        ]
        for c in cases {
            let root = try pki.certsD("d-\(c.name)", folder: "127.0.0.1:4443", c.files)
            let transport = HTTPClientTransport(trust: TLSTrust(directories: [root]))
            // Refused while the context is made: nothing listens on the port, nothing is dialled.
            let error = await failure(transport, "https://127.0.0.1:4443/v2/")
            #expect(error?.retryable == false)
            #expect(error?.detail.contains(c.says) == true, "\(c.name): \(error?.detail ?? "")")
            #expect(error?.detail.contains(root) == true, "\(c.name): \(error?.detail ?? "")")
            try await transport.shutdown()
        }
    }

    @Test("folder names: HOST:PORT, HOST alone for 443, [ADDR]:PORT for IPv6; a host that could climb out names none")
    func folderNames() {
        #expect(TLSTrust.folderName(host: "127.0.0.1", port: 5000) == "127.0.0.1:5000")
        #expect(TLSTrust.folderName(host: "ghcr.io", port: 443) == "ghcr.io")
        #expect(TLSTrust.folderName(host: "::1", port: 5000) == "[::1]:5000")
        #expect(TLSTrust.folderName(host: "..", port: 443) == nil)
        #expect(TLSTrust.folderName(host: "a/b", port: 443) == nil)
        #expect(TLSTrust.folderName(host: "", port: 443) == nil)
        // The port a registry name carries, which picks the folder a loopback registry is looked up by.
        #expect(RegistryClient.hostAndPort(of: "127.0.0.1:5000") == ("127.0.0.1", 5000))
        #expect(RegistryClient.hostAndPort(of: "[::1]:5000") == ("::1", 5000))
        #expect(RegistryClient.hostAndPort(of: "[::1]") == ("::1", nil))
        #expect(RegistryClient.hostAndPort(of: "localhost") == ("localhost", nil))
    }
}

/// The real transport, with `https://registry.test/…` sent to `https://127.0.0.1:<port>/…`: a
/// name the client treats as remote (HTTPS, retries by the policy), served by a local registry.
private struct ReroutingTransport: RegistryTransport {
    let port: Int
    let inner = HTTPClientTransport(trust: TLSTrust(directories: []))

    func send(_ request: TransportRequest) async throws -> TransportResponse {
        var rerouted = request
        let text = request.url.absoluteString.replacingOccurrences(of: "https://registry.test/", with: "https://127.0.0.1:\(port)/")
        rerouted.url = URL(string: text)!
        return try await inner.send(rerouted)
    }
}
