import Foundation
import UnisonCore

/// The whole UnisonOS platform as declared in `unison.yaml`, validated and with defaults applied.
/// Encodes to the normalized form `unisonctl spec show --json` prints.
public struct PlatformSpec: Sendable, Codable, Equatable {
    /// The spec format's version; this toolchain reads version 1.
    public static let currentSchema = 1

    public var schema: Int
    public var platform: Platform
    /// Every repository of the platform: the declared ones first, then one per service repo.
    public var repos: [Repo]
    public var services: [Service]
    public var infrastructure: [Service]
    public var channels: [Channel]
    public var release: ReleaseSettings
    public var models: Models
    public var bases: [Base]
    public var targets: Targets
    public var installer: Installer
    public var qa: QA
    public var telemetry: Telemetry
    public var readme: ReadmePolicy
    public var compatibility: Compatibility

    /// Platform services and infrastructure together, in declaration order.
    public var allServices: [Service] { services + infrastructure }

    public func service(named name: String) -> Service? { allServices.first { $0.name == name } }
    public func repo(named name: String) -> Repo? { repos.first { $0.name == name } }
    public func channel(named name: String) -> Channel? { channels.first { $0.name == name } }
    public func modelPack(named name: String) -> ModelPack? { models.packs.first { $0.name == name } }
    public func base(named name: String) -> Base? { bases.first { $0.name == name } }
}

public struct Platform: Sendable, Codable, Equatable {
    public var name: String
    public var displayName: String
    public var org: String
    public var registry: String
    public var defaultBranch: String
    public var version: SemVer

    /// `ghcr.io/project-unisonos`: where every platform image lives.
    public var imagePrefix: String { "\(registry)/\(org)" }
}

/// Repository roles, as the phase-1 role map names them.
public enum RepoRole: String, Sendable, Codable, CaseIterable {
    case workspace, devstack, platform, docs, site
    case baseImage = "base-image"
    case library, service
}

public struct Repo: Sendable, Codable, Equatable {
    public var name: String
    public var role: RepoRole
    public var description: String
    /// Commands a README must name: `run`, `test`, and any others the repo declares.
    public var entrypoints: [String: String]
    /// Services whose image this repo builds (empty for non-service repos).
    public var services: [String]

    public init(name: String, role: RepoRole, description: String = "", entrypoints: [String: String] = [:],
                services: [String] = []) {
        self.name = name
        self.role = role
        self.description = description
        self.entrypoints = entrypoints
        self.services = services
    }
}

public enum ServiceKind: String, Sendable, Codable { case platform, infrastructure }

public struct Service: Sendable, Codable, Equatable {
    public var name: String
    public var kind: ServiceKind
    /// The source repository (platform services only).
    public var repo: String?
    /// The image without tag for platform services (`ghcr.io/project-unisonos/unison-auth`);
    /// the full pinned reference for infrastructure (`docker.io/library/postgres:15`).
    public var image: String
    public var port: Int
    /// HTTP health path, when the service has one.
    public var health: String?
    /// Port the health endpoint listens on, when it is not `port`.
    public var healthPort: Int?
    /// A command run inside the container for health, when there is no HTTP endpoint.
    public var healthCommand: String?
    public var dependsOn: [String]
    public var env: [String: String]
    public var volumes: [String]
    public var command: [String]?
    public var description: String?
}

public struct Channel: Sendable, Codable, Equatable {
    public var name: String
    /// Branch globs (`release/*`) whose pushes publish to this channel; `{default}` stands for
    /// the repository's default branch (`main` or `master`, whichever the repo has).
    public var branches: [String]
    /// Git tag glob (`v*.*.*-beta.*`) whose pushes publish to this channel.
    public var tagPattern: String?
    public var events: [String]
    /// How versions on this channel are formed, e.g. `v{major}.{minor}.0-beta.{run}` (`{run}`:
    /// the CI run number; `{n}`: one above the highest such tag).
    public var versionFormat: String?
    /// The GitHub release a tag on this channel gets: `draft` (a draft pre-release),
    /// `prerelease`, `release`; nil: none.
    public var githubRelease: String?
    /// docker/metadata-action `tags:` lines.
    public var tags: [String]
    /// docker/metadata-action `flavor:` lines.
    public var flavor: [String]
}

public struct ReleaseSettings: Sendable, Codable, Equatable {
    public var bumpMinorPreMajor: Bool
    public var artifacts: String
    /// OpenSSH Ed25519 public keys (`ssh-ed25519 AAAA… comment`) that sign releases; published
    /// with each release as its allowed signers (docs/verify.md).
    public var signingKeys: [String] = []

    /// `ssh-ed25519 <base64 of string "ssh-ed25519", string key[32]> [comment]`.
    public static func isEd25519PublicKey(_ line: String) -> Bool {
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count >= 2, fields[0] == "ssh-ed25519", let blob = Data(base64Encoded: String(fields[1])) else { return false }
        let prefix: [UInt8] = [0, 0, 0, 11] + Array("ssh-ed25519".utf8) + [0, 0, 0, 32]
        return blob.count == prefix.count + 32 && blob.starts(with: prefix)
    }
}

public struct Models: Sendable, Codable, Equatable {
    public var registry: String
    public var store: String
    public var packs: [ModelPack]
}

public struct ModelPack: Sendable, Codable, Equatable {
    public var name: String
    public var description: String
    /// Ollama model names with tags (`qwen2.5:1.5b`) preloaded into images.
    public var preload: [String]
    public var minRam: ByteSize
    public var minDisk: ByteSize
}

public enum BaseKind: String, Sendable, Codable { case mmdebstrap, oci, tarball, directory }

public struct Base: Sendable, Codable, Equatable {
    public var name: String
    public var kind: BaseKind
    public var suite: String?
    public var mirror: String?
    public var packages: [String]
    /// OCI reference (`kind: oci`).
    public var image: String?
    /// File or directory path (`kind: tarball|directory`).
    public var path: String?
}

public struct Targets: Sendable, Codable, Equatable {
    public var wsl: WSLTarget?
    public var vm: VMTarget?
    public var iso: ISOTarget?
}

public struct WSLTarget: Sendable, Codable, Equatable {
    public var base: String
    public var models: String
    public var formats: [String]
    public var defaultUser: String
}

public struct VMTarget: Sendable, Codable, Equatable {
    public var base: String
    public var models: String
    public var formats: [String]
    public var diskSize: ByteSize
    public var firmware: String
}

public struct ISOTarget: Sendable, Codable, Equatable {
    public var base: String
    public var models: String
    public var firmware: [String]
    public var splitAbove: ByteSize
}

public struct Secret: Sendable, Codable, Equatable {
    public var name: String
    /// Random bytes behind the secret (it is written hex-encoded, so twice as many characters).
    public var bytes: Int
}

public struct Installer: Sendable, Codable, Equatable {
    public var prefix: String
    public var envFile: String
    public var dataDir: String
    public var unit: String
    public var firstBootUnit: String
    public var composeProject: String
    public var secrets: [Secret]
    public var env: [String: String]
}

public struct HTTPCheck: Sendable, Codable, Equatable {
    public var name: String
    public var service: String
    public var method: String
    public var path: String
    public var body: String?
    public var expect: Int
    /// Text the response body must contain.
    public var expectBody: String?
    /// A dotted key path (`data.version`) the JSON response body must have.
    public var expectJSON: String?
    /// Seconds one request of this check may take (default: the run's request timeout).
    public var timeout: Int?
}

public struct BootCheck: Sendable, Codable, Equatable {
    public var marker: String
    public var timeout: Int
}

public struct QA: Sendable, Codable, Equatable {
    public var boot: BootCheck
    public var smoke: [HTTPCheck]
    public var e2e: [HTTPCheck]
}

public struct Telemetry: Sendable, Codable, Equatable {
    public var enabled: Bool
    public var dir: String
    public var retentionDays: Int
    public var fields: [String]
}

public struct ReadmeSection: Sendable, Codable, Equatable {
    public var id: String
    public var title: String
    public var aliases: [String]
}

public struct ReadmePolicy: Sendable, Codable, Equatable {
    public var sections: [ReadmeSection]
}

public struct Compatibility: Sendable, Codable, Equatable {
    public var repo: String
    public var file: String
}
