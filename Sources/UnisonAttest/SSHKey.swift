// Ed25519 keys in OpenSSH's formats:
//
//   public key line     "ssh-ed25519 " base64(string "ssh-ed25519", string pk[32]) [" " comment]
//   private key file    "-----BEGIN OPENSSH PRIVATE KEY-----" (PROTOCOL.key):
//       "openssh-key-v1\0", string cipher ("none"), string kdf ("none"), string kdfoptions (""),
//       uint32 nkeys (1), string publickey, string private section:
//         uint32 check, uint32 check (equal), string "ssh-ed25519", string pk[32],
//         string sk[64] (seed ‖ pk), string comment, padding 1, 2, 3, … to a multiple of 8
//
// Only unencrypted keys are read: a passphrase-protected key is refused with a clear error.
import FoundationEssentials
import UnisonCore
import UnisonCrypto

/// An Ed25519 public key as SSH names it.
package struct SSHPublicKey: Sendable, Equatable, Hashable {
    package static let algorithm = "ssh-ed25519"
    package let raw: Data
    package var comment: String

    package init(raw: Data, comment: String = "") throws {
        guard raw.count == 32 else { throw AttestError.badKey(source: "public key", reason: "an Ed25519 key is 32 bytes, got \(raw.count)") }
        self.raw = raw
        self.comment = comment
    }

    /// The wire blob: string "ssh-ed25519", string key.
    package var blob: Data {
        var w = SSHWriter()
        w.string(Self.algorithm)
        w.string(raw)
        return w.bytes
    }

    /// `ssh-ed25519 AAAA…` (without the comment).
    package var line: String { "\(Self.algorithm) \(blob.base64EncodedString())" }

    /// `SHA256:<base64 without padding>`, as `ssh-keygen -l` prints it.
    package var fingerprint: String {
        let b64 = Data(SHA256.hash(data: blob)).base64EncodedString()
        return "SHA256:" + b64.replacing("=", with: "")
    }

    package static func == (a: SSHPublicKey, b: SSHPublicKey) -> Bool { a.raw == b.raw }
    package func hash(into hasher: inout Hasher) { hasher.combine(raw) }

    package init(blob: Data, source: String = "public key") throws {
        var r = SSHReader(blob)
        do {
            let algorithm = try r.text()
            guard algorithm == Self.algorithm else {
                throw AttestError.badKey(source: source, reason: "key type \(algorithm) is not supported (only ssh-ed25519)")
            }
            let key = try r.string()
            guard r.isAtEnd else { throw AttestError.badKey(source: source, reason: "trailing bytes after the key") }
            try self.init(raw: key)
        } catch is SSHReader.Truncated {
            throw AttestError.badKey(source: source, reason: "truncated key blob")
        }
    }

    /// Parses `ssh-ed25519 AAAA… [comment]` (an OpenSSH `.pub` line or a spec entry).
    package init(line: String, source: String = "public key") throws {
        let fields = line.trimming(.whitespacesAndNewlines).split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
        guard fields.count >= 2 else { throw AttestError.badKey(source: source, reason: "expected 'ssh-ed25519 <base64> [comment]'") }
        guard fields[0] == Self.algorithm else {
            throw AttestError.badKey(source: source, reason: "key type \(fields[0]) is not supported (only ssh-ed25519)")
        }
        guard let blob = Data(base64Encoded: String(fields[1])) else {
            throw AttestError.badKey(source: source, reason: "the key is not valid base64")
        }
        try self.init(blob: blob, source: source)
        comment = fields.count > 2 ? String(fields[2]) : ""
    }

    var cryptoKey: Ed25519.PublicKey {
        get throws {
            do { return try Ed25519.PublicKey(rawRepresentation: raw) } catch {
                throw AttestError.badKey(source: "public key", reason: "an Ed25519 key is 32 bytes, got \(error.got)")
            }
        }
    }
}

/// An Ed25519 private key that signs. Its description never shows key material.
package struct SSHSigningKey: Sendable, CustomStringConvertible {
    private let key: Ed25519.PrivateKey
    package let publicKey: SSHPublicKey

    package var description: String { "ssh-ed25519 signing key \(publicKey.fingerprint)" }

    init(key: Ed25519.PrivateKey, comment: String) {
        self.key = key
        self.publicKey = try! SSHPublicKey(raw: key.publicKey.rawRepresentation, comment: comment)
    }

    /// A fresh key (for a build that was given none).
    package static func generate(comment: String) -> SSHSigningKey {
        SSHSigningKey(key: Ed25519.PrivateKey(), comment: comment)
    }

    /// Reads an unencrypted OpenSSH private key (`ssh-keygen -t ed25519 -N ''`). `source`
    /// names where the text came from in errors (a path or an environment variable).
    package init(openSSH text: String, source: String) throws {
        guard let data = Armor.unwrap(text, label: "OPENSSH PRIVATE KEY") else {
            throw AttestError.badKey(source: source, reason: "not an OpenSSH private key (-----BEGIN OPENSSH PRIVATE KEY-----)")
        }
        let magic = Data("openssh-key-v1\0".utf8)
        guard data.starts(with: magic) else { throw AttestError.badKey(source: source, reason: "missing the openssh-key-v1 magic") }
        var r = SSHReader(data.dropFirst(magic.count))
        do {
            let cipher = try r.text(), kdf = try r.text()
            _ = try r.string()
            guard cipher == "none", kdf == "none" else {
                throw AttestError.badKey(
                    source: source,
                    reason:
                        "the key is encrypted (\(cipher)); unisonctl reads unencrypted keys only: give it a key without a passphrase, kept in a secret store"
                )
            }
            guard try r.uint32() == 1 else { throw AttestError.badKey(source: source, reason: "the file holds more than one key") }
            let publicBlob = try r.string()
            var p = SSHReader(try r.string())
            guard p.remaining % 8 == 0 else { throw AttestError.badKey(source: source, reason: "private section is not padded to 8 bytes") }
            guard try p.uint32() == p.uint32() else { throw AttestError.badKey(source: source, reason: "check bytes differ (corrupt key)") }
            let algorithm = try p.text()
            guard algorithm == SSHPublicKey.algorithm else {
                throw AttestError.badKey(source: source, reason: "key type \(algorithm) is not supported (only ssh-ed25519)")
            }
            let pk = try p.string(), sk = try p.string()
            let comment = try p.text()
            var pad: UInt8 = 1
            while !p.isAtEnd {
                guard try p.raw(1).first == pad else { throw AttestError.badKey(source: source, reason: "bad padding (corrupt key)") }
                pad &+= 1
            }
            guard sk.count == 64, pk.count == 32, sk.suffix(32) == pk else {
                throw AttestError.badKey(source: source, reason: "the Ed25519 private key is not 64 bytes ending in its public key")
            }
            let key: Ed25519.PrivateKey
            do { key = try Ed25519.PrivateKey(rawRepresentation: sk.prefix(32)) } catch {
                throw AttestError.badKey(source: source, reason: "the Ed25519 seed is not 32 bytes")
            }
            guard key.publicKey.rawRepresentation == pk, try SSHPublicKey(blob: publicBlob, source: source).raw == pk else {
                throw AttestError.badKey(source: source, reason: "the public key does not match the private key")
            }
            self.init(key: key, comment: comment)
        } catch is SSHReader.Truncated {
            throw AttestError.badKey(source: source, reason: "truncated key file")
        }
    }

    /// The key as an unencrypted OpenSSH private key file (mode 0600 is the caller's job).
    /// `check` fills the two check words; fixed for reproducible tests, random otherwise.
    package func openSSHText(check: UInt32 = UInt32.random(in: .min ... .max)) -> String {
        var priv = SSHWriter()
        priv.uint32(check)
        priv.uint32(check)
        priv.string(SSHPublicKey.algorithm)
        priv.string(publicKey.raw)
        priv.string(key.rawRepresentation + publicKey.raw)
        priv.string(publicKey.comment)
        var pad: UInt8 = 1
        var section = priv.bytes
        while section.count % 8 != 0 { section.append(pad); pad += 1 }
        var w = SSHWriter()
        w.raw(Data("openssh-key-v1\0".utf8))
        w.string("none")
        w.string("none")
        w.string(Data())
        w.uint32(1)
        w.string(publicKey.blob)
        w.string(section)
        return Armor.wrap(w.bytes, label: "OPENSSH PRIVATE KEY", width: 70)
    }

    func sign(_ data: Data) -> Data {
        key.signature(for: data)
    }
}
