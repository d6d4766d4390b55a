// SSH signatures and OpenSSH key files, checked against ssh-keygen both ways.
import Foundation
import Testing
import UnisonTestSupport

@testable import UnisonAttest

@Suite("SSH signatures (sshsig) and OpenSSH keys", .tags(.interop))
struct SSHSignatureTests {
    @Test("a signature we write is accepted by ssh-keygen -Y verify; a changed file or another key is refused")
    func weSignSshKeygenVerifies() throws {
        let tmp = try TempDir()
        let key = SSHSigningKey.generate(comment: "test")
        let file = tmp.path("SHA256SUMS-v1.0.0.txt")
        try Data("0123  a\n".utf8).write(to: file)
        let sig = tmp.path("SHA256SUMS-v1.0.0.txt.sig")
        try Data(try SSHSignature.sign(try Data(contentsOf: file), key: key).armored.utf8).write(to: sig)
        let signers = tmp.path("allowed")
        try Data(AllowedSigners.text([key.publicKey]).utf8).write(to: signers)

        let ok = try SSHKeygen.verify(file: file, signature: sig, allowedSigners: signers)
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout.contains("Good \"file\" signature for \(AllowedSigners.principal)"))

        try Data("0123  b\n".utf8).write(to: file)
        #expect(try SSHKeygen.verify(file: file, signature: sig, allowedSigners: signers).status != 0)

        try Data("0123  a\n".utf8).write(to: file)
        let other = SSHSigningKey.generate(comment: "other")
        try Data(AllowedSigners.text([other.publicKey]).utf8).write(to: signers)
        #expect(try SSHKeygen.verify(file: file, signature: sig, allowedSigners: signers).status != 0)
    }

    @Test("ssh-keygen's own keys and signatures are read: -t ed25519 key file, -Y sign output, -y public key")
    func sshKeygenSignsWeVerify() throws {
        let tmp = try TempDir()
        let keyFile = tmp.path("id_ed25519")
        try TestProcess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "release key", "-f", keyFile.path])
        let key = try SSHSigningKey(openSSH: try String(contentsOf: keyFile, encoding: .utf8), source: keyFile.path)
        let pub = try SSHPublicKey(line: try String(contentsOf: tmp.path("id_ed25519.pub"), encoding: .utf8))
        #expect(key.publicKey == pub)
        #expect(pub.comment == "release key")
        // ssh-keygen -l prints the same fingerprint.
        #expect(try TestProcess.run(["ssh-keygen", "-l", "-f", tmp.path("id_ed25519.pub").path]).contains(pub.fingerprint))

        let file = tmp.path("data.txt")
        try Data("hello\n".utf8).write(to: file)
        try TestProcess.run(["ssh-keygen", "-q", "-Y", "sign", "-f", keyFile.path, "-n", "file", file.path])
        let theirs = try SSHSignature(armored: try String(contentsOf: tmp.path("data.txt.sig"), encoding: .utf8), path: "data.txt.sig")
        #expect(theirs.verifies(try Data(contentsOf: file), trusted: [pub]))
        #expect(!theirs.verifies(Data("hullo\n".utf8), trusted: [pub]))
        #expect(!theirs.verifies(try Data(contentsOf: file), namespace: "git", trusted: [pub]))
        // Ed25519 is deterministic: our signature with their key is byte for byte theirs.
        #expect(
            try SSHSignature.sign(try Data(contentsOf: file), key: key).armored == (try String(contentsOf: tmp.path("data.txt.sig"), encoding: .utf8))
        )
    }

    @Test("a key file we write is read by ssh-keygen -y (same public key)")
    func keyFileInterop() throws {
        let tmp = try TempDir()
        let key = SSHSigningKey.generate(comment: "ours")
        let file = tmp.path("key")
        try Data(key.openSSHText().utf8).write(to: file)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file.path)
        let pub = try TestProcess.run(["ssh-keygen", "-y", "-f", file.path])
        #expect(try SSHPublicKey(line: pub) == key.publicKey)
        #expect(!key.description.contains(key.openSSHText().prefix(60).dropFirst(40)))
    }

    @Test("refusals: an encrypted key, another key type, a corrupt key, a broken signature; no key material in errors")
    func refusals() throws {
        let tmp = try TempDir()
        let encrypted = tmp.path("enc")
        try TestProcess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "secret-pass", "-f", encrypted.path])
        let text = try String(contentsOf: encrypted, encoding: .utf8)
        #expect(throws: AttestError.self) { try SSHSigningKey(openSSH: text, source: encrypted.path) }
        do { _ = try SSHSigningKey(openSSH: text, source: encrypted.path) } catch {
            #expect("\(error)".contains("encrypted"))
            #expect(!"\(error)".contains("BEGIN"))
        }
        let ecdsa = tmp.path("ecdsa")
        try TestProcess.run(["ssh-keygen", "-q", "-t", "ecdsa", "-N", "", "-f", ecdsa.path])
        do { _ = try SSHSigningKey(openSSH: try String(contentsOf: ecdsa, encoding: .utf8), source: "ecdsa"); Issue.record("accepted ecdsa") } catch {
            #expect("\(error)".contains("ecdsa-sha2-nistp256 is not supported"))
        }
        #expect(throws: AttestError.self) {
            try SSHSigningKey(openSSH: "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n", source: "x")
        }
        #expect(throws: AttestError.self) {
            try SSHSignature(armored: "-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n-----END SSH SIGNATURE-----\n", path: "x.sig")
        }
        #expect(throws: AttestError.self) { try SSHPublicKey(line: "ssh-rsa AAAAB3NzaC1yc2E= x") }
    }
}
