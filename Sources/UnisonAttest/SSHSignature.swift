// SSH signatures (OpenSSH PROTOCOL.sshsig), what `ssh-keygen -Y sign` writes and
// `ssh-keygen -Y verify` checks:
//
//   blob:          byte[6] "SSHSIG", uint32 version (1), string publickey, string namespace,
//                  string reserved (""), string hash_algorithm, string signature
//   signed data:   byte[6] "SSHSIG", string namespace, string reserved (""),
//                  string hash_algorithm, string H(message)
//   signature:     string "ssh-ed25519", string sig[64]
//   armor:         -----BEGIN SSH SIGNATURE----- / base64 in 70-column lines / -----END SSH SIGNATURE-----
//
// Ed25519 signatures are deterministic, so the same key and file give the same bytes.
import FoundationEssentials
import UnisonCore
import UnisonCrypto

package struct SSHSignature: Sendable, Equatable {
    package static let label = "SSH SIGNATURE"
    /// The namespace release files are signed in: `ssh-keygen -Y sign`'s default for files.
    package static let fileNamespace = "file"

    package var publicKey: SSHPublicKey
    package var namespace: String
    package var hashAlgorithm: String
    /// The raw 64-byte Ed25519 signature.
    package var signature: Data

    /// Signs `message` (the whole file's bytes) in `namespace` with SHA-512.
    package static func sign(_ message: Data, key: SSHSigningKey, namespace: String = fileNamespace) throws -> SSHSignature {
        let signed = signedData(hash: Data(SHA512.hash(data: message)), namespace: namespace, algorithm: "sha512")
        return SSHSignature(publicKey: key.publicKey, namespace: namespace, hashAlgorithm: "sha512", signature: key.sign(signed))
    }

    static func signedData(hash: Data, namespace: String, algorithm: String) -> Data {
        var w = SSHWriter()
        w.raw(Data("SSHSIG".utf8))
        w.string(namespace)
        w.string(Data())
        w.string(algorithm)
        w.string(hash)
        return w.bytes
    }

    package var blob: Data {
        var sig = SSHWriter()
        sig.string(SSHPublicKey.algorithm)
        sig.string(signature)
        var w = SSHWriter()
        w.raw(Data("SSHSIG".utf8))
        w.uint32(1)
        w.string(publicKey.blob)
        w.string(namespace)
        w.string(Data())
        w.string(hashAlgorithm)
        w.string(sig.bytes)
        return w.bytes
    }

    package var armored: String { Armor.wrap(blob, label: Self.label, width: 70) }

    /// Parses an armored signature; `path` names it in errors.
    package init(armored text: String, path: String) throws {
        guard let data = Armor.unwrap(text, label: Self.label) else {
            throw AttestError.badSignature(path: path, reason: "no -----BEGIN SSH SIGNATURE----- block with valid base64")
        }
        guard data.starts(with: Data("SSHSIG".utf8)) else { throw AttestError.badSignature(path: path, reason: "missing the SSHSIG magic") }
        var r = SSHReader(data.dropFirst(6))
        do {
            let version = try r.uint32()
            guard version == 1 else { throw AttestError.badSignature(path: path, reason: "version \(version) (only 1 is defined)") }
            let key = try SSHPublicKey(blob: try r.string(), source: path)
            let namespace = try r.text()
            _ = try r.string()
            let algorithm = try r.text()
            guard algorithm == "sha512" || algorithm == "sha256" else {
                throw AttestError.badSignature(path: path, reason: "hash algorithm \(algorithm) (sha256 and sha512 are defined)")
            }
            var s = SSHReader(try r.string())
            guard r.isAtEnd else { throw AttestError.badSignature(path: path, reason: "trailing bytes") }
            let type = try s.text()
            guard type == SSHPublicKey.algorithm else {
                throw AttestError.badSignature(path: path, reason: "signature type \(type) (only ssh-ed25519)")
            }
            let raw = try s.string()
            guard raw.count == 64, s.isAtEnd else { throw AttestError.badSignature(path: path, reason: "an Ed25519 signature is 64 bytes") }
            self.init(publicKey: key, namespace: namespace, hashAlgorithm: algorithm, signature: raw)
        } catch is SSHReader.Truncated {
            throw AttestError.badSignature(path: path, reason: "truncated")
        }
    }

    package init(publicKey: SSHPublicKey, namespace: String, hashAlgorithm: String, signature: Data) {
        self.publicKey = publicKey
        self.namespace = namespace
        self.hashAlgorithm = hashAlgorithm
        self.signature = signature
    }

    /// Whether this is a valid signature of the file at `url` (hashed in 1 MiB reads).
    package func verifies(file url: URL, namespace expected: String = fileNamespace, trusted: [SSHPublicKey]) throws -> Bool {
        guard namespace == expected, trusted.contains(publicKey), let key = try? publicKey.cryptoKey else { return false }
        let handle: FileIO
        do { handle = try FileIO(forReadingFrom: url) } catch {
            throw AttestError.unreadable(path: url.path, reason: "cannot read the signed file")
        }
        defer { try? handle.close() }
        var sha256 = SHA256(), sha512 = SHA512()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            if hashAlgorithm == "sha256" { sha256.update(data: chunk) } else { sha512.update(data: chunk) }
        }
        let hash = hashAlgorithm == "sha256" ? Data(sha256.finalize()) : Data(sha512.finalize())
        return key.isValidSignature(signature, for: Self.signedData(hash: hash, namespace: namespace, algorithm: hashAlgorithm))
    }

    /// Whether this is a valid signature of `message` in `namespace` by one of `trusted`.
    package func verifies(_ message: Data, namespace expected: String = fileNamespace, trusted: [SSHPublicKey]) -> Bool {
        guard namespace == expected, trusted.contains(publicKey), let key = try? publicKey.cryptoKey else { return false }
        let hash: Data = hashAlgorithm == "sha256" ? Data(SHA256.hash(data: message)) : Data(SHA512.hash(data: message))
        return key.isValidSignature(signature, for: Self.signedData(hash: hash, namespace: namespace, algorithm: hashAlgorithm))
    }
}

/// OpenSSH `allowed_signers` (ssh-keygen(1) "ALLOWED SIGNERS"): `principals [options] keytype
/// base64 [comment]` per line. Written with `namespaces="file"` so the keys sign files only.
package enum AllowedSigners {
    /// The principal release keys are listed under (`ssh-keygen -Y verify -I`).
    package static let principal = "release@unisonos"

    package static func text(_ keys: [SSHPublicKey], principal: String = principal) -> String {
        keys.map { "\(principal) namespaces=\"\(SSHSignature.fileNamespace)\" \($0.line)\($0.comment.isEmpty ? "" : " \($0.comment)")\n" }.joined()
    }

    /// Every ed25519 key of an allowed_signers file, a `.pub` file or a list of key lines.
    /// Lines of other key types are skipped; a file with no ed25519 key is an error.
    package static func keys(in text: String, source: String) throws -> [SSHPublicKey] {
        var keys: [SSHPublicKey] = []
        for line in text.split(whereSeparator: \.isNewline) {
            let trimmed = line.trimming(.whitespaces)
            guard !trimmed.isEmpty, !trimmed.hasPrefix("#") else { continue }
            let fields = trimmed.split(separator: " ", omittingEmptySubsequences: true)
            guard let at = fields.firstIndex(of: Substring(SSHPublicKey.algorithm)), at + 1 < fields.count else { continue }
            keys.append(try SSHPublicKey(line: fields[at...].joined(separator: " "), source: source))
        }
        guard !keys.isEmpty else { throw AttestError.badKey(source: source, reason: "no ssh-ed25519 public key in it") }
        return keys
    }
}
