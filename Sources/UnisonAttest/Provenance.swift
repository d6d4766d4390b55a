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
import FoundationEssentials
import UnisonCore

package struct InTotoStatement: Sendable, Codable, Equatable {
    package static let type = "https://in-toto.io/Statement/v1"
    package static let slsaProvenance = "https://slsa.dev/provenance/v1"
    /// What a build of this kind means (its parameters): documented in docs/verify.md. A URN,
    /// since the toolchain has no public home page to point a URL at.
    package static let buildType = "urn:unisonos:unisonctl:buildtype:release:v1"

    package var _type = InTotoStatement.type
    package var subject: [ResourceDescriptor]
    package var predicateType = InTotoStatement.slsaProvenance
    package var predicate: Provenance
}

/// in-toto ResourceDescriptor (spec/v1/resource_descriptor.md): at least one of uri, digest, content.
package struct ResourceDescriptor: Sendable, Codable, Equatable {
    package var name: String?
    package var uri: String?
    package var digest: [String: String]?
    package var annotations: [String: String]?

    package init(name: String? = nil, uri: String? = nil, digest: [String: String]? = nil, annotations: [String: String]? = nil) {
        self.name = name
        self.uri = uri
        self.digest = digest
        self.annotations = annotations
    }
}

package struct Provenance: Sendable, Codable, Equatable {
    package struct BuildDefinition: Sendable, Codable, Equatable {
        package var buildType: String
        package var externalParameters: ExternalParameters
        package var internalParameters: InternalParameters
        package var resolvedDependencies: [ResourceDescriptor]
    }

    /// Inputs a user chose: the version, the spec and the source revision.
    package struct ExternalParameters: Sendable, Codable, Equatable {
        package var version: String
        package var spec: ResourceDescriptor
        package var source: ResourceDescriptor
        package var artifacts: [String]
    }

    package struct InternalParameters: Sendable, Codable, Equatable {
        package var sourceDateEpoch: Int64
        package var unisonctl: String
    }

    package struct RunDetails: Sendable, Codable, Equatable {
        package var builder: Builder
        package var metadata: Metadata?
    }

    package struct Builder: Sendable, Codable, Equatable {
        package var id: String
        package var version: [String: String]?
    }

    package struct Metadata: Sendable, Codable, Equatable {
        package var invocationId: String?
    }

    package var buildDefinition: BuildDefinition
    package var runDetails: RunDetails
}

/// The file name of a release's provenance.
package enum ProvenanceFile {
    package static let suffix = ".intoto.json"
    package static func name(prefix: String = "unisonos", version: String) -> String { "\(prefix)-provenance-\(version)\(suffix)" }
}

extension InTotoStatement {
    /// Inputs of a release's provenance.
    package struct Request: Sendable {
        package var version: String
        /// Artifacts by name with their sha256 (sorted by name in the statement).
        package var artifacts: [(name: String, sha256: String)]
        package var spec: (path: String, sha256: String)
        package var commit: String?
        package var repositoryURI: String?
        /// Base root filesystems: name and sha256 (when a file).
        package var bases: [(name: String, sha256: String?)]
        package var builderID: String
        package var invocationID: String?
        package var epoch: Int64

        package init(
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

    package static func release(_ r: Request) -> InTotoStatement {
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

    package func encoded() throws -> Data {
        var data = try JSONOutput.encoder().encode(self)
        data.append(0x0A)
        return data
    }

    package static func decode(_ data: Data, path: String) throws -> InTotoStatement {
        do { return try JSONDecoder().decode(InTotoStatement.self, from: data) } catch {
            throw AttestError.unreadable(path: path, reason: "not an in-toto Statement v1 with SLSA Provenance v1 (\(error))")
        }
    }

    /// The builder of this run: the GitHub Actions workflow run when the environment says so,
    /// else the local machine's unisonctl.
    package static func builder(environment: [String: String]) -> (id: String, invocation: String?) {
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
