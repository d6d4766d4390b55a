import Foundation
import Testing
import UnisonCore
import UnisonTestSupport

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

    @Test(arguments: [
        "orchestrator", "intent-graph", "context", "context-graph", "auth", "consent", "policy",
        "inference", "io-core", "io-speech", "io-vision", "storage", "experience-renderer",
        "agent-vdi", "updates", "comms",
    ])
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
        #expect(repo.services.first == name)
    }

    @Test(arguments: [
        ("postgres", "docker.io/library/postgres:15-alpine"), ("redis", "docker.io/library/redis:7-alpine"),
        ("nats", "docker.io/library/nats:2.10-alpine"),
    ])
    func infrastructureIsPinned(name: String, image: String) throws {
        let service = try #require(spec.service(named: name))
        #expect(service.kind == .infrastructure)
        #expect(service.image == image)
    }

    @Test(arguments: [
        ("unison-workspace", RepoRole.workspace), ("unison-devstack", .devstack),
        ("unison-platform", .platform), ("unison-docs", .docs), ("project-unisonos.github.io", .site),
        ("unison-os", .baseImage), ("unison-common", .library),
    ])
    func reposHaveTheirRoles(name: String, role: RepoRole) throws {
        #expect(try #require(spec.repo(named: name)).role == role)
    }

    /// Every repository with a snapshot on this machine, with the branch its HEAD names.
    @Test(arguments: [
        ("unison-platform", "master"), ("unison-consent", "master"), ("unison-context-graph", "master"),
        ("unison-comms", "main"), ("unison-actuation", "main"), ("unison-capabilities", "main"),
        ("unison-payments", "main"), ("unison-network-vpn", "main"), ("unison-io-bci", "main"),
        ("unison-io-braille", "main"), ("unison-io-sign", "main"), ("unison-sign-orchestrator", "main"),
        ("unison-hardware", "main"), ("unison-shell", "main"), ("unison-spec", "main"),
        ("unison-updates", "main"), ("unison-workspace", "main"),
    ])
    func everyRepoWithItsBranch(name: String, branch: String) throws {
        let repo = try #require(spec.repo(named: name))
        #expect(repo.defaultBranch == branch)
        #expect(repo.language != nil)
    }

    /// Repos without a snapshot here are still listed, each saying so.
    @Test(arguments: ["unison-io-core", "unison-infrastructure", ".github", "unison-os", "project-unisonos.github.io"])
    func unmirroredReposSayWhatWasNotChecked(name: String) throws {
        let repo = try #require(spec.repo(named: name))
        #expect(repo.note?.contains("No snapshot here") == true)
    }

    @Test func imageNameExceptionsAndStatuses() throws {
        #expect(try #require(spec.repo(named: "unison-capabilities")).images == ["unison-capability"])
        #expect(try #require(spec.repo(named: "unison-common")).images == ["unison-common-wheel"])
        #expect(try #require(spec.repo(named: "unison-actuation")).dockerfile == "docker/Dockerfile")
        #expect(try #require(spec.repo(named: "unison-spec")).status == .deprecated)
        #expect(try #require(spec.repo(named: "unison-shell")).status == .devOnly)
        #expect(try #require(spec.repo(named: "unison-agent-vdi")).status == .optional)
        #expect(try #require(spec.repo(named: "unison-workspace")).checkout == .root)
        #expect(try #require(spec.repo(named: "unison-payments")).checkout == .submodule)
        // No repo documents a make-based run or test command except the platform's own Makefile.
        for repo in spec.repos where repo.name != "unison-platform" {
            #expect(!repo.entrypoints.values.contains { $0.hasPrefix("make ") }, "\(repo.name)")
        }
    }

    /// unison-platform's model-packs/alpha/*.json: light preloads qwen2.5:1.5b, default and full
    /// also require the speech pack; `none` is this toolchain's own pack for offline images.
    @Test func modelPacks() throws {
        let none = try #require(spec.modelPack(named: "none"))
        #expect(none.preload.isEmpty && none.profile == nil)
        let light = try #require(spec.modelPack(named: "light"))
        #expect(light.profile == "alpha/light")
        #expect(light.preload == ["qwen2.5:1.5b"])
        #expect(light.requires.isEmpty)
        #expect(light.minRam.bytes == 6_000_000_000)
        #expect(light.minDisk.bytes == 12_000_000_000)
        let def = try #require(spec.modelPack(named: "default"))
        #expect(def.profile == "alpha/default")
        #expect(def.preload == ["qwen2.5:1.5b"])
        #expect(def.requires == ["unison.phase1.1.speech@0.1.1"])
        #expect(def.minRam.bytes == 8_000_000_000)
        #expect(def.minDisk.bytes == 20_000_000_000)
        #expect(def.defaults["planner_model"] == "qwen2.5:1.5b")
        let full = try #require(spec.modelPack(named: "full"))
        #expect(full.profile == "alpha/full")
        #expect(full.preload == ["qwen2.5:latest", "qwen2.5:7b"])
        #expect(full.requires == def.requires)
        #expect(full.minRam.bytes == 16_000_000_000 && full.minDisk.bytes == 60_000_000_000)
    }

    /// unison-platform's compose/compose.yaml: image, container port, host port, health path.
    @Test(arguments: [
        ("auth", 8088, 8083, "/health"), ("consent", 7072, 7072, "/readyz"), ("context", 8081, 8081, "/health"),
        ("policy", 8083, 8095, "/readyz"), ("orchestrator", 8080, 8090, "/health"), ("updates", 8089, 8094, "/health"),
        ("intent-graph", 8080, 8080, "/health"), ("context-graph", 8081, 8091, "/healthz"),
        ("experience-renderer", 8082, 8092, "/health"), ("agent-vdi", 8083, 8093, "/readyz"),
        ("io-speech", 8084, 8084, "/health"), ("io-vision", 8086, 8086, "/health"), ("io-core", 8085, 8085, "/health"),
        ("inference", 8087, 8087, "/health"), ("storage", 8082, 8082, "/health"),
    ])
    func servicesAsThePlatformComposeRunsThem(name: String, port: Int, hostPort: Int, health: String) throws {
        let service = try #require(spec.service(named: name))
        #expect(service.port == port)
        #expect(service.hostPort == hostPort)
        #expect(service.health == health)
    }

    @Test func commsSecretsProfilesAndOllama() throws {
        let comms = try #require(spec.service(named: "comms"))
        #expect(comms.hostPort == nil && comms.port == 8080 && comms.health == "/health")
        #expect(comms.secrets == ["unison_channel_workload_secret", "unison_channel_root"])
        let worker = try #require(spec.service(named: "telegram-channel-worker"))
        #expect(worker.image == "ghcr.io/project-unisonos/unison-comms" && !worker.healthCheck)
        #expect(try #require(spec.repo(named: "unison-comms")).services == ["comms", "telegram-channel-worker"])
        #expect(spec.service(named: "agent-vdi")?.profiles == ["vdi"])
        #expect(spec.service(named: "io-vision")?.profiles == ["vision", "multimodal"])
        #expect(spec.service(named: "ollama")?.profiles == ["ollama"])
        #expect(spec.service(named: "inference")?.extraHosts == ["host.docker.internal:host-gateway"])
        let nats = try #require(spec.service(named: "nats"))
        #expect(nats.health == "/varz" && nats.healthPort == 8222 && nats.command?.first == "--jetstream")
        #expect(spec.service(named: "redis")?.command == ["redis-server", "--appendonly", "yes"])
        #expect(
            Set(spec.installer.fileSecrets.map(\.file))
                == ["bootstrap-token", "context-root", "storage-root", "channel-root", "channel-workload-secret"])
        #expect(spec.installer.fileSecrets.allSatisfy { $0.mode == 0o400 })
        #expect(spec.installer.ollama == .host)
        #expect(spec.targets.vm?.ollama == .container && spec.targets.wsl?.ollama == .container)
    }

    @Test func channelsTargetsInstallerTelemetry() throws {
        #expect(spec.channels.map(\.name) == ["alpha", "nightly", "beta", "stable", "feature"])
        #expect(spec.channel(named: "alpha")?.githubRelease == "draft")
        #expect(spec.channel(named: "nightly")?.branches == ["{default}"])
        #expect(spec.release.bumpMinorPreMajor == false)
        #expect(spec.channels.allSatisfy { !$0.tags.isEmpty })
        let vm = try #require(spec.targets.vm)
        #expect(vm.diskSize.bytes == 4 << 30)
        #expect(spec.targets.wsl?.base == "debian-trixie")
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
        let docs = try #require(spec.repo(named: "unison-docs"))
        #expect(docs.status == .core && docs.defaultBranch == "main" && docs.checkout == .sibling)
        #expect(docs.images.isEmpty && docs.dockerfile == nil && docs.language == nil)
        let auth = try #require(spec.repo(named: "unison-auth"))
        #expect(auth.images == ["unison-auth"] && auth.dockerfile == "Dockerfile")
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
        ("bad-repo-status", [(8, 13, "spec.repos[0].status 'essential' is not one of: core, optional, dev-only, deprecated")]),
        ("bad-repo-branch", [(8, 20, "spec.repos[0].defaultBranch 'main..old' is not a valid branch name")]),
        ("bad-repo-image", [(8, 27, "spec.repos[0].images: 'Unison-Docs' is not an image name")]),
        ("bad-repo-language", [(8, 15, "spec.repos[0].language 'cobol' is not a known language")]),
        ("bad-repo-checkout", [(8, 15, "spec.repos[0].checkout 'nested' is not one of: root, submodule, sibling, external")]),
        (
            "service-image-not-published",
            [
                (
                    14, 12,
                    "image 'ghcr.io/project-unisonos/unison-capabilities' of service 'capability' is not 'ghcr.io/project-unisonos/unison-capability'"
                )
            ]
        ),
        ("unknown-file-secret", [(13, 15, "service 'auth' mounts unknown file secret 'unison_bootstrap_tokn'")]),
        ("bad-volume", [(13, 15, "spec.services[0].volumes: 'data' is not SOURCE:/container/path[:ro]")]),
        ("profile-dependency", [(13, 17, "service 'auth' depends on 'postgres', which only the profiles db start")]),
        ("host-port-clash", [(16, 11, "service 'postgres' publishes host port 5432, already published by 'auth'")]),
        ("bad-file-secret-mode", [(32, 49, "spec.installer.fileSecrets[0].mode '0644' must be 0400 or 0600")]),
        ("bad-model-pack-requires", [(25, 82, "requires: 'speech' is not NAME@VERSION")]),
        ("bad-extra-hosts", [(13, 18, "spec.services[0].extraHosts: 'host.docker.internal' is not HOST:ADDRESS")]),
        ("bad-dockerfile-path", [(8, 17, "spec.repos[0].dockerfile '../Dockerfile' must be a path inside the repo")]),
        ("health-check-conflict", [(13, 18, "service 'auth' has healthCheck: false and a health check")]),
        ("bad-ollama-placement", [(29, 43, "spec.targets.wsl.ollama 'remote' is not one of: host, container")]),
        (
            "several-at-once",
            [
                (5, 3, "unknown key 'colour'"), (14, 17, "unknown service 'postgress'"),
                (30, 28, "unknown model pack 'heavy'"),
            ]
        ),
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
        #expect(
            try SpecLocator.locate(explicit: nil, environment: [:], from: nested).standardizedFileURL.path
                == tmp.appendingPathComponent("a/unison.yaml").standardizedFileURL.path)
        #expect(throws: SpecLocationError.self) {
            try SpecLocator.locate(explicit: nil, environment: [:], from: URL(fileURLWithPath: "/proc/self"))
        }
    }
}

@Suite(.tags(.unit)) struct ValueTypeTests {
    @Test(arguments: [
        ("4GB", Int64(4_000_000_000)), ("4GiB", Int64(4 << 30)), ("512 MiB", Int64(512 << 20)),
        ("100", Int64(100)), ("2TB", Int64(2_000_000_000_000)),
    ])
    func byteSizes(text: String, bytes: Int64) {
        #expect(ByteSize(text)?.bytes == bytes)
    }

    @Test(arguments: ["", "GB", "4XB", "-1GB", "4.5GB"])
    func badByteSizes(text: String) {
        #expect(ByteSize(text) == nil)
    }

    @Test(arguments: [
        "ghcr.io/project-unisonos/unison-auth", "ghcr.io/project-unisonos/unison-auth:v1.2.3",
        "docker.io/library/postgres:15", "redis:7", "127.0.0.1:5000/team/app:v1", "localhost/app",
        "ghcr.io/o/r@sha256:" + String(repeating: "a", count: 64), "a/b__c/d-e:tag_1.0",
    ])
    func validImageNames(text: String) {
        #expect(ImageName(text) != nil)
    }

    @Test(arguments: [
        "Docker.io/library/Postgres:15", "ghcr.io/o/r:", "ghcr.io//r", "a/b:-tag", "a/b@sha256:xyz",
        "a/b_-c", "-a/b", "host:99999/a",
    ])
    func invalidImageNames(text: String) {
        #expect(ImageName(text) == nil)
    }
}
