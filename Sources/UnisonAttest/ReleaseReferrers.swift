// Release attestations attached in the registry: each pushed as an OCI artifact whose
// `subject` is the image or artifact it describes (distribution spec 1.1 referrers), found by
// the referrers API or, where the registry has none (GHCR, docker-registry 2.8), the
// `sha256-<hex>` tag fallback that `RegistryClient.pushArtifact` maintains.
import FoundationEssentials
import UnisonCore
import UnisonOCI

package enum ReleaseReferrers {
    package static let sbomType = "application/spdx+json"
    package static let provenanceType = "application/vnd.in-toto+json"
    /// The checksum list, its signature and the allowed signers, as one artifact.
    package static let signaturesType = "application/vnd.unisonos.release.signatures.v1+json"
    package static let sshSignatureMediaType = "application/vnd.unisonos.sshsig.v1"

    /// `unisonctl release attach --json`.
    package struct Report: Sendable, Codable, Equatable {
        package var schema = "unisonctl.release-attach/v1"
        package var subject: String
        package var attached: [ArtifactPushReport]
    }

    /// Pushes, as referrers of `subject`: the SBOM of `artifact` (or every SBOM when nil) with
    /// its signature, the provenance with its signature, and the signed checksum list with the
    /// allowed signers. The directory should pass `release verify` first; this checks only
    /// that the files exist.
    package static func attach(
        directory: URL, artifact: String?, subject: ImageReference, client: RegistryClient,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) async throws -> Report {
        let layout = try ReleaseLayout(directory: directory)
        let sboms: [String]
        if let artifact {
            guard layout.artifacts.contains(artifact) else { throw AttestError.badInput("\(artifact) is not an artifact of \(directory.path)") }
            sboms = layout.sboms.filter { $0 == SBOMFile.name(for: artifact) }
            guard !sboms.isEmpty else { throw AttestError.badInput("\(artifact) has no SBOM in \(directory.path)") }
        } else {
            sboms = layout.sboms
        }
        guard layout.provenance.count == 1, layout.checksums.count == 1, layout.allowedSigners.count == 1 else {
            throw AttestError.badInput(
                "\(directory.path) needs one provenance, one SHA256SUMS and one allowed-signers file: run release attest first")
        }
        func files(_ names: [String]) throws -> [ArtifactFile] {
            try names.flatMap { name -> [ArtifactFile] in
                let sig = name + ReleaseLayout.signatureSuffix
                guard layout.signatures.contains(sig) else { throw AttestError.badInput("\(name) has no signature \(sig)") }
                return [
                    ArtifactFile(url: layout.url(name), mediaType: mediaType(name)),
                    ArtifactFile(url: layout.url(sig), mediaType: sshSignatureMediaType),
                ]
            }
        }
        let repository = subject.repositoryReference
        var attached: [ArtifactPushReport] = []
        let sets: [(String, [ArtifactFile])] = [
            (sbomType, try files(sboms)),
            (provenanceType, try files(layout.provenance)),
            (signaturesType, try files(layout.checksums) + [ArtifactFile(url: layout.url(layout.allowedSigners[0]), mediaType: "text/plain")]),
        ]
        for (type, list) in sets where !list.isEmpty {
            attached.append(
                try await client.pushArtifact(
                    to: repository, files: list, artifactType: type, subject: subject,
                    annotations: ["org.opencontainers.image.description": "unisonctl release attestation"],
                    environment: environment))
        }
        return Report(subject: subject.description, attached: attached)
    }

    static func mediaType(_ name: String) -> String {
        if name.hasSuffix(SBOMFile.suffix) { return sbomType }
        if name.hasSuffix(ProvenanceFile.suffix) { return "application/vnd.in-toto+json" }
        return "text/plain"
    }
}

extension ReleaseReferrers {
    /// Fetches into `directory` the files of `subject` (an artifact pushed with titled layers;
    /// an image contributes none) and of every referrer `attach` pushed, by their titles.
    /// Titles are plain file names: anything with a path separator is refused.
    package static func download(subject: ImageReference, into directory: URL, client: RegistryClient) async throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let report = try await client.referrers(named: subject)
        let repository = subject.repositoryReference
        var manifests = [repository.with(digest: report.digest)]
        let ours = [sbomType, provenanceType, signaturesType]
        manifests += report.referrers.filter { ours.contains($0.artifactType ?? "") }.map { repository.with(digest: $0.digest) }
        for ref in manifests {
            let document = try await client.fetchManifest(ref)
            guard case let .image(manifest) = document.content else { continue }
            for layer in manifest.layers {
                guard let title = layer.annotations?["org.opencontainers.image.title"] else { continue }
                guard !title.isEmpty, !title.contains("/"), !title.hasPrefix("."), title != ".." else {
                    throw AttestError.badInput("\(ref): layer \(layer.digest) has an unsafe title '\(title)'")
                }
                // Attestation files are small; the subject's own files are what the user asked for.
                if ref.digest != report.digest, layer.size > Int64(BoundedRead.sbom) {
                    throw AttestError.badInput("\(ref): \(title) is \(layer.size) bytes, more than an attestation file may be")
                }
                try await client.fetchBlob(layer, from: repository, to: directory.appendingPathComponent(title))
            }
        }
    }
}
