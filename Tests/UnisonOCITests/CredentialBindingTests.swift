// Registry credentials are bound to the registry's origin (scheme, host, port): an upload
// `Location` or a redirect elsewhere carries none, a 401 from elsewhere is not answered with
// them, and environment credentials go to one registry only.
import Foundation
import Testing
import UnisonTestSupport

@testable import UnisonOCI

/// A transport in memory: the registry `https://registry.test` wants Basic credentials and
/// hands out `location` for uploads; every request is recorded with its Authorization.
final class RecordingTransport: RegistryTransport, @unchecked Sendable {
    struct Seen { var method: HTTPMethod; var url: URL; var authorization: String? }
    private let lock = NSLock()
    private var seen: [Seen] = []
    let location: String
    let origin = "https://registry.test"

    init(location: String) { self.location = location }

    var requests: [Seen] { lock.withLock { seen } }

    func send(_ request: TransportRequest) async throws -> TransportResponse {
        lock.withLock { seen.append(Seen(method: request.method, url: request.url, authorization: request.headers["Authorization"])) }
        let challenge = ResponseHeaders([("WWW-Authenticate", #"Basic realm="test""#)])
        let url = request.url.absoluteString
        guard request.headers["Authorization"] != nil else { return TransportResponse(status: 401, headers: challenge, body: .empty) }
        if url.hasPrefix(origin + "/v2/"), request.method == .POST {
            return TransportResponse(status: 202, headers: ResponseHeaders([("Location", location)]), body: .empty)
        }
        if request.method == .PUT { return TransportResponse(status: 201, headers: ResponseHeaders([]), body: .empty) }
        return TransportResponse(status: 404, headers: ResponseHeaders([]), body: .empty)
    }
}

@Suite("Registry credentials stay with their origin", .tags(.interop))
struct CredentialBindingTests {
    static let credential = RegistryCredential(username: HostileRegistry.user, password: HostileRegistry.password)

    static func blob(_ size: Int) -> (Data, Descriptor) {
        let data = TestImage.noise(size, seed: 7)
        return (data, Descriptor(mediaType: MediaType.octetStream, digest: Digest.sha256(of: data), size: Int64(size)))
    }

    @Test(
        "an upload Location on another port gets no credentials, and its 401 is not answered with them",
        arguments: [true, false])
    func foreignLocation(monolithic: Bool) async throws {
        let hostile = try HostileRegistry()
        defer { hostile.stop() }
        let client = testClient(credential: Self.credential, chunkSize: 1000, attempts: 2, monolithic: monolithic)
        let (data, descriptor) = Self.blob(2500)
        let ref = try ImageReference(parsing: "\(hostile.host)/team/app:v1")
        await #expect(throws: OCIError.self) {
            try await client.pushBlob(.data(data), descriptor: descriptor, to: ref)
        }
        let log = try hostile.log()
        let registry = log.filter { $0.listener == "registry" }
        let collector = log.filter { $0.listener == "collector" }
        // The registry itself did get the credentials (so the test can tell the difference)…
        #expect(
            registry.contains {
                $0.authorization == "Basic " + Data("\(HostileRegistry.user):\(HostileRegistry.password)".utf8).base64EncodedString()
            })
        // …and the other origin was asked, but never with them.
        #expect(!collector.isEmpty)
        #expect(collector.allSatisfy { $0.authorization == nil }, "\(collector.map { "\($0.method) \($0.path) \($0.authorization ?? "-")" })")
    }

    @Test(
        "same host over http, another port, or another host: no Authorization; the registry's own origin: Authorization",
        arguments: [
            ("http://registry.test/upload/1", false), ("https://registry.test:8443/upload/1", false),
            ("https://evil.test/upload/1", false), ("//evil.test/upload/1", false),
            ("https://registry.test/upload/1", true), ("/upload/1", true), ("https://REGISTRY.test:443/upload/1", true),
        ])
    func origins(location: String, credentialed: Bool) async throws {
        let transport = RecordingTransport(location: location)
        let client = RegistryClient(
            configuration: .init(
                credentials: CredentialSource(
                    explicit: Self.credential, for: "registry.test", environment: [:],
                    dockerConfig: URL(fileURLWithPath: "/nonexistent")),
                retry: RetryPolicy(attempts: 1, initialBackoff: .milliseconds(1), maxBackoff: .milliseconds(1)),
                monolithicUploads: true), transport: transport)
        let (data, descriptor) = Self.blob(100)
        let ref = try ImageReference(parsing: "registry.test/team/app:v1")
        _ = try? await client.pushBlob(.data(data), descriptor: descriptor, to: ref, knownMissing: true)
        let puts = transport.requests.filter { $0.method == .PUT }
        #expect(!puts.isEmpty)
        if credentialed {
            #expect(puts.contains { $0.authorization != nil })
        } else {
            #expect(puts.allSatisfy { $0.authorization == nil }, "\(puts.map { "\($0.url) \($0.authorization ?? "-")" })")
        }
    }

    @Test("environment credentials go to UNISON_REGISTRY_HOST, else to the command's registry, else nowhere")
    func environmentScoped() {
        let env = ["UNISON_REGISTRY_USER": "u", "UNISON_REGISTRY_PASSWORD": "p"]
        let none = URL(fileURLWithPath: "/nonexistent")
        let unscoped = CredentialSource(environment: env, dockerConfig: none)
        #expect(unscoped.credential(for: "ghcr.io") == nil)
        #expect(unscoped.credential(for: "127.0.0.1:5000") == nil)
        let command = CredentialSource(for: "127.0.0.1:5000", environment: env, dockerConfig: none)
        #expect(command.credential(for: "127.0.0.1:5000")?.username == "u")
        #expect(command.credential(for: "127.0.0.1:5001") == nil)
        #expect(command.credential(for: "ghcr.io") == nil)
        var hosted = env
        hosted["UNISON_REGISTRY_HOST"] = "ghcr.io"
        let named = CredentialSource(for: "127.0.0.1:5000", environment: hosted, dockerConfig: none)
        #expect(named.credential(for: "ghcr.io")?.username == "u")
        #expect(named.credential(for: "127.0.0.1:5000") == nil)
    }

    @Test(
        "plain HTTP only for localhost, 127.0.0.0/8 and ::1",
        arguments: [
            ("localhost", true), ("127.0.0.1", true), ("127.200.3.4", true), ("::1", true), ("[::1]", true),
            ("registry.localhost", false), ("localhost.evil.test", false), ("127.0.0.1.evil.test", false),
            ("127.0.0.256", false), ("128.0.0.1", false), ("ghcr.io", false),
        ])
    func loopback(host: String, expected: Bool) {
        #expect(RegistryClient.isLoopback(host: host) == expected)
    }
}
