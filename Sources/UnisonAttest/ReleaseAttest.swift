import FoundationEssentials
import UnisonCore
import UnisonRelease

/// Where the signing key comes from. The key text never leaves this process: errors name
/// the source (a path or a variable), never the key.
package enum SigningKeySource: Sendable, Equatable {
    case file(URL)
    case environment(String)
    /// A key generated for this run: its private half is discarded after signing, so the
    /// signatures prove the files are unchanged since this build, not who built them.
    case ephemeral

    package static let variable = "UNISONCTL_SIGNING_KEY"

    /// `--key FILE` when given, else `$UNISONCTL_SIGNING_KEY` (the key file's text) when set,
    /// else an ephemeral key when allowed; nil when none is available.
    package static func choose(file: String?, environment: [String: String], allowEphemeral: Bool) -> SigningKeySource? {
        if let file { return .file(URL(fileURLWithPath: file)) }
        if let text = environment[variable], !text.isEmpty { return .environment(variable) }
        return allowEphemeral ? .ephemeral : nil
    }

    package func load(environment: [String: String]) throws -> SSHSigningKey {
        switch self {
        case let .file(url):
            let text: String
            do { text = try String(contentsOf: url, encoding: .utf8) } catch {
                throw AttestError.badKey(source: url.path, reason: "cannot read the file")
            }
            return try SSHSigningKey(openSSH: text, source: url.path)
        case let .environment(name):
            return try SSHSigningKey(openSSH: environment[name] ?? "", source: "$\(name)")
        case .ephemeral:
            return SSHSigningKey.generate(comment: "unisonctl ephemeral release key")
        }
    }
}

/// `unisonctl release attest --json`.
package struct AttestReport: Sendable, Codable, Equatable {
    package var schema = "unisonctl.release-attest/v1"
    package var directory: String
    package var version: String
    package var key: String
    package var keySource: String
    package var ephemeralKey: Bool
    package var provenance: String
    package var checksums: String
    package var allowedSigners: String
    package var signatures: [String]
    package var subjects: Int
    package var warnings: [String]
}

package enum ReleaseAttest {
    package struct Request: Sendable {
        package var directory: URL
        /// The release's name in file names: `v1.2.3` for a SemVer version (as `release
        /// checksums` names it), else the name as given (a nightly's `edge-main-20261203`).
        package var version: String
        package var prefix: String
        package var key: SigningKeySource
        /// `release.signingKeys` of the spec: a given key must be one of them (when any).
        package var specKeys: [SSHPublicKey]
        package var spec: (path: String, sha256: String)
        package var commit: String?
        package var repositoryURI: String?
        package var epoch: Int64
        package var environment: [String: String]

        package init(
            directory: URL, version: String, prefix: String = "unisonos", key: SigningKeySource, specKeys: [SSHPublicKey],
            spec: (path: String, sha256: String), commit: String?, repositoryURI: String?, epoch: Int64,
            environment: [String: String]
        ) {
            self.directory = directory
            self.version = version
            self.prefix = prefix
            self.key = key
            self.specKeys = specKeys
            self.spec = spec
            self.commit = commit
            self.repositoryURI = repositoryURI
            self.epoch = epoch
            self.environment = environment
        }
    }

    /// Writes the allowed signers, the provenance and `SHA256SUMS-<v>.txt`, then signs the
    /// checksum file, the manifest, every SBOM and the provenance (`<file>.sig`).
    package static func run(_ r: Request) throws -> AttestReport {
        let key = try r.key.load(environment: r.environment)
        var warnings: [String] = []
        if !r.specKeys.isEmpty, !r.specKeys.contains(key.publicKey) {
            if r.key == .ephemeral {
                warnings.append(
                    "the ephemeral key is not one of the spec's release.signingKeys: verify with this release's allowed signers only to check integrity"
                )
            } else {
                throw AttestError.badKey(
                    source: describe(r.key), reason: "its public key \(key.publicKey.fingerprint) is not listed in the spec's release.signingKeys")
            }
        }
        let v = r.version
        let allowed = ScalarSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-")
        guard !v.isEmpty, !v.hasPrefix("."), v.unicodeScalars.allSatisfy(allowed.contains) else {
            throw AttestError.badInput("version '\(v)' cannot name release files (letters, digits, . _ + - only)")
        }
        let fm = FileManager.default

        // Allowed signers: this key and the spec's.
        var keys = [key.publicKey]
        for k in r.specKeys where !keys.contains(k) { keys.append(k) }
        let signersURL = r.directory.appendingPathComponent(ReleaseLayout.allowedSignersName(prefix: r.prefix, version: v))
        try AtomicFile.write(Data(AllowedSigners.text(keys).utf8), to: signersURL, permissions: 0o644)

        // Provenance over every artifact.
        let layout = try ReleaseLayout(directory: r.directory)
        guard !layout.artifacts.isEmpty else { throw AttestError.badInput("\(r.directory.path) holds no artifact to attest") }
        var artifacts: [(name: String, sha256: String)] = []
        for name in layout.artifacts { artifacts.append((name, try SHA256Hex.file(layout.url(name)).hex)) }
        var bases: [(name: String, sha256: String?)] = []
        for name in layout.sboms {
            let doc = try SPDXDocument.decode(
                try BoundedRead.data(layout.url(name), limit: BoundedRead.sbom, what: "SBOM"), path: layout.url(name).path)
            for rel in doc.relationships where rel.spdxElementId == SBOM.artifactID && rel.relationshipType == "DESCENDANT_OF" {
                if let base = doc.packages.first(where: { $0.SPDXID == rel.relatedSpdxElement }) { bases.append((base.name, base.sha256)) }
            }
        }
        let builder = InTotoStatement.builder(environment: r.environment)
        let statement = InTotoStatement.release(
            .init(
                version: v, artifacts: artifacts, spec: r.spec, commit: r.commit, repositoryURI: r.repositoryURI, bases: bases,
                builderID: builder.id, invocationID: builder.invocation, epoch: r.epoch))
        let provenanceURL = r.directory.appendingPathComponent(ProvenanceFile.name(prefix: r.prefix, version: v))
        for stale in layout.provenance where stale != provenanceURL.lastPathComponent {
            warnings.append("\(stale) is another provenance file in the directory: release verify will reject it")
        }
        try AtomicFile.write(try statement.encoded(), to: provenanceURL, permissions: 0o644)

        // Checksums over everything but signatures, then the signatures.
        let sums = try writeChecksums(directory: r.directory, version: v)
        var signed = [sums.lastPathComponent]
        let manifest = ReleaseManifest.fileName(version: v)
        if fm.fileExists(atPath: r.directory.appendingPathComponent(manifest).path) { signed.append(manifest) }
        signed += layout.sboms
        signed.append(provenanceURL.lastPathComponent)
        var written: [String] = []
        for name in signed {
            let file = r.directory.appendingPathComponent(name)
            let signature = try SSHSignature.sign(try Data(contentsOf: file), key: key)
            let sig = r.directory.appendingPathComponent(name + ReleaseLayout.signatureSuffix)
            try AtomicFile.write(Data(signature.armored.utf8), to: sig, permissions: 0o644)
            written.append(sig.lastPathComponent)
        }
        return AttestReport(
            directory: r.directory.path, version: v, key: key.publicKey.fingerprint, keySource: describe(r.key),
            ephemeralKey: r.key == .ephemeral, provenance: provenanceURL.lastPathComponent,
            checksums: sums.lastPathComponent, allowedSigners: signersURL.lastPathComponent,
            signatures: written, subjects: artifacts.count, warnings: warnings)
    }

    /// The version name of `text`: `v1.2.3` for SemVer (`1.2.3` or `v1.2.3`), else `text`.
    package static func versionName(_ text: String) -> String {
        SemVer(text)?.tagString(forceV: true) ?? text
    }

    /// `SHA256SUMS-<v>.txt` as `release checksums` writes it (`<hex>  <name>`, sorted by name,
    /// `sha256sum -c` reads it), over every file but signatures and checksum lists; written
    /// here so that a version that is not SemVer (a nightly) gets one too.
    static func writeChecksums(directory: URL, version: String) throws -> URL {
        let layout = try ReleaseLayout(directory: directory)
        let names = (layout.artifacts + layout.sboms + layout.provenance + layout.allowedSigners)
            .sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        var text = ""
        for name in names {
            guard !name.contains("\n"), !name.contains("\\") else {
                throw AttestError.badInput("\(name): names with newlines or backslashes cannot be listed in a checksum file")
            }
            text += "\(try SHA256Hex.file(layout.url(name)).hex)  \(name)\n"
        }
        let url = directory.appendingPathComponent("SHA256SUMS-\(version).txt")
        try AtomicFile.write(Data(text.utf8), to: url, permissions: 0o644)
        return url
    }

    static func describe(_ source: SigningKeySource) -> String {
        switch source {
        case let .file(url): return url.path
        case let .environment(name): return "$\(name)"
        case .ephemeral: return "ephemeral"
        }
    }
}
