// Unit tier: references, digests, challenges, credentials, retry policy, the upload state
// machine, Ollama names, release tags. No network (one test connects to a closed loopback port).
import Foundation
import Testing
import UnisonCore
import UnisonTestSupport

@testable import UnisonOCI

@Suite("references and digests", .tags(.unit))
struct ReferenceTests {
    @Test(
        "valid references parse with Docker Hub defaults",
        arguments: [
            ("127.0.0.1:5000/team/app:v1", "127.0.0.1:5000", "team/app", "v1", nil),
            ("ghcr.io/project-unisonos/unison-auth:edge-main", "ghcr.io", "project-unisonos/unison-auth", "edge-main", nil),
            ("ubuntu:24.04", "docker.io", "library/ubuntu", "24.04", nil),
            ("ubuntu", "docker.io", "library/ubuntu", nil, nil),
            ("ollama/ollama:0.5.7", "docker.io", "ollama/ollama", "0.5.7", nil),
            ("docker://localhost/a/b_c__d--e.f:T_1", "localhost", "a/b_c__d--e.f", "T_1", nil),
            ("index.docker.io/library/redis:7", "docker.io", "library/redis", "7", nil),
            ("[::1]:5000/x:y", "[::1]:5000", "x", "y", nil),
            (
                "ghcr.io/org/repo:tag@sha256:" + String(repeating: "a", count: 64), "ghcr.io", "org/repo", "tag",
                "sha256:" + String(repeating: "a", count: 64)
            ),
        ] as [(String, String, String, String?, String?)])
    func validReferences(text: String, registry: String, repository: String, tag: String?, digest: String?) throws {
        let ref = try ImageReference(parsing: text)
        #expect(ref.registry == registry)
        #expect(ref.repository == repository)
        #expect(ref.tag?.value == tag)
        #expect(ref.digest?.description == digest)
    }

    @Test(
        "invalid references are refused with the reason",
        arguments: [
            "", "app/UPPER", "127.0.0.1:5000/Team/app", "host:99999/app:v1", "app:-bad", "app:" + String(repeating: "t", count: 129),
            "app@sha256:abc", "app@md5:" + String(repeating: "a", count: 32), "a//b", "a/b/", "-a/b", "a/b-", "a/b..c", "a/b___c",
        ])
    func invalidReferences(text: String) {
        #expect(throws: OCIError.self) { _ = try ImageReference(parsing: text) }
    }

    @Test("oci:DIR[:TAG] names a layout; anything else a registry")
    func locations() throws {
        guard case let .layout(l) = try ImageLocation(parsing: "oci:/tmp/x:v1") else { Issue.record("not a layout"); return }
        #expect(l.directory.path == "/tmp/x")
        #expect(l.tag?.value == "v1")
        guard case let .layout(bare) = try ImageLocation(parsing: "oci:rel/dir") else { Issue.record("not a layout"); return }
        #expect(bare.tag == nil)
        #expect(bare.directory.path.hasSuffix("rel/dir"))
        guard case .registry = try ImageLocation(parsing: "127.0.0.1:5000/a:b") else { Issue.record("not a registry"); return }
        #expect(throws: OCIError.self) { _ = try ImageLocation(parsing: "oci:") }
        #expect(throws: OCIError.self) { _ = try ImageLocation(parsing: "oci:/x:bad tag") }
    }

    @Test("digests: only registered algorithms with exact lowercase hex")
    func digests() throws {
        let empty = Digest.sha256(of: Data())
        #expect(empty.description == "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(Digest(empty.description) == empty)
        #expect(Digest("sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855") == nil)
        #expect(Digest("sha256:e3b0") == nil)
        #expect(Digest("sha1:" + String(repeating: "a", count: 40)) == nil)
        #expect(Digest("sha512:" + String(repeating: "0", count: 128)) != nil)
        #expect(empty.dashed == "sha256-e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(Descriptor.empty.digest.description == "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a")
        var h = DigestHasher(.sha256)
        h.update(Data("ab".utf8)); h.update(Data("c".utf8))
        #expect(h.finalize() == Digest.sha256(of: Data("abc".utf8)))
        #expect(h.count == 3)
        let sha512 = RegistryClient.digest(Data("abc".utf8), .sha512)
        #expect(sha512.hex.hasPrefix("ddaf35a193617aba"))
    }

    @Test("the referrers fallback tag is <alg>-<hex>")
    func referrersTag() throws {
        let d = Digest.sha256(of: Data("x".utf8))
        #expect(RegistryClient.referrersTag(for: d).value == "sha256-\(d.hex)")
        let long = try Digest.parse("sha512:" + String(repeating: "b", count: 128))
        #expect(RegistryClient.referrersTag(for: long).value == "sha512-" + String(repeating: "b", count: 64))
    }

    @Test("manifest documents: type from the body, else the header; schema 1 refused")
    func manifestDocuments() throws {
        let index = Data(#"{"schemaVersion":2,"manifests":[]}"#.utf8)
        let doc = try ManifestDocument(bytes: index, contentType: nil, reference: "r")
        #expect(doc.mediaType == MediaType.ociIndex)
        let docker = Data(
            #"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"a/b","digest":"\#(Descriptor.empty.digest)","size":2},"layers":[]}"#
                .utf8)
        let parsed = try ManifestDocument(bytes: docker, contentType: "application/vnd.oci.image.manifest.v1+json", reference: "r")
        #expect(parsed.mediaType == MediaType.dockerManifest)
        #expect(parsed.digest == Digest.sha256(of: docker))
        #expect(throws: OCIError.self) {
            _ = try ManifestDocument(bytes: Data(#"{"schemaVersion":1,"fsLayers":[]}"#.utf8), contentType: nil, reference: "r")
        }
        #expect(throws: OCIError.self) { _ = try ManifestDocument(bytes: Data("not json".utf8), contentType: nil, reference: "r") }
    }
}

@Suite("auth, credentials, retries", .tags(.interop))
struct AuthTests {
    @Test(
        "WWW-Authenticate challenges",
        arguments: [
            (
                #"Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:org/app:pull,push""#, "bearer", "https://ghcr.io/token",
                "ghcr.io", "repository:org/app:pull,push"
            ),
            (#"Basic realm="registry""#, "basic", "registry", nil, nil),
            (
                #"bearer realm=https://auth.docker.io/token, service="registry.docker.io""#, "bearer", "https://auth.docker.io/token",
                "registry.docker.io", nil
            ),
            (#"Bearer realm="a\"b",scope="x y""#, "bearer", #"a"b"#, nil, "x y"),
        ] as [(String, String, String?, String?, String?)])
    func challenges(header: String, scheme: String, realm: String?, service: String?, scope: String?) throws {
        let c = try #require(AuthChallenge(header: header))
        #expect(c.scheme.rawValue == scheme)
        #expect(c.realm == realm)
        #expect(c.service == service)
        #expect(c.scope == scope)
    }

    @Test("credentials: explicit (for their registry), then environment, then GITHUB_TOKEN for ghcr.io, then docker config")
    func credentialOrder() throws {
        let tmp = try TempDir()
        let config = tmp.path("config.json")
        let auth = Data("cfguser:cfgpass".utf8).base64EncodedString()
        try Data(#"{"auths":{"https://index.docker.io/v1/":{"auth":"\#(auth)"},"127.0.0.1:5000":{"auth":"\#(auth)"}}}"#.utf8).write(to: config)

        let dockerOnly = CredentialSource(environment: [:], dockerConfig: config)
        #expect(dockerOnly.credential(for: "docker.io")?.username == "cfguser")
        #expect(dockerOnly.credential(for: "127.0.0.1:5000")?.password == "cfgpass")
        #expect(dockerOnly.credential(for: "ghcr.io") == nil)

        let github = CredentialSource(environment: ["GITHUB_TOKEN": "ghs_x", "GITHUB_ACTOR": "bot"], dockerConfig: config)
        #expect(github.credential(for: "ghcr.io") == RegistryCredential(username: "bot", password: "ghs_x"))
        #expect(github.credential(for: "quay.io") == nil)

        let env = CredentialSource(
            environment: ["UNISON_REGISTRY_USER": "u", "UNISON_REGISTRY_PASSWORD": "p", "GITHUB_TOKEN": "t"], dockerConfig: config)
        #expect(env.credential(for: "ghcr.io")?.password == "t")  // unscoped environment credentials go nowhere
        let envFor = CredentialSource(
            for: "ghcr.io", environment: ["UNISON_REGISTRY_USER": "u", "UNISON_REGISTRY_PASSWORD": "p", "GITHUB_TOKEN": "t"], dockerConfig: config)
        #expect(envFor.credential(for: "ghcr.io")?.username == "u")
        let explicit = CredentialSource(
            explicit: RegistryCredential(username: "flag", password: "f"),
            environment: ["UNISON_REGISTRY_USER": "u", "UNISON_REGISTRY_PASSWORD": "p"], dockerConfig: config)
        #expect(explicit.credential(for: "docker.io")?.username == "flag")

        // Scoped: flags go to their registry only; elsewhere the other sources answer.
        let scoped = CredentialSource(
            explicit: RegistryCredential(username: "flag", password: "f"), for: "127.0.0.1:5000",
            environment: [:], dockerConfig: config)
        #expect(scoped.credential(for: "127.0.0.1:5000")?.username == "flag")
        #expect(scoped.credential(for: "docker.io")?.username == "cfguser")
        #expect(scoped.credential(for: "ghcr.io") == nil)
        let hubScoped = CredentialSource(
            explicit: RegistryCredential(username: "flag", password: "f"), for: "index.docker.io",
            environment: [:], dockerConfig: config)
        #expect(hubScoped.credential(for: "docker.io")?.username == "flag")
        let envScoped = CredentialSource(
            environment: [
                "UNISON_REGISTRY_USER": "u", "UNISON_REGISTRY_PASSWORD": "p",
                "UNISON_REGISTRY_HOST": "ghcr.io",
            ], dockerConfig: config)
        #expect(envScoped.credential(for: "ghcr.io")?.username == "u")
        #expect(envScoped.credential(for: "quay.io") == nil)
        #expect(envScoped.credential(for: "127.0.0.1:5000")?.username == "cfguser")
        #expect("\(RegistryCredential(username: "me", password: "hunter2"))" == "me:<redacted>")
        #expect(CredentialSource(environment: ["HOME": tmp.url.path]).dockerConfig?.path == tmp.path(".docker/config.json").path)
    }

    @Test("a registry that refuses connections: the error names the reference, the tries and the refusal plainly")
    func refusedConnection() async throws {
        // Bind a port, then close it: nothing listens there afterwards.
        let port = try #require(
            Int(
                try SystemProcessRunner().run([
                    "python3", "-c",
                    "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1]); s.close()",
                ])
                .stdoutString.trimmingCharacters(in: .whitespacesAndNewlines)))
        var retry = RetryPolicy.standard
        retry.attempts = 2
        retry.initialBackoff = .milliseconds(10)
        let client = RegistryClient(configuration: .init(credentials: .none, retry: retry))
        let ref = try ImageReference(parsing: "127.0.0.1:\(port)/team/app:v1")
        do {
            _ = try await client.fetchManifest(ref)
            Issue.record("a refused connection succeeded")
        } catch let error as OCIError {
            let text = "\(error)"
            #expect(text.contains("127.0.0.1:\(port)/team/app:v1"), "\(text)")
            #expect(text.contains("after 2 attempts"), "\(text)")
            #expect(text.contains("connection refused (errno 111)"), "\(text)")
            #expect(!text.contains("error set"), "\(text)")
        }
    }

    @Test("retry policy: exponential, capped, Retry-After honoured up to a limit; retryable statuses")
    func retryPolicy() {
        let p = RetryPolicy(attempts: 5, initialBackoff: .milliseconds(100), maxBackoff: .seconds(1), maxRetryAfter: .seconds(30))
        #expect(p.delay(afterAttempt: 1) == .milliseconds(100))
        #expect(p.delay(afterAttempt: 3) == .milliseconds(400))
        #expect(p.delay(afterAttempt: 9) == .seconds(1))
        #expect(p.delay(afterAttempt: 1, retryAfter: .seconds(5)) == .seconds(5))
        #expect(p.delay(afterAttempt: 1, retryAfter: .seconds(500)) == .seconds(30))
        #expect([408, 429, 500, 502, 503, 504].allSatisfy(RetryPolicy.isRetryable(status:)))
        #expect(![400, 401, 403, 404, 416].contains(where: RetryPolicy.isRetryable(status:)))
        #expect(RetryPolicy.retryAfter("7") == .seconds(7))
        #expect(RetryPolicy.retryAfter("Wed, 21 Oct 2015 07:28:00 GMT") == nil)
        #expect(RetryPolicy(attempts: 0, initialBackoff: .zero, maxBackoff: .zero).attempts == 1)
    }

    @Test("plain HTTP only for loopback unless asked; headers parsed")
    func endpointsAndHeaders() throws {
        let client = testClient()
        #expect(client.baseURL("127.0.0.1:5000").absoluteString == "http://127.0.0.1:5000")
        #expect(client.baseURL("localhost:5000").scheme == "http")
        #expect(client.baseURL("ghcr.io").absoluteString == "https://ghcr.io")
        #expect(client.baseURL("docker.io").absoluteString == "https://registry-1.docker.io")
        #expect(client.baseURL("10.0.0.1:5000").scheme == "https")
        #expect(RegistryClient(configuration: .init(plainHTTP: true)).baseURL("reg.lan:5000").scheme == "http")
        #expect(RegistryClient.rangeEnd("0-1023") == 1023)
        #expect(RegistryClient.rangeEnd("0-0") == nil)
        #expect(RegistryClient.rangeEnd("bytes=0-9") == 9)
        #expect(RegistryClient.rangeEnd("5-9") == nil)
        #expect(RegistryClient.contentRangeStart("bytes 100-199/1000") == 100)
        let base = URL(string: "http://r/v2/a/tags/list?n=2")!
        #expect(
            RegistryClient.nextLink(#"</v2/a/tags/list?n=2&last=b>; rel="next""#, base: base)?.absoluteString == "http://r/v2/a/tags/list?n=2&last=b")
        #expect(RegistryClient.nextLink(nil, base: base) == nil)
        let loc = URL(string: "http://r/v2/a/blobs/uploads/u?_state=x%3D")!
        #expect(
            RegistryClient.appendingDigest(loc, Descriptor.empty.digest).absoluteString
                == "http://r/v2/a/blobs/uploads/u?_state=x%3D&digest=\(Descriptor.empty.digest)")
        let details = RegistryErrorDetail.parse(
            Data(#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"x"}}]}"#.utf8))
        #expect(details == [RegistryErrorDetail(code: "MANIFEST_UNKNOWN", message: "manifest unknown", detail: #"{"Tag":"x"}"#)])
        #expect(RegistryErrorDetail.parse(Data("<html>".utf8)) == nil)
    }
}

@Suite("blob upload state machine", .tags(.unit))
struct UploadStateMachineTests {
    let loc = URL(string: "http://r/v2/a/blobs/uploads/1")!
    let loc2 = URL(string: "http://r/v2/a/blobs/uploads/1?s=2")!

    @Test("small blobs go in one PUT after the POST")
    func monolithic() {
        var m = BlobUploadStateMachine(size: 100, chunkSize: 1000, monolithic: false, maxFailures: 3)
        #expect(m.nextAction == .start)
        m.sessionOpened(location: loc)
        #expect(m.nextAction == .putWhole(location: loc))
        m.committed()
        #expect(m.nextAction == .finished)
    }

    @Test("large blobs go in chunks, then a commit without body")
    func chunked() {
        var m = BlobUploadStateMachine(size: 250, chunkSize: 100, monolithic: false, maxFailures: 3)
        m.sessionOpened(location: loc)
        #expect(m.nextAction == .sendChunk(location: loc, range: 0..<100))
        m.chunkAccepted(location: loc2, sent: 0..<100, rangeEnd: 99)
        #expect(m.nextAction == .sendChunk(location: loc2, range: 100..<200))
        m.chunkAccepted(location: loc2, sent: 100..<200, rangeEnd: nil)
        #expect(m.nextAction == .sendChunk(location: loc2, range: 200..<250))
        m.chunkAccepted(location: loc2, sent: 200..<250, rangeEnd: 249)
        #expect(m.nextAction == .commit(location: loc2))
    }

    @Test("after a failure the registry's offset decides where to resume")
    func resumeFromReportedOffset() {
        var m = BlobUploadStateMachine(size: 300, chunkSize: 100, monolithic: false, maxFailures: 3)
        m.sessionOpened(location: loc)
        m.chunkAccepted(location: loc, sent: 0..<100, rangeEnd: 99)
        m.transferFailed("dropped")
        #expect(m.nextAction == .queryStatus(location: loc))
        // The registry got the chunk whose answer was lost.
        m.statusReported(location: loc2, rangeEnd: 199)
        #expect(m.nextAction == .sendChunk(location: loc2, range: 200..<300))
        // A registry reporting more than the blob is an error, not a loop.
        m.statusReported(location: loc2, rangeEnd: 400)
        if case .fail = m.nextAction {} else { Issue.record("expected failure, got \(m.nextAction)") }
    }

    @Test("failures without progress are bounded; progress resets the count")
    func boundedFailures() {
        var m = BlobUploadStateMachine(size: 300, chunkSize: 100, monolithic: false, maxFailures: 2)
        m.sessionOpened(location: loc)
        m.transferFailed("x")
        m.statusReported(location: loc, rangeEnd: nil)
        m.chunkAccepted(location: loc, sent: 0..<100, rangeEnd: 99)
        #expect(m.failures == 0)
        m.transferFailed("x")
        m.statusReported(location: loc, rangeEnd: 99)
        m.transferFailed("y")
        if case let .fail(reason) = m.nextAction { #expect(reason == "y") } else { Issue.record("expected failure") }
    }

    @Test("a lost session restarts a bounded number of times; a lost commit answer is checked")
    func restartsAndCommit() {
        var m = BlobUploadStateMachine(size: 10, chunkSize: 100, monolithic: false, maxFailures: 5, maxRestarts: 1)
        m.sessionOpened(location: loc)
        m.sessionLost()
        #expect(m.nextAction == .start)
        m.sessionOpened(location: loc)
        m.sessionLost()
        if case .fail = m.nextAction {} else { Issue.record("expected failure") }

        var c = BlobUploadStateMachine(size: 200, chunkSize: 100, monolithic: false, maxFailures: 5)
        c.sessionOpened(location: loc)
        c.chunkAccepted(location: loc, sent: 0..<100, rangeEnd: 99)
        c.chunkAccepted(location: loc, sent: 100..<200, rangeEnd: 199)
        c.commitFailed("dropped")
        #expect(c.nextAction == .checkExists(location: loc))
        c.existenceChecked(false)
        #expect(c.nextAction == .queryStatus(location: loc))
        c.statusReported(location: loc, rangeEnd: 199)
        #expect(c.nextAction == .commit(location: loc))
        c.commitFailed("dropped")
        c.existenceChecked(true)
        #expect(c.nextAction == .finished)
    }

    @Test("--monolithic sends even large blobs in one PUT")
    func forcedMonolithic() {
        var m = BlobUploadStateMachine(size: 10_000, chunkSize: 100, monolithic: true, maxFailures: 3)
        m.sessionOpened(location: loc)
        #expect(m.nextAction == .putWhole(location: loc))
    }
}

@Suite("Ollama names, release tags, artifacts", .tags(.unit))
struct NamingTests {
    @Test(
        "model names and their store paths",
        arguments: [
            ("qwen2.5:1.5b", nil, "registry.ollama.ai/library/qwen2.5:1.5b", "manifests/registry.ollama.ai/library/qwen2.5/1.5b"),
            ("tiny", "127.0.0.1:5000", "127.0.0.1:5000/library/tiny:latest", "manifests/127.0.0.1:5000/library/tiny/latest"),
            ("Team/Model:Q4_K_M", "127.0.0.1:5000", "127.0.0.1:5000/team/model:Q4_K_M", "manifests/127.0.0.1:5000/team/model/Q4_K_M"),
            ("example.com/ns/m:t", nil, "example.com/ns/m:t", "manifests/example.com/ns/m/t"),
        ] as [(String, String?, String, String)])
    func modelNames(text: String, host: String?, full: String, path: String) throws {
        let name = try ModelName(parsing: text, host: host)
        #expect(name.description == full)
        #expect(name.manifestPath == path)
    }

    @Test("bad model names", arguments: ["", "a/b/c/d", "bad name", "m:bad tag", "ns.dot/m"])
    func badModelNames(text: String) {
        #expect(throws: OCIError.self) { _ = try ModelName(parsing: text) }
    }

    @Test("layer kinds from file names")
    func layerKinds() {
        #expect(OllamaLayerKind(fileName: "qwen.gguf") == .model)
        #expect(OllamaLayerKind(fileName: "projector.gguf") == .projector)
        #expect(OllamaLayerKind(fileName: "params.json") == .params)
        #expect(OllamaLayerKind(fileName: "LICENSE") == .license)
        #expect(OllamaLayerKind(fileName: "notes.txt") == nil)
        #expect(OllamaLayerKind(mediaType: "application/vnd.ollama.image.template") == .template)
        #expect(OllamaLayerKind.adapter.mediaType == "application/vnd.ollama.image.adapter")
    }

    @Test("registry endpoints from URLs or hosts")
    func endpoints() throws {
        #expect(try RegistryEndpoint(parsing: "http://127.0.0.1:5000/") == RegistryEndpoint(host: "127.0.0.1:5000", plain: true))
        #expect(try RegistryEndpoint(parsing: "https://registry.ollama.ai/v2/").host == "registry.ollama.ai")
        #expect(throws: OCIError.self) { _ = try RegistryEndpoint(parsing: "http://bad host") }
    }

    @Test("artifact file arguments: PATH[:MEDIATYPE]")
    func artifactFiles() {
        let typed = ArtifactFile(argument: "/tmp/disk.qcow2:application/vnd.unisonos.disk.qcow2")
        #expect(typed.url.path == "/tmp/disk.qcow2")
        #expect(typed.mediaType == "application/vnd.unisonos.disk.qcow2")
        #expect(typed.title == "disk.qcow2")
        let plain = ArtifactFile(argument: "/tmp/a:b")
        #expect(plain.url.path == "/tmp/a:b")
        #expect(plain.mediaType == MediaType.octetStream)
    }

    @Test(
        "release files get their media type from the name",
        arguments: [
            ("unisonos-baremetal-0.5.0.iso", "application/vnd.efi.iso"),
            ("unisonos-linux-vm-0.5.0.qcow2", "application/vnd.unisonos.disk.qcow2"),
            ("unisonos-linux-vm-0.5.0.VMDK", "application/vnd.unisonos.disk.vmdk"),
            ("unisonos-linux-vm-0.5.0.raw", "application/vnd.efi.img"),
            ("unisonos-wsl2-0.5.0.tar.gz", "application/gzip"), ("unisonos-wsl2-0.5.0.wsl", "application/gzip"),
            ("unisonos-manifest-v0.5.0.json", "application/json"), ("SHA256SUMS-v0.5.0.txt", "text/plain"),
            ("unisonos-baremetal-0.5.0.iso.sha256", "text/plain"), ("notes", MediaType.octetStream),
        ])
    func releaseFileMediaTypes(name: String, type: String) {
        #expect(ArtifactFile.mediaType(forName: name) == type)
        #expect(ArtifactFile(argument: "/out/\(name)").mediaType == type)
        #expect(ArtifactFile(argument: "/out/\(name):application/x-custom").mediaType == "application/x-custom")
    }
}

extension RegistryEndpoint {
    init(host: String, plain: Bool) {
        self = try! RegistryEndpoint(parsing: (plain ? "http://" : "https://") + host)
    }
}
