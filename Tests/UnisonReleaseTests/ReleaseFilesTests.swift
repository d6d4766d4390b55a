import Foundation
import Testing
import UnisonCore
import UnisonTestSupport

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
        ManifestRequest(
            version: try #require(SemVer("v0.5.0")), commit: commit, digests: digests, serviceTags: tags,
            artifactsDirectory: dir, sourceDateEpoch: 1_700_000_000)
    }

    static let schemaURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("docs/schemas/unison.platform.release.manifest.v1.schema.json")

    /// Validates `manifest` with python3-jsonschema (Draft 2020-12) against our schema; returns the errors.
    static func schemaErrors(_ manifest: URL) throws -> String {
        let script = """
            import json, sys, jsonschema
            schema = json.load(open(sys.argv[1]))
            jsonschema.Draft202012Validator.check_schema(schema)
            errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(json.load(open(sys.argv[2]))), key=lambda e: list(e.path))
            print("\\n".join("/".join(map(str, e.path)) + ": " + e.message for e in errors))
            """
        let r = try SystemProcessRunner().run(["python3", "-c", script, schemaURL.path, manifest.path])
        guard r.status == 0 else { throw ReleaseError.unreadable(path: manifest.path, reason: r.stderrString) }
        return r.stdoutString.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func manifestInTheSchemaUnisonUpdatesReads() throws {
        let tmp = try Self.artifacts()
        let compose = tmp.path("compose.yaml")
        try Data("services: {}\n".utf8).write(to: compose)
        var request = try Self.request(tmp.url)
        request.composeFiles = [compose]
        try FileManager.default.removeItem(at: compose)
        #expect(throws: ReleaseError.self) { _ = try ReleaseFiles.manifest(request, spec: TestSpec.load()) }
        let keep = try TempDir("compose")
        let composeFile = keep.path("compose.yaml")
        try Data("services: {}\n".utf8).write(to: composeFile)
        request.composeFiles = [composeFile]
        let manifest = try ReleaseFiles.manifest(request, spec: TestSpec.load())
        #expect(manifest.schemaVersion == "unison.platform.release.manifest.v1")
        #expect(manifest.release.version == "v0.5.0")
        #expect(manifest.release.channel == "stable")
        #expect(manifest.release.builtAt == "2023-11-14T22:13:20Z")
        #expect(manifest.release.git == .init(repo: "unison-platform", commit: Self.commit))
        #expect(
            manifest.compose.imagesPinned == [
                "orchestrator": "ghcr.io/project-unisonos/unison-orchestrator:v0.4.0@sha256:" + String(repeating: "a", count: 64),
                "auth": "ghcr.io/project-unisonos/unison-auth:v1.2.0@sha256:" + String(repeating: "b", count: 64),
                "storage": "ghcr.io/project-unisonos/unison-storage:v0.1.0@sha256:" + String(repeating: "c", count: 64),
            ])
        #expect(manifest.compose.imagesFromCompose["postgres"] == "docker.io/library/postgres:15")
        #expect(manifest.compose.imagesResolved["auth"]?.source == "registry")
        #expect(manifest.compose.files == [composeFile.path: SHA256Hex.hex(Data("services: {}\n".utf8))])
        #expect(manifest.assets.keys.sorted() == ["REASSEMBLE notes.txt", "unisonos-linux-vm-v0.5.0.qcow2", "unisonos-wsl2-v0.5.0.tar.gz"])
        #expect(manifest.assets["unisonos-linux-vm-v0.5.0.qcow2"]?.sizeBytes == 1_500_000)
        #expect(manifest.assets["unisonos-wsl2-v0.5.0.tar.gz"]?.sha256 == SHA256Hex.hex(Data("wsl rootfs\n".utf8)))
        #expect(manifest.modelPacks.defaultProfile == "alpha/default")
        #expect(manifest.modelPacks.profileManifestSHA256.count == 64)
        #expect(manifest.modelPacks.packs.map(\.name) == ["light", "default"])
        #expect(manifest.requirements.ramGBMin == 8)
        #expect(manifest.requirements.diskGBMin == 20)

        // Written, read back, the same bytes a second time, and valid against the schema.
        let url = try ReleaseFiles.writeManifest(manifest, to: tmp.url)
        #expect(url.lastPathComponent == "unisonos-manifest-v0.5.0.json")
        let first = try Data(contentsOf: url)
        #expect(try JSONDecoder().decode(ReleaseManifest.self, from: first) == manifest)
        try ReleaseFiles.writeManifest(try ReleaseFiles.manifest(request, spec: TestSpec.load()), to: tmp.url)
        #expect(try Data(contentsOf: url) == first)
        #expect(try Self.schemaErrors(url) == "")
        let object = try #require(try JSONSerialization.jsonObject(with: first) as? [String: Any])
        #expect(Set(object.keys) == ["schema_version", "release", "assets", "compose", "model_packs", "requirements"])
    }

    /// The real alpha: channel alpha in the manifest, and the schema refuses what the reader could not use.
    @Test func theAlphaManifestAndTheSchemaRefusingBadOnes() throws {
        let tmp = try Self.artifacts()
        var request = try Self.request(tmp.url)
        request.version = try #require(SemVer("v0.5.0-alpha.1"))
        let manifest = try ReleaseFiles.manifest(request, spec: TestSpec.load())
        #expect(manifest.release.channel == "alpha")
        let url = try ReleaseFiles.writeManifest(manifest, to: tmp.url)
        #expect(url.lastPathComponent == "unisonos-manifest-v0.5.0-alpha.1.json")
        #expect(try Self.schemaErrors(url) == "")

        var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        var compose = try #require(object["compose"] as? [String: Any])
        compose["images_pinned"] = ["auth": "ghcr.io/project-unisonos/unison-auth:v1.2.0"]
        object["compose"] = compose
        object["release"] = [
            "version": "v0.5.0-alpha.1", "channel": "nightly", "built_at": "2023-11-14T22:13:20Z",
            "git": ["repo": "unison-platform", "commit": Self.commit],
        ]
        let bad = tmp.path("bad.json")
        try JSONSerialization.data(withJSONObject: object).write(to: bad)
        let errors = try Self.schemaErrors(bad)
        #expect(errors.contains("compose/images_pinned/auth"))
        #expect(errors.contains("release/channel"))
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
        #expect(map["storage"]?.hasSuffix("eeee") == true)  // pairs override the file
        #expect(throws: ReleaseError.self) { _ = try ReleaseFiles.digests(pairs: ["storage"], file: nil) }
        try Data("[1]".utf8).write(to: file)
        #expect(throws: ReleaseError.self) { _ = try ReleaseFiles.digests(pairs: [], file: file) }
    }

    @Test func githubOutputRoundTrips() throws {
        let outputs = [("tags", "a:1\na:2"), ("version", "1"), ("labels", "")]
        let text = GitHubOutput.render(outputs)
        #expect(text == GitHubOutput.render(outputs))  // reproducible delimiters
        let parsed = GitHubOutput.parse(text)
        #expect(parsed.map(\.name) == ["tags", "version", "labels"])
        #expect(parsed.map(\.value) == ["a:1\na:2", "1", ""])
    }
}
