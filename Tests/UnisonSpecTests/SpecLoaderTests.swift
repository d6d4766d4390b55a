import Foundation
import Testing
import UnisonCore
@testable import UnisonSpec

/// The repository root, found from this file's path (Tests/UnisonSpecTests/…).
let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
let fixtures = repoRoot.appendingPathComponent("Tests/UnisonSpecTests/Fixtures")

@Suite(.tags(.unit)) struct ShippedSpecTests {
    let spec: PlatformSpec

    init() throws {
        spec = try SpecLoader.load(file: repoRoot.appendingPathComponent("unison.yaml"))
    }

    @Test func platformIdentity() {
        #expect(spec.platform.name == "unisonos")
        #expect(spec.platform.org == "project-unisonos")
        #expect(spec.platform.registry == "ghcr.io")
        #expect(spec.platform.imagePrefix == "ghcr.io/project-unisonos")
    }

    @Test(arguments: ["orchestrator", "intent-graph", "context", "context-graph", "auth", "consent", "policy",
                      "inference", "io-core", "io-speech", "io-vision", "storage", "experience-renderer",
                      "agent-vdi", "updates"])
    func everyPlatformServiceIsDeclared(name: String) throws {
        let service = try #require(spec.service(named: name))
        #expect(service.kind == .platform)
        #expect(service.repo == "unison-\(name)")
        #expect(service.image == "ghcr.io/project-unisonos/unison-\(name)")
        #expect(service.health?.hasPrefix("/") == true)
        #expect((1...65535).contains(service.port))
        // Every service repo appears in the repo list with the service role.
        let repo = try #require(spec.repo(named: "unison-\(name)"))
        #expect(repo.role == .service)
        #expect(repo.services == [name])
    }

    @Test(arguments: [("postgres", "docker.io/library/postgres:15"), ("redis", "docker.io/library/redis:7"),
                      ("nats", "docker.io/library/nats:2.10-alpine")])
    func infrastructureIsPinned(name: String, image: String) throws {
        let service = try #require(spec.service(named: name))
        #expect(service.kind == .infrastructure)
        #expect(service.image == image)
    }

    @Test(arguments: [("unison-workspace", RepoRole.workspace), ("unison-devstack", .devstack),
                      ("unison-platform", .platform), ("unison-docs", .docs), ("project-unisonos.github.io", .site),
                      ("unison-os", .baseImage), ("unison-common", .library)])
    func reposHaveTheirRoles(name: String, role: RepoRole) throws {
        #expect(try #require(spec.repo(named: name)).role == role)
    }

    @Test func modelPacks() throws {
        let light = try #require(spec.modelPack(named: "light"))
        #expect(light.preload.isEmpty)
        #expect(light.minRam.bytes == 4_000_000_000)
        #expect(light.minDisk.bytes == 10_000_000_000)
        let def = try #require(spec.modelPack(named: "default"))
        #expect(def.preload == ["qwen2.5:1.5b"])
        #expect(def.minRam.bytes == 8_000_000_000)
        #expect(def.minDisk.bytes == 20_000_000_000)
        let full = try #require(spec.modelPack(named: "full"))
        #expect(full.preload.count > def.preload.count)
        #expect(Set(def.preload).isSubset(of: Set(full.preload)))
    }

    @Test func channelsTargetsInstallerTelemetry() throws {
        #expect(spec.channels.map(\.name) == ["alpha", "nightly", "beta", "stable", "feature"])
        #expect(spec.channel(named: "alpha")?.githubRelease == "draft")
        #expect(spec.channel(named: "nightly")?.branches == ["{default}"])
        #expect(spec.release.bumpMinorPreMajor == false)
        #expect(spec.channels.allSatisfy { !$0.tags.isEmpty })
        let vm = try #require(spec.targets.vm)
        #expect(vm.diskSize.bytes == 4 << 30)
        #expect(spec.targets.wsl?.base == "debian-bookworm")
        #expect(spec.targets.iso != nil)
        #expect(spec.installer.prefix == "/opt/unison-platform")
        #expect(spec.installer.envFile == "/etc/unison/platform.env")
        #expect(spec.installer.unit == "unison-platform.service")
        #expect(!spec.installer.secrets.isEmpty)
        #expect(spec.telemetry.enabled == false)
    }

    @Test func qaChecksCarryTheirExpectations() throws {
        let ollama = try #require(spec.qa.smoke.first { $0.name == "ollama-version" })
        #expect(ollama.expectJSON == "version")
        #expect(ollama.expectBody == nil && ollama.timeout == nil)
        #expect(spec.qa.e2e.first?.method == "POST")
    }

    @Test func roundTripsThroughJSON() throws {
        let data = try JSONOutput.encoder().encode(spec)
        let decoded = try JSONDecoder().decode(PlatformSpec.self, from: data)
        #expect(decoded == spec)
    }
}

@Suite(.tags(.unit)) struct DefaultsTests {
    @Test func minimalSpecGetsDefaults() throws {
        let spec = try SpecLoader.load(file: fixtures.appendingPathComponent("minimal.yaml"))
        #expect(spec.platform.registry == "ghcr.io")
        #expect(spec.platform.defaultBranch == "main")
        #expect(spec.installer.prefix == "/opt/unison-platform")
        #expect(spec.installer.firstBootUnit == "unison-firstboot.service")
        #expect(spec.targets.wsl?.formats == ["tar.gz", "wsl"])
        #expect(spec.targets.wsl?.defaultUser == "unison")
        #expect(spec.service(named: "auth")?.image == "ghcr.io/project-unisonos/unison-auth")
        #expect(spec.repos.map(\.name) == ["unison-docs", "unison-auth"])
        #expect(spec.readme.sections.map(\.id) == ["role", "run", "test", "docs"])
        #expect(spec.qa.boot.marker == "UNISONOS-FIRSTBOOT-OK")
    }
}

/// Each broken spec of the corpus, with every diagnostic it must produce, in order.
@Suite(.tags(.unit)) struct BrokenSpecTests {
    static let corpus: [(String, [(Int, Int, String)])] = [
        ("unknown-key", [(5, 3, "unknown key 'colour' in spec.platform")]),
        ("wrong-type-port", [(11, 11, "spec.services[0].port must be an integer, found 'eighty'")]),
        ("port-out-of-range", [(11, 11, "must be between 1 and 65535, found 70000")]),
        ("duplicate-service", [(14, 11, "duplicate service name 'auth'")]),
        ("dangling-dependency", [(13, 17, "depends on unknown service 'postgress'")]),
        ("unknown-model-pack", [(29, 28, "target 'wsl' names unknown model pack 'heavy'")]),
        ("unknown-base", [(29, 15, "target 'wsl' names unknown base 'debian'")]),
        ("dependency-cycle", [(19, 17, "dependency cycle: auth -> postgres -> auth")]),
        ("malformed-image", [(16, 12, "malformed image reference 'docker.io/library/Postgres:15'")]),
        ("unpinned-image", [(16, 12, "'docker.io/library/postgres' is not pinned")]),
        ("latest-image", [(16, 12, "uses the mutable tag 'latest'")]),
        ("bad-version", [(5, 12, "platform.version '1.0' is not a SemVer 2.0.0 version")]),
        ("duplicate-yaml-key", [(5, 3, "duplicate key 'name'")]),
        ("syntax-error", [(14, 15, "YAML syntax error")]),
        ("missing-services", [(1, 1, "spec is missing required key 'services'")]),
        ("unknown-role", [(7, 11, "unknown repo role 'documentation'")]),
        ("missing-channel", [(20, 3, "channels is missing the 'stable' channel")]),
        ("unsupported-schema", [(1, 9, "unsupported spec schema 2")]),
        ("health-not-absolute", [(12, 13, "health 'health' must be an absolute path")]),
        ("wrong-type-list", [(13, 16, "dependsOn must be a list of strings, found a mapping")]),
        ("empty", [(1, 1, "the spec is empty")]),
        ("not-a-mapping", [(1, 1, "spec must be a mapping, found a list")]),
        ("qa-check-timeout", [(33, 86, "must be between 1 and 3600, found 0")]),
        ("several-at-once", [(5, 3, "unknown key 'colour'"), (14, 17, "unknown service 'postgress'"),
                             (30, 28, "unknown model pack 'heavy'")]),
    ]

    @Test(arguments: corpus.map(\.0))
    func reportsExactLocations(name: String) throws {
        let expected = try #require(Self.corpus.first { $0.0 == name }).1
        let url = fixtures.appendingPathComponent("broken/\(name).yaml")
        let error = try #require(throws: SpecError.self) { try SpecLoader.load(file: url) }
        #expect(error.exitStatus == .badInput)
        let got = error.diagnostics.map { ($0.line, $0.column, $0.message) }
        #expect(got.count == expected.count, "diagnostics: \(error.description)")
        for (g, e) in zip(got, expected) {
            #expect(g.0 == e.0 && g.1 == e.1, "\(name): expected \(e.0):\(e.1), got \(g.0):\(g.1) \(g.2)")
            #expect(g.2.contains(e.2), "\(name): '\(g.2)' should contain '\(e.2)'")
        }
        #expect(error.diagnostics.allSatisfy { $0.file.hasSuffix("\(name).yaml") })
    }

    @Test func everyCorpusFileIsCovered() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: fixtures.appendingPathComponent("broken").path)
            .filter { $0.hasSuffix(".yaml") }.map { String($0.dropLast(5)) }
        #expect(Set(files) == Set(Self.corpus.map(\.0)))
    }
}

@Suite(.tags(.unit)) struct LocatorTests {
    @Test func explicitThenEnvironmentThenUpward() throws {
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("spec-locator-\(UUID().uuidString)")
        let nested = tmp.appendingPathComponent("a/b/c")
        try FileManager.default.createDirectory(at: nested, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: tmp) }
        try Data("schema: 1\n".utf8).write(to: tmp.appendingPathComponent("a/unison.yaml"))
        #expect(try SpecLocator.locate(explicit: "/x/given.yaml", environment: ["UNISON_SPEC": "/y/env.yaml"], from: nested).path == "/x/given.yaml")
        #expect(try SpecLocator.locate(explicit: nil, environment: ["UNISON_SPEC": "/y/env.yaml"], from: nested).path == "/y/env.yaml")
        #expect(try SpecLocator.locate(explicit: nil, environment: [:], from: nested).standardizedFileURL.path
                == tmp.appendingPathComponent("a/unison.yaml").standardizedFileURL.path)
        #expect(throws: SpecLocationError.self) {
            try SpecLocator.locate(explicit: nil, environment: [:], from: URL(fileURLWithPath: "/proc/self"))
        }
    }
}

@Suite(.tags(.unit)) struct ValueTypeTests {
    @Test(arguments: [("4GB", Int64(4_000_000_000)), ("4GiB", Int64(4 << 30)), ("512 MiB", Int64(512 << 20)),
                      ("100", Int64(100)), ("2TB", Int64(2_000_000_000_000))])
    func byteSizes(text: String, bytes: Int64) {
        #expect(ByteSize(text)?.bytes == bytes)
    }

    @Test(arguments: ["", "GB", "4XB", "-1GB", "4.5GB"])
    func badByteSizes(text: String) {
        #expect(ByteSize(text) == nil)
    }

    @Test(arguments: ["ghcr.io/project-unisonos/unison-auth", "ghcr.io/project-unisonos/unison-auth:v1.2.3",
                      "docker.io/library/postgres:15", "redis:7", "127.0.0.1:5000/team/app:v1", "localhost/app",
                      "ghcr.io/o/r@sha256:" + String(repeating: "a", count: 64), "a/b__c/d-e:tag_1.0"])
    func validImageNames(text: String) {
        #expect(ImageName(text) != nil)
    }

    @Test(arguments: ["Docker.io/library/Postgres:15", "ghcr.io/o/r:", "ghcr.io//r", "a/b:-tag", "a/b@sha256:xyz",
                      "a/b_-c", "-a/b", "host:99999/a"])
    func invalidImageNames(text: String) {
        #expect(ImageName(text) == nil)
    }
}
