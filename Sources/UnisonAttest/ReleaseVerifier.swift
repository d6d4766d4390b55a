import FoundationEssentials
import UnisonCore

/// `unisonctl release verify --json`: what was checked and every failure found.
package struct VerifyReport: Sendable, Codable, Equatable {
    package var schema = "unisonctl.release-verify/v1"
    package var directory: String
    /// Where the trusted keys came from: `--key FILE`, or the release's own allowed signers.
    package var keys: String
    package var fingerprints: [String]
    package var checked: [String]
    package var failures: [String]
    package var notes: [String]
    package var ok: Bool { failures.isEmpty }

    enum CodingKeys: String, CodingKey { case schema, directory, keys, fingerprints, checked, failures, notes, ok }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(schema, forKey: .schema)
        try c.encode(directory, forKey: .directory)
        try c.encode(keys, forKey: .keys)
        try c.encode(fingerprints, forKey: .fingerprints)
        try c.encode(checked, forKey: .checked)
        try c.encode(failures, forKey: .failures)
        try c.encode(notes, forKey: .notes)
        try c.encode(ok, forKey: .ok)
    }

    package init(directory: String, keys: String, fingerprints: [String], checked: [String], failures: [String], notes: [String]) {
        self.directory = directory
        self.keys = keys
        self.fingerprints = fingerprints
        self.checked = checked
        self.failures = failures
        self.notes = notes
    }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            directory: try c.decode(String.self, forKey: .directory), keys: try c.decode(String.self, forKey: .keys),
            fingerprints: try c.decode([String].self, forKey: .fingerprints), checked: try c.decode([String].self, forKey: .checked),
            failures: try c.decode([String].self, forKey: .failures), notes: try c.decode([String].self, forKey: .notes))
    }
}

/// Offline verification of a release directory: signatures, checksums, SBOMs and provenance
/// against the files, and no file the checksum list does not name.
package enum ReleaseVerifier {
    /// `partial`: the directory holds some of the release's artifacts (fetched from a
    /// registry): files the checksum list or provenance name but that are absent are skipped.
    package static func verify(directory: URL, keyFile: URL?, partial: Bool = false) throws -> VerifyReport {
        let layout = try ReleaseLayout(directory: directory)
        var failures: [String] = [], checked: [String] = [], notes: [String] = []

        // Trusted keys.
        let keys: [SSHPublicKey], keySource: String
        if let keyFile {
            let text = try BoundedRead.text(keyFile, limit: BoundedRead.keys, what: "key file")
            keys = try AllowedSigners.keys(in: text, source: keyFile.path)
            keySource = keyFile.path
        } else if layout.allowedSigners.count == 1 {
            let url = layout.url(layout.allowedSigners[0])
            keys = try AllowedSigners.keys(in: try BoundedRead.text(url, limit: BoundedRead.keys, what: "allowed signers file"), source: url.path)
            keySource = layout.allowedSigners[0]
            notes.append(
                "trusting the keys the release itself ships (\(keySource)): this proves the files match each other; pass --key with a key you got elsewhere (the spec's release.signingKeys) to prove who signed them"
            )
        } else {
            throw AttestError.badInput(
                "\(directory.path) has \(layout.allowedSigners.isEmpty ? "no" : "more than one") *\(ReleaseLayout.allowedSignersMarker)*.txt file; pass --key FILE (an allowed_signers or .pub file)"
            )
        }

        // Signatures: every .sig must verify; these files must have one.
        var mustBeSigned = layout.checksums + layout.sboms + layout.provenance
        mustBeSigned += layout.artifacts.filter { $0.hasPrefix("unisonos-manifest-") && $0.hasSuffix(".json") }
        for name in mustBeSigned where !layout.signatures.contains(name + ReleaseLayout.signatureSuffix) {
            failures.append("\(name) has no signature (\(name)\(ReleaseLayout.signatureSuffix) is missing)")
        }
        for sig in layout.signatures {
            let target = String(sig.dropLast(ReleaseLayout.signatureSuffix.count))
            guard FileManager.default.fileExists(atPath: layout.url(target).path) else {
                failures.append("\(sig) signs \(target), which is not in the directory")
                continue
            }
            do {
                let signature = try SSHSignature(
                    armored: try BoundedRead.text(layout.url(sig), limit: BoundedRead.signature, what: "signature"), path: sig)
                if !keys.contains(signature.publicKey) {
                    failures.append("\(sig) is signed by \(signature.publicKey.fingerprint), which is not a trusted key (\(keySource))")
                } else if !(try signature.verifies(file: layout.url(target), trusted: keys)) {
                    failures.append("\(sig) does not verify: \(target) or its signature was changed")
                } else {
                    checked.append("signature \(sig)")
                }
            } catch let error as AttestError {
                failures.append("\(sig) is not a valid SSH signature: \(error)")
            }
        }

        // Checksums.
        var sums: [String: String] = [:]
        if layout.checksums.count != 1 {
            failures.append(
                "expected one SHA256SUMS-<version>.txt, found \(layout.checksums.isEmpty ? "none" : layout.checksums.joined(separator: ", "))")
        } else {
            let name = layout.checksums[0]
            let text = try BoundedRead.text(layout.url(name), limit: BoundedRead.checksums, what: "checksum list")
            for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where !line.isEmpty {
                let parts = line.split(separator: " ", maxSplits: 1)
                guard parts.count == 2, parts[0].count == 64, parts[0].allSatisfy(\.isHexDigit),
                    parts[1].hasPrefix(" ") || parts[1].hasPrefix("*")
                else {
                    failures.append("\(name) line \(n + 1) is not '<sha256>  <file>'")
                    continue
                }
                let file = String(parts[1].dropFirst())
                guard !file.contains("/"), file != ".", file != ".." else {
                    failures.append("\(name) line \(n + 1) names a path outside the directory: \(file)")
                    continue
                }
                sums[file] = parts[0].lowercased()
                guard FileManager.default.fileExists(atPath: layout.url(file).path) else {
                    if !partial { failures.append("\(file) is listed in \(name) (line \(n + 1)) but missing") }
                    continue
                }
                let actual = try SHA256Hex.file(layout.url(file)).hex
                if actual != sums[file] {
                    failures.append("\(file): sha256 \(actual) does not match \(name) line \(n + 1) (\(sums[file]!))")
                } else {
                    checked.append("checksum \(file)")
                }
            }
            for file in layout.artifacts + layout.sboms + layout.provenance + layout.allowedSigners where sums[file] == nil {
                failures.append("\(file) is not listed in \(name)")
            }
        }

        // SBOMs against their artifacts.
        for name in layout.sboms {
            let artifact = String(name.dropLast(SBOMFile.suffix.count))
            guard layout.artifacts.contains(artifact) else {
                if !partial { failures.append("\(name) is the SBOM of \(artifact), which is not in the directory") }
                continue
            }
            do {
                let doc = try SPDXDocument.decode(try BoundedRead.data(layout.url(name), limit: BoundedRead.sbom, what: "SBOM"), path: name)
                let actual = try SHA256Hex.file(layout.url(artifact)).hex
                guard let described = doc.described else {
                    failures.append("\(name) describes no package (no DESCRIBES relationship)")
                    continue
                }
                if described.name != artifact {
                    failures.append("\(name) describes \(described.name), not \(artifact)")
                } else if described.sha256 != actual {
                    failures.append("\(name) describes \(artifact) with sha256 \(described.sha256 ?? "none"), but the file's is \(actual)")
                } else {
                    checked.append("SBOM \(name) (\(doc.packages.count - 1) elements)")
                }
            } catch let error as AttestError {
                failures.append(error.description)
            }
        }
        for artifact in layout.artifacts where ReleaseLayout.isImage(artifact) && !layout.sboms.contains(SBOMFile.name(for: artifact)) {
            failures.append("\(artifact) has no SBOM (\(SBOMFile.name(for: artifact)))")
        }

        // Provenance subjects against the artifacts.
        if layout.provenance.count != 1 {
            failures.append(
                "expected one provenance file (*\(ProvenanceFile.suffix)), found \(layout.provenance.isEmpty ? "none" : layout.provenance.joined(separator: ", "))"
            )
        } else {
            let name = layout.provenance[0]
            do {
                let statement = try InTotoStatement.decode(
                    try BoundedRead.data(layout.url(name), limit: BoundedRead.provenance, what: "provenance"), path: name)
                if statement._type != InTotoStatement.type || statement.predicateType != InTotoStatement.slsaProvenance {
                    failures.append("\(name) is \(statement._type) / \(statement.predicateType), not an in-toto Statement v1 with SLSA Provenance v1")
                }
                var subjects = Set<String>()
                for s in statement.subject {
                    guard let subjectName = s.name, let hex = s.digest?["sha256"] else {
                        failures.append("\(name) has a subject without a name and a sha256 digest")
                        continue
                    }
                    subjects.insert(subjectName)
                    guard layout.artifacts.contains(subjectName) else {
                        if !partial { failures.append("\(name): subject \(subjectName) is not an artifact of the directory") }
                        continue
                    }
                    let actual = try SHA256Hex.file(layout.url(subjectName)).hex
                    if actual != hex {
                        failures.append("\(name): subject \(subjectName) has sha256 \(hex), but the file's is \(actual)")
                    } else {
                        checked.append("provenance subject \(subjectName)")
                    }
                }
                for artifact in layout.artifacts where !subjects.contains(artifact) {
                    failures.append("\(artifact) is not a subject of \(name)")
                }
            } catch let error as AttestError {
                failures.append(error.description)
            }
        }
        return VerifyReport(
            directory: directory.path, keys: keySource, fingerprints: keys.map(\.fingerprint),
            checked: checked, failures: failures, notes: notes)
    }
}
