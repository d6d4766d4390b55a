// Build provenance as an in-toto Statement v1 (in-toto/attestation spec/v1/statement.md)
// carrying a SLSA Provenance v1 predicate (slsa.dev/spec/v1.0/provenance):
//
//   { "_type": "https://in-toto.io/Statement/v1",
//     "subject": [ { "name", "digest": { "sha256": hex } } ],        one per artifact
//     "predicateType": "https://slsa.dev/provenance/v1",
//     "predicate": { "buildDefinition": { buildType, externalParameters, internalParameters,
//                                         resolvedDependencies: [ResourceDescriptor] },
//                    "runDetails": { "builder": { id, version }, "metadata": { invocationId } } } }
//
// No timestamps are written (startedOn/finishedOn are optional): the same release gives the
// same bytes.
import Foundation
import UnisonCore

public struct InTotoStatement: Sendable, Codable, Equatable {
    public static let type = "https://in-toto.io/Statement/v1"
    public static let slsaProvenance = "https://slsa.dev/provenance/v1"
    /// What a build of this kind means (its parameters): documented in docs/verify.md. A URN,
    /// since the toolchain has no public home page to point a URL at.
    public static let buildType = "urn:unisonos:unisonctl:buildtype:release:v1"

    public var _type = InTotoStatement.type
    public var subject: [ResourceDescriptor]
    public var predicateType = InTotoStatement.slsaProvenance
    public var predicate: Provenance
}

/// in-toto ResourceDescriptor (spec/v1/resource_descriptor.md): at least one of uri, digest, content.
public struct ResourceDescriptor: Sendable, Codable, Equatable {
    public var name: String?
    public var uri: String?
    public var digest: [String: String]?
    public var annotations: [String: String]?

    public init(name: String? = nil, uri: String? = nil, digest: [String: String]? = nil, annotations: [String: String]? = nil) {
        self.name = name
        self.uri = uri
        self.digest = digest
        self.annotations = annotations
    }
}

public struct Provenance: Sendable, Codable, Equatable {
    public struct BuildDefinition: Sendable, Codable, Equatable {
        public var buildType: String
        public var externalParameters: ExternalParameters
        public var internalParameters: InternalParameters
        public var resolvedDependencies: [ResourceDescriptor]
    }

    /// Inputs a user chose: the version, the spec and the source revision.
    public struct ExternalParameters: Sendable, Codable, Equatable {
        public var version: String
        public var spec: ResourceDescriptor
        public var source: ResourceDescriptor
        public var artifacts: [String]
    }

    public struct InternalParameters: Sendable, Codable, Equatable {
        public var sourceDateEpoch: Int64
        public var unisonctl: String
    }

    public struct RunDetails: Sendable, Codable, Equatable {
        public var builder: Builder
        public var metadata: Metadata?
    }

    public struct Builder: Sendable, Codable, Equatable {
        public var id: String
        public var version: [String: String]?
    }

    public struct Metadata: Sendable, Codable, Equatable {
        public var invocationId: String?
    }

    public var buildDefinition: BuildDefinition
    public var runDetails: RunDetails
}

/// The file name of a release's provenance.
public enum ProvenanceFile {
    public static let suffix = ".intoto.json"
    public static func name(prefix: String = "unisonos", version: String) -> String { "\(prefix)-provenance-\(version)\(suffix)" }
}

extension InTotoStatement {
    /// Inputs of a release's provenance.
    public struct Request: Sendable {
        public var version: String
        /// Artifacts by name with their sha256 (sorted by name in the statement).
        public var artifacts: [(name: String, sha256: String)]
        public var spec: (path: String, sha256: String)
        public var commit: String?
        public var repositoryURI: String?
        /// Base root filesystems: name and sha256 (when a file).
        public var bases: [(name: String, sha256: String?)]
        public var builderID: String
        public var invocationID: String?
        public var epoch: Int64

        public init(
            version: String, artifacts: [(name: String, sha256: String)], spec: (path: String, sha256: String),
            commit: String?, repositoryURI: String?, bases: [(name: String, sha256: String?)], builderID: String,
            invocationID: String?, epoch: Int64
        ) {
            self.version = version
            self.artifacts = artifacts
            self.spec = spec
            self.commit = commit
            self.repositoryURI = repositoryURI
            self.bases = bases
            self.builderID = builderID
            self.invocationID = invocationID
            self.epoch = epoch
        }
    }

    public static func release(_ r: Request) -> InTotoStatement {
        let artifacts = r.artifacts.sorted { Array($0.name.utf8).lexicographicallyPrecedes(Array($1.name.utf8)) }
        let specDescriptor = ResourceDescriptor(name: r.spec.path, digest: ["sha256": r.spec.sha256])
        var source = ResourceDescriptor(name: "source")
        if let commit = r.commit {
            source.digest = ["gitCommit": commit]
            source.uri = r.repositoryURI.map { "git+\($0)@\(commit)" }
        }
        var deps = [specDescriptor]
        if source.digest != nil { deps.append(source) }
        var seen = Set<String>()
        for base in r.bases.sorted(by: { ($0.name, $0.sha256 ?? "") < ($1.name, $1.sha256 ?? "") }) {
            guard seen.insert(base.name + (base.sha256 ?? "")).inserted else { continue }
            deps.append(
                ResourceDescriptor(
                    name: base.name, digest: base.sha256.map { ["sha256": $0] },
                    annotations: ["role": "base root filesystem"]))
        }
        return InTotoStatement(
            subject: artifacts.map { ResourceDescriptor(name: $0.name, digest: ["sha256": $0.sha256]) },
            predicate: Provenance(
                buildDefinition: .init(
                    buildType: buildType,
                    externalParameters: .init(version: r.version, spec: specDescriptor, source: source, artifacts: artifacts.map(\.name)),
                    internalParameters: .init(sourceDateEpoch: r.epoch, unisonctl: ToolVersion.current),
                    resolvedDependencies: deps),
                runDetails: .init(
                    builder: .init(id: r.builderID, version: ["unisonctl": ToolVersion.current]),
                    metadata: r.invocationID.map { .init(invocationId: $0) })))
    }

    public func encoded() throws -> Data {
        var data = try JSONOutput.encoder().encode(self)
        data.append(0x0A)
        return data
    }

    public static func decode(_ data: Data, path: String) throws -> InTotoStatement {
        do { return try JSONDecoder().decode(InTotoStatement.self, from: data) } catch {
            throw AttestError.unreadable(path: path, reason: "not an in-toto Statement v1 with SLSA Provenance v1 (\(error))")
        }
    }

    /// The builder of this run: the GitHub Actions workflow run when the environment says so,
    /// else the local machine's unisonctl.
    public static func builder(environment: [String: String]) -> (id: String, invocation: String?) {
        // GITHUB_WORKFLOW_REF: owner/repo/.github/workflows/release.yml@refs/heads/main.
        if let server = environment["GITHUB_SERVER_URL"], let repo = environment["GITHUB_REPOSITORY"],
            let workflow = environment["GITHUB_WORKFLOW_REF"], !workflow.isEmpty
        {
            let run = environment["GITHUB_RUN_ID"].map {
                "\(server)/\(repo)/actions/runs/\($0)" + (environment["GITHUB_RUN_ATTEMPT"].map { "/attempts/\($0)" } ?? "")
            }
            return ("\(server)/\(workflow)", run)
        }
        return ("urn:unisonos:unisonctl:builder:local", nil)
    }
}
