import FoundationEssentials
import UnisonCore

/// The whole UnisonOS platform as declared in `unison.yaml`, validated and with defaults applied.
/// Encodes to the normalized form `unisonctl spec show --json` prints.
package struct PlatformSpec: Sendable, Codable, Equatable {
    /// The spec format's version; this toolchain reads version 1.
    package static let currentSchema = 1

    package var schema: Int
    package var platform: Platform
    /// Every repository of the platform: the declared ones first, then one per service repo.
    package var repos: [Repo]
    package var services: [Service]
    package var infrastructure: [Service]
    package var channels: [Channel]
    package var release: ReleaseSettings
    package var models: Models
    package var bases: [Base]
    package var targets: Targets
    package var installer: Installer
    package var qa: QA
    package var telemetry: Telemetry
    package var readme: ReadmePolicy
    package var compatibility: Compatibility

    /// Platform services and infrastructure together, in declaration order.
    package var allServices: [Service] { services + infrastructure }

    package func service(named name: String) -> Service? { allServices.first { $0.name == name } }
    package func repo(named name: String) -> Repo? { repos.first { $0.name == name } }
    package func channel(named name: String) -> Channel? { channels.first { $0.name == name } }
    package func modelPack(named name: String) -> ModelPack? { models.packs.first { $0.name == name } }
    package func base(named name: String) -> Base? { bases.first { $0.name == name } }
}

package struct Platform: Sendable, Codable, Equatable {
    package var name: String
    package var displayName: String
    package var org: String
    package var registry: String
    package var defaultBranch: String
    package var version: SemVer

    /// `ghcr.io/project-unisonos`: where every platform image lives.
    package var imagePrefix: String { "\(registry)/\(org)" }
}

/// Repository roles, as the phase-1 role map names them.
package enum RepoRole: String, Sendable, Codable, CaseIterable {
    case workspace, devstack, platform, docs, site
    case baseImage = "base-image"
    case library, service
    /// A desktop or device client (unison-shell's Electron shell).
    case app
    /// Hardware design sources: interfaces, BOM, qualification (unison-hardware).
    case hardware
    /// The organization's reusable CI workflows (the org's `.github` repository).
    case workflows
    /// Deployment infrastructure outside the compose stack.
    case infrastructure
}

/// How much of the platform depends on a repository (unison-docs `dev/unison-repo-map.md`'s
/// Status column, reduced to what tooling acts on).
package enum RepoStatus: String, Sendable, Codable, CaseIterable {
    /// Part of every installation or of the release itself.
    case core
    /// Shipped or supported, but off by default (a compose profile, an add-on).
    case optional
    /// Used while developing only (stubs, dev-mode tools, design repos).
    case devOnly = "dev-only"
    /// Superseded; kept as a pointer.
    case deprecated
}

/// Where a repository sits in a developer's workspace checkout.
package enum RepoCheckout: String, Sendable, Codable, CaseIterable {
    /// The workspace repository itself: the directory everything else sits in.
    case root
    /// A submodule of the workspace repo (listed in its `.gitmodules`).
    case submodule
    /// Cloned beside the submodules, inside the workspace directory.
    case sibling
    /// Not checked out in a workspace (the org's `.github` repository: the workspace has a
    /// `.github` directory of its own).
    case external
}

package struct Repo: Sendable, Codable, Equatable {
    package var name: String
    package var role: RepoRole
    package var description: String
    package var status: RepoStatus
    /// Main implementation language (`python`, `javascript`, `markdown`, ...), when known.
    package var language: String?
    /// The branch the repository's HEAD names; defaults to `platform.defaultBranch`.
    package var defaultBranch: String
    /// Commands a README must name: `run`, `test`, and any others the repo declares, exactly as
    /// the repo runs them (`python src/server.py`, `python -m pytest`, `./scripts/up.sh`).
    package var entrypoints: [String: String]
    /// Services whose image this repo builds (empty for non-service repos).
    package var services: [String]
    /// Image names (under the platform's registry and org) the repo publishes. Defaults to the
    /// repo's name for service repos; differs where the repo publishes under another name
    /// (`unison-capabilities` publishes `unison-capability`).
    package var images: [String]
    package var checkout: RepoCheckout
    /// The Dockerfile that builds the repo's image, relative to the repo root (`docker/Dockerfile`).
    package var dockerfile: String?
    /// What could not be checked, or where the repo deviates from the platform's conventions.
    package var note: String?

    package init(
        name: String, role: RepoRole, description: String = "", status: RepoStatus = .core,
        language: String? = nil, defaultBranch: String = "main", entrypoints: [String: String] = [:],
        services: [String] = [], images: [String] = [], checkout: RepoCheckout = .sibling, dockerfile: String? = nil,
        note: String? = nil
    ) {
        self.name = name
        self.role = role
        self.description = description
        self.status = status
        self.language = language
        self.defaultBranch = defaultBranch
        self.entrypoints = entrypoints
        self.services = services
        self.images = images
        self.checkout = checkout
        self.dockerfile = dockerfile
        self.note = note
    }

    private enum CodingKeys: String, CodingKey {
        case name, role, description, status, language, defaultBranch, entrypoints, services, images, checkout, dockerfile, note
    }

    /// Fields added after the first schema decode with their defaults, so JSON written by an
    /// older unisonctl still reads.
    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            name: try c.decode(String.self, forKey: .name), role: try c.decode(RepoRole.self, forKey: .role),
            description: try c.decodeIfPresent(String.self, forKey: .description) ?? "",
            status: try c.decodeIfPresent(RepoStatus.self, forKey: .status) ?? .core,
            language: try c.decodeIfPresent(String.self, forKey: .language),
            defaultBranch: try c.decodeIfPresent(String.self, forKey: .defaultBranch) ?? "main",
            entrypoints: try c.decodeIfPresent([String: String].self, forKey: .entrypoints) ?? [:],
            services: try c.decodeIfPresent([String].self, forKey: .services) ?? [],
            images: try c.decodeIfPresent([String].self, forKey: .images) ?? [],
            checkout: try c.decodeIfPresent(RepoCheckout.self, forKey: .checkout) ?? .sibling,
            dockerfile: try c.decodeIfPresent(String.self, forKey: .dockerfile),
            note: try c.decodeIfPresent(String.self, forKey: .note))
    }
}

package enum ServiceKind: String, Sendable, Codable { case platform, infrastructure }

package struct Service: Sendable, Codable, Equatable {
    package var name: String
    package var kind: ServiceKind
    /// The source repository (platform services only).
    package var repo: String?
    /// The image without tag for platform services (`ghcr.io/project-unisonos/unison-auth`);
    /// the full pinned reference for infrastructure (`docker.io/library/postgres:15-alpine`).
    package var image: String
    /// The port the image listens on inside the container.
    package var port: Int
    /// The port `port` is published on, on the host's loopback; nil when the service is only
    /// reachable from other containers (`publish: false`).
    package var hostPort: Int?
    /// HTTP health path, when the service has one.
    package var health: String?
    /// Container port the health endpoint listens on, when it is not `port`; published on the
    /// same host port.
    package var healthPort: Int?
    /// A command run inside the container for health, when there is no HTTP endpoint.
    package var healthCommand: String?
    /// False for a worker with no health check at all (nothing may wait for it to be healthy).
    package var healthCheck: Bool
    /// More container ports published on the same host port (Jaeger's collector).
    package var extraPorts: [Int]
    package var dependsOn: [String]
    package var env: [String: String]
    package var volumes: [String]
    package var command: [String]?
    /// Compose profiles that enable the service; empty: always on.
    package var profiles: [String]
    /// File secrets (names of `installer.fileSecrets`) mounted at `/run/secrets/<name>`.
    package var secrets: [String]
    /// `extra_hosts` entries, e.g. `host.docker.internal:host-gateway` to reach Ollama on the host.
    package var extraHosts: [String]
    /// Linux capabilities added (`cap_add`), e.g. SYS_ADMIN for the VDI agent.
    package var capAdd: [String]
    /// `security_opt` entries, e.g. `no-new-privileges:true`.
    package var securityOpt: [String]
    package var description: String?

    package init(
        name: String, kind: ServiceKind, repo: String? = nil, image: String, port: Int, hostPort: Int? = nil,
        health: String? = nil, healthPort: Int? = nil, healthCommand: String? = nil, healthCheck: Bool = true,
        extraPorts: [Int] = [], dependsOn: [String] = [], env: [String: String] = [:], volumes: [String] = [],
        command: [String]? = nil, profiles: [String] = [], secrets: [String] = [], extraHosts: [String] = [],
        capAdd: [String] = [], securityOpt: [String] = [], description: String? = nil
    ) {
        self.name = name
        self.kind = kind
        self.repo = repo
        self.image = image
        self.port = port
        self.hostPort = hostPort
        self.health = health
        self.healthPort = healthPort
        self.healthCommand = healthCommand
        self.healthCheck = healthCheck
        self.extraPorts = extraPorts
        self.dependsOn = dependsOn
        self.env = env
        self.volumes = volumes
        self.command = command
        self.profiles = profiles
        self.secrets = secrets
        self.extraHosts = extraHosts
        self.capAdd = capAdd
        self.securityOpt = securityOpt
        self.description = description
    }

    /// The host port the health endpoint answers on (loopback), when it is published: the host
    /// side of `healthPort` (or `port`) in `publishedPorts`, as the compose bundle publishes it.
    package var hostHealthPort: Int? { hostPort(publishing: healthPort ?? port) }

    /// The host port (loopback) that container port `container` is published on; nil when it is not.
    package func hostPort(publishing container: Int) -> Int? { publishedPorts.first { $0.container == container }?.host }

    /// Every `host:container` pair the service publishes.
    package var publishedPorts: [(host: Int, container: Int)] {
        var out: [(host: Int, container: Int)] = []
        if let hostPort { out.append((hostPort, port)) }
        for p in [healthPort].compactMap({ $0 }) + extraPorts where p != port && !out.contains(where: { $0.container == p }) {
            out.append((p, p))
        }
        return out
    }

    private enum CodingKeys: String, CodingKey {
        case name, kind, repo, image, port, hostPort, health, healthPort, healthCommand, healthCheck, extraPorts, dependsOn
        case env, volumes, command, profiles, secrets, extraHosts, capAdd, securityOpt, description
    }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            name: try c.decode(String.self, forKey: .name), kind: try c.decode(ServiceKind.self, forKey: .kind),
            repo: try c.decodeIfPresent(String.self, forKey: .repo), image: try c.decode(String.self, forKey: .image),
            port: try c.decode(Int.self, forKey: .port), hostPort: try c.decodeIfPresent(Int.self, forKey: .hostPort),
            health: try c.decodeIfPresent(String.self, forKey: .health),
            healthPort: try c.decodeIfPresent(Int.self, forKey: .healthPort),
            healthCommand: try c.decodeIfPresent(String.self, forKey: .healthCommand),
            healthCheck: try c.decodeIfPresent(Bool.self, forKey: .healthCheck) ?? true,
            extraPorts: try c.decodeIfPresent([Int].self, forKey: .extraPorts) ?? [],
            dependsOn: try c.decodeIfPresent([String].self, forKey: .dependsOn) ?? [],
            env: try c.decodeIfPresent([String: String].self, forKey: .env) ?? [:],
            volumes: try c.decodeIfPresent([String].self, forKey: .volumes) ?? [],
            command: try c.decodeIfPresent([String].self, forKey: .command),
            profiles: try c.decodeIfPresent([String].self, forKey: .profiles) ?? [],
            secrets: try c.decodeIfPresent([String].self, forKey: .secrets) ?? [],
            extraHosts: try c.decodeIfPresent([String].self, forKey: .extraHosts) ?? [],
            capAdd: try c.decodeIfPresent([String].self, forKey: .capAdd) ?? [],
            securityOpt: try c.decodeIfPresent([String].self, forKey: .securityOpt) ?? [],
            description: try c.decodeIfPresent(String.self, forKey: .description))
    }
}

package struct Channel: Sendable, Codable, Equatable {
    package var name: String
    /// Branch globs (`release/*`) whose pushes publish to this channel; `{default}` stands for
    /// the repository's default branch (`main` or `master`, whichever the repo has).
    package var branches: [String]
    /// Git tag glob (`v*.*.*-beta.*`) whose pushes publish to this channel.
    package var tagPattern: String?
    package var events: [String]
    /// How versions on this channel are formed, e.g. `v{major}.{minor}.0-beta.{run}` (`{run}`:
    /// the CI run number; `{n}`: one above the highest such tag).
    package var versionFormat: String?
    /// The GitHub release a tag on this channel gets: `draft` (a draft pre-release),
    /// `prerelease`, `release`; nil: none.
    package var githubRelease: String?
    /// docker/metadata-action `tags:` lines.
    package var tags: [String]
    /// docker/metadata-action `flavor:` lines.
    package var flavor: [String]
}

package struct ReleaseSettings: Sendable, Codable, Equatable {
    package var bumpMinorPreMajor: Bool
    package var artifacts: String
    /// OpenSSH Ed25519 public keys (`ssh-ed25519 AAAA… comment`) that sign releases; published
    /// with each release as its allowed signers (docs/verify.md).
    package var signingKeys: [String] = []

    /// `ssh-ed25519 <base64 of string "ssh-ed25519", string key[32]> [comment]`.
    package static func isEd25519PublicKey(_ line: String) -> Bool {
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count >= 2, fields[0] == "ssh-ed25519", let blob = Data(base64Encoded: String(fields[1])) else { return false }
        let prefix: [UInt8] = [0, 0, 0, 11] + Array("ssh-ed25519".utf8) + [0, 0, 0, 32]
        return blob.count == prefix.count + 32 && blob.starts(with: prefix)
    }
}

package struct Models: Sendable, Codable, Equatable {
    package var registry: String
    package var store: String
    package var packs: [ModelPack]
}

package struct ModelPack: Sendable, Codable, Equatable {
    package var name: String
    package var description: String
    /// Ollama model names with tags (`qwen2.5:1.5b`) preloaded into images.
    package var preload: [String]
    package var minRam: ByteSize
    package var minDisk: ByteSize
    /// unison-platform's selector for this pack (`alpha/default`), written to the env file as
    /// `UNISON_MODEL_PACK_PROFILE`; nil for packs unison-platform does not define.
    package var profile: String?
    /// Model packs (unison-common's `.tgz` packs, `name@version`) the profile requires besides
    /// the Ollama models, e.g. `unison.phase1.1.speech@0.1.1`.
    package var requires: [String]
    /// The profile's defaults (`interaction_model`, `planner_model`, ...), as unison-platform writes them.
    package var defaults: [String: String]

    package init(
        name: String, description: String = "", preload: [String] = [], minRam: ByteSize, minDisk: ByteSize,
        profile: String? = nil, requires: [String] = [], defaults: [String: String] = [:]
    ) {
        self.name = name
        self.description = description
        self.preload = preload
        self.minRam = minRam
        self.minDisk = minDisk
        self.profile = profile
        self.requires = requires
        self.defaults = defaults
    }

    private enum CodingKeys: String, CodingKey { case name, description, preload, minRam, minDisk, profile, requires, defaults }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            name: try c.decode(String.self, forKey: .name),
            description: try c.decodeIfPresent(String.self, forKey: .description) ?? "",
            preload: try c.decodeIfPresent([String].self, forKey: .preload) ?? [],
            minRam: try c.decode(ByteSize.self, forKey: .minRam), minDisk: try c.decode(ByteSize.self, forKey: .minDisk),
            profile: try c.decodeIfPresent(String.self, forKey: .profile),
            requires: try c.decodeIfPresent([String].self, forKey: .requires) ?? [],
            defaults: try c.decodeIfPresent([String: String].self, forKey: .defaults) ?? [:])
    }
}

/// Where Ollama runs: on the host (the services reach it at `host.docker.internal:11434`
/// through the `host-gateway` mapping, as unison-platform's compose does) or as the stack's
/// own `ollama` container (compose profile `ollama`).
package enum OllamaPlacement: String, Sendable, Codable, CaseIterable {
    case host, container
}

package enum BaseKind: String, Sendable, Codable { case mmdebstrap, oci, tarball, directory }

package struct Base: Sendable, Codable, Equatable {
    package var name: String
    package var kind: BaseKind
    package var suite: String?
    package var mirror: String?
    package var packages: [String]
    /// OCI reference (`kind: oci`).
    package var image: String?
    /// File or directory path (`kind: tarball|directory`).
    package var path: String?
}

package struct Targets: Sendable, Codable, Equatable {
    package var wsl: WSLTarget?
    package var vm: VMTarget?
    package var iso: ISOTarget?
    /// How every target gets its service images unless it says otherwise (absent: `pull`).
    package var images: ImageDelivery?

    /// The delivery a target uses: its own `images`, else the spec's default, else `pull`.
    package func delivery(_ own: ImageDelivery?) -> ImageDelivery { own ?? images ?? .pull }
}

/// How an image target gets the stack's container images: `preload` puts them in the image
/// (an OCI layout the engine loads at first boot, no network needed); `pull` leaves them to
/// `docker compose` at first start.
package enum ImageDelivery: String, Sendable, Codable, CaseIterable {
    case preload, pull
}

package struct WSLTarget: Sendable, Codable, Equatable {
    package var base: String
    package var models: String
    package var formats: [String]
    package var defaultUser: String
    /// Where the target runs Ollama (images carry their own container: no host install).
    package var ollama: OllamaPlacement = .container
    /// `preload` or `pull` (nil: the spec's `targets.images`).
    package var images: ImageDelivery?
}

package struct VMTarget: Sendable, Codable, Equatable {
    package var base: String
    package var models: String
    package var formats: [String]
    package var diskSize: ByteSize
    package var firmware: String
    /// Where the target runs Ollama (images carry their own container: no host install).
    package var ollama: OllamaPlacement = .container
    /// `preload` or `pull` (nil: the spec's `targets.images`).
    package var images: ImageDelivery?
}

package struct ISOTarget: Sendable, Codable, Equatable {
    package var base: String
    package var models: String
    package var firmware: [String]
    package var splitAbove: ByteSize
    /// Where the target runs Ollama (images carry their own container: no host install).
    package var ollama: OllamaPlacement = .container
    /// `preload` or `pull` (nil: the spec's `targets.images`).
    package var images: ImageDelivery?
}

package struct Secret: Sendable, Codable, Equatable {
    package var name: String
    /// Random bytes behind the secret (it is written hex-encoded, so twice as many characters).
    package var bytes: Int
}

/// A secret kept in a file under the keys directory and mounted into the services that name it
/// (compose `secrets:`), generated at first install and never overwritten.
package struct FileSecret: Sendable, Codable, Equatable {
    /// The compose secret name (`unison_bootstrap_token`); mounted at `/run/secrets/<name>`.
    package var name: String
    /// File name under `installer.keysDir` (`bootstrap-token`).
    package var file: String
    /// Random bytes behind the secret (written hex-encoded).
    package var bytes: Int
    /// 0o400 or 0o600.
    package var mode: UInt32
    /// Owner of the file: the user the consuming image runs as (compose mounts the file with
    /// the host file's owner and mode).
    package var uid: UInt32
    package var gid: UInt32

    package init(name: String, file: String, bytes: Int = 32, mode: UInt32 = 0o400, uid: UInt32 = 0, gid: UInt32 = 0) {
        self.name = name
        self.file = file
        self.bytes = bytes
        self.mode = mode
        self.uid = uid
        self.gid = gid
    }
}

package struct Installer: Sendable, Codable, Equatable {
    package var prefix: String
    package var envFile: String
    package var dataDir: String
    package var unit: String
    package var firstBootUnit: String
    package var composeProject: String
    package var secrets: [Secret]
    package var env: [String: String]
    /// Directory of the file secrets (`UNISON_KEYS_DIR`), mode 0700.
    package var keysDir: String = "/var/lib/unison/keys"
    package var fileSecrets: [FileSecret] = []
    /// Where hosts installed with `unisonctl install` (native, docker) run Ollama.
    package var ollama: OllamaPlacement = .host

    /// The file path of a file secret.
    package func path(of secret: FileSecret) -> String { "\(keysDir)/\(secret.file)" }
}

package struct HTTPCheck: Sendable, Codable, Equatable {
    package var name: String
    package var service: String
    package var method: String
    package var path: String
    package var body: String?
    package var expect: Int
    /// Text the response body must contain.
    package var expectBody: String?
    /// A dotted key path (`data.version`) the JSON response body must have.
    package var expectJSON: String?
    /// Seconds one request of this check may take (default: the run's request timeout).
    package var timeout: Int?
}

package struct BootCheck: Sendable, Codable, Equatable {
    package var marker: String
    package var timeout: Int
}

package struct QA: Sendable, Codable, Equatable {
    package var boot: BootCheck
    package var smoke: [HTTPCheck]
    package var e2e: [HTTPCheck]
}

package struct Telemetry: Sendable, Codable, Equatable {
    package var enabled: Bool
    package var dir: String
    package var retentionDays: Int
    package var fields: [String]
}

package struct ReadmeSection: Sendable, Codable, Equatable {
    package var id: String
    package var title: String
    package var aliases: [String]
}

package struct ReadmePolicy: Sendable, Codable, Equatable {
    package var sections: [ReadmeSection]
}

package struct Compatibility: Sendable, Codable, Equatable {
    package var repo: String
    package var file: String
}
