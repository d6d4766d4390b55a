import Foundation
import Testing
import UnisonCore
@testable import UnisonRelease

/// The manifest and SHA256SUMS, the latter checked by `sha256sum -c`.
@Suite(.tags(.interop))
struct ReleaseFilesTests {
    static let digests = [
        "orchestrator": "sha256:" + String(repeating: "a", count: 64),
        "auth": "sha256:" + String(repeating: "b", count: 64),
        "storage": "sha256:" + String(repeating: "c", count: 64),
    ]
    static let tags = ["orchestrator": "v0.4.0", "auth": "v1.2.0", "storage": "v0.1.0"]
    static let commit = "0123456789abcdef0123456789abcdef01234567"

    static func artifacts() throws -> TempDir {
        let tmp = try TempDir("files")
        try Data("wsl rootfs\n".utf8).write(to: tmp.path("unisonos-wsl2-v0.5.0.tar.gz"))
        try Data(repeating: 7, count: 1_500_000).write(to: tmp.path("unisonos-linux-vm-v0.5.0.qcow2"))
        try Data("name with spaces".utf8).write(to: tmp.path("REASSEMBLE notes.txt"))
        try Data("hidden".utf8).write(to: tmp.path(".hidden"))
        try FileManager.default.createDirectory(at: tmp.path("subdir"), withIntermediateDirectories: true)
        return tmp
    }

    static func request(_ dir: URL, digests: [String: String] = digests, tags: [String: String] = tags) throws -> ManifestRequest {
        ManifestRequest(version: try #require(SemVer("v0.5.0")), commit: commit, digests: digests, serviceTags: tags,
                        artifactsDirectory: dir, sourceDateEpoch: 1_700_000_000)
    }

    @Test func manifestListsServicesModelsAndArtifacts() throws {
        let tmp = try Self.artifacts()
        let manifest = try ReleaseFiles.manifest(Self.request(tmp.url), spec: TestSpec.load())
        #expect(manifest.schema == "unisonos.release-manifest/v1")
        #expect(manifest.version == "v0.5.0")
        #expect(manifest.channel == "stable")
        #expect(manifest.created == "2023-11-14T22:13:20.000Z")
        #expect(manifest.services.map(\.reference) == [
            "ghcr.io/project-unisonos/unison-orchestrator:v0.4.0@sha256:" + String(repeating: "a", count: 64),
            "ghcr.io/project-unisonos/unison-auth:v1.2.0@sha256:" + String(repeating: "b", count: 64),
            "ghcr.io/project-unisonos/unison-storage:v0.1.0@sha256:" + String(repeating: "c", count: 64),
        ])
        #expect(manifest.artifacts.map(\.name) == ["REASSEMBLE notes.txt", "unisonos-linux-vm-v0.5.0.qcow2", "unisonos-wsl2-v0.5.0.tar.gz"])
        #expect(manifest.artifacts[1].size == 1_500_000)
        #expect(manifest.artifacts[2].sha256 == SHA256Hex.hex(Data("wsl rootfs\n".utf8)))
        #expect(manifest.modelPacks.map(\.name) == ["light", "default"])
        #expect(manifest.requirements.minRam == "4GB")
        #expect(manifest.infrastructure.first?.image == "docker.io/library/postgres:15")

        // Written, read back, and the same bytes a second time.
        let url = try ReleaseFiles.writeManifest(manifest, to: tmp.url)
        #expect(url.lastPathComponent == "unisonos-manifest-v0.5.0.json")
        let first = try Data(contentsOf: url)
        #expect(try JSONDecoder().decode(ReleaseManifest.self, from: first) == manifest)
        try ReleaseFiles.writeManifest(try ReleaseFiles.manifest(Self.request(tmp.url), spec: TestSpec.load()), to: tmp.url)
        #expect(try Data(contentsOf: url) == first)
    }

    @Test func manifestRefusesMissingOrBadDigests() throws {
        let tmp = try Self.artifacts()
        let spec = try TestSpec.load()
        var partial = Self.digests
        partial["auth"] = nil
        #expect(throws: ReleaseError.missingDigests(["auth"])) { _ = try ReleaseFiles.manifest(Self.request(tmp.url, digests: partial), spec: spec) }
        var bad = Self.digests
        bad["auth"] = "sha256:ABC"
        #expect(throws: ReleaseError.self) { _ = try ReleaseFiles.manifest(Self.request(tmp.url, digests: bad), spec: spec) }
        var unknown = Self.digests
        unknown["nope"] = Self.digests["auth"]
        #expect(throws: ReleaseError.unknownService("nope")) { _ = try ReleaseFiles.manifest(Self.request(tmp.url, digests: unknown), spec: spec) }
        #expect(throws: ReleaseError.missingServiceTags(["storage"])) {
            _ = try ReleaseFiles.manifest(Self.request(tmp.url, tags: ["orchestrator": "v1.0.0", "auth": "v1.0.0"]), spec: spec)
        }
    }

    @Test func checksumsPassSha256sumCheck() throws {
        let tmp = try Self.artifacts()
        try ReleaseFiles.writeManifest(try ReleaseFiles.manifest(Self.request(tmp.url), spec: TestSpec.load()), to: tmp.url)
        let (url, text) = try ReleaseFiles.checksums(directory: tmp.url, version: #require(SemVer("v0.5.0")))
        #expect(url.lastPathComponent == "SHA256SUMS-v0.5.0.txt")
        let names = text.split(separator: "\n").map { String($0.dropFirst(66)) }
        #expect(names == ["REASSEMBLE notes.txt", "unisonos-linux-vm-v0.5.0.qcow2", "unisonos-manifest-v0.5.0.json", "unisonos-wsl2-v0.5.0.tar.gz"])

        let ok = try SystemProcessRunner().run(["sha256sum", "-c", "--strict", url.lastPathComponent], workingDirectory: tmp.url)
        #expect(ok.status == 0, "\(ok.stderrString)")
        #expect(ok.stdoutString.split(separator: "\n").count == 4)
        #expect(ok.stdoutString.split(separator: "\n").allSatisfy { $0.hasSuffix(": OK") })

        // A changed artifact is caught by the independent tool.
        try Data("tampered\n".utf8).write(to: tmp.path("unisonos-wsl2-v0.5.0.tar.gz"))
        let bad = try SystemProcessRunner().run(["sha256sum", "-c", "--strict", url.lastPathComponent], workingDirectory: tmp.url)
        #expect(bad.status != 0)
        #expect(bad.stdoutString.contains("unisonos-wsl2-v0.5.0.tar.gz: FAILED"))
    }

    @Test func digestsFromAFileAndPairs() throws {
        let tmp = try TempDir("files")
        let file = tmp.path("digests.json")
        try Data(#"{"auth": "sha256:\#(String(repeating: "d", count: 64))", "storage": "sha256:x"}"#.utf8).write(to: file)
        let map = try ReleaseFiles.digests(pairs: ["storage=sha256:" + String(repeating: "e", count: 64)], file: file)
        #expect(map["auth"]?.hasSuffix("dddd") == true)
        #expect(map["storage"]?.hasSuffix("eeee") == true)   // pairs override the file
        #expect(throws: ReleaseError.self) { _ = try ReleaseFiles.digests(pairs: ["storage"], file: nil) }
        try Data("[1]".utf8).write(to: file)
        #expect(throws: ReleaseError.self) { _ = try ReleaseFiles.digests(pairs: [], file: file) }
    }

    @Test func githubOutputRoundTrips() throws {
        let outputs = [("tags", "a:1\na:2"), ("version", "1"), ("labels", "")]
        let text = GitHubOutput.render(outputs)
        #expect(text == GitHubOutput.render(outputs))     // reproducible delimiters
        let parsed = GitHubOutput.parse(text)
        #expect(parsed.map(\.name) == ["tags", "version", "labels"])
        #expect(parsed.map(\.value) == ["a:1\na:2", "1", ""])
    }
}
