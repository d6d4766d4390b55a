// `unisonctl release attest|verify|attach` as a user runs them: the built binary, a real
// docker-registry on 127.0.0.1, results read back by skopeo and the referrers listing.
import Foundation
import Testing
import UnisonCore
import UnisonTestSupport

@testable import UnisonAttest
@testable import UnisonOCI

@Suite("release attest, verify and attach through the CLI", .tags(.interop))
struct ReleaseAttestCLITests {
    static let spec = AttestCLI.repoRoot.appendingPathComponent("unison.yaml").path

    @Test("attest with no key says it generated one; verify exits 0, then 1 naming a flipped byte; a key from the environment is never printed")
    func attestAndVerify() throws {
        let tmp = try TempDir()
        let (dir, _) = try SampleRelease.make(tmp, key: SSHSigningKey.generate(comment: "first"))
        let noKey = try AttestCLI.run(["release", "attest", dir.path, "--spec", Self.spec, "--version", "1.0.0"])
        #expect(noKey.status == 2)
        #expect(noKey.stderr.contains("--ephemeral-key"))

        let eph = try AttestCLI.run([
            "release", "attest", dir.path, "--spec", Self.spec, "--version", "1.0.0", "--ephemeral-key",
            "--commit", String(repeating: "b", count: 40),
        ])
        #expect(eph.status == 0, "\(eph.stderr)")
        #expect(eph.stderr.contains("signed with a key generated for this run"))

        let key = SSHSigningKey.generate(comment: "env")
        let keyText = key.openSSHText()
        let env = try AttestCLI.run(
            [
                "release", "attest", dir.path, "--spec", Self.spec, "--version", "1.0.0", "--json",
                "--commit", String(repeating: "b", count: 40),
            ], environment: ["UNISONCTL_SIGNING_KEY": keyText])
        #expect(env.status == 0, "\(env.stderr)")
        let report = try JSONDecoder().decode(AttestReport.self, from: Data(env.stdout.utf8))
        #expect(report.keySource == "$UNISONCTL_SIGNING_KEY" && !report.ephemeralKey)
        #expect(report.key == key.publicKey.fingerprint)
        let body = keyText.split(separator: "\n")[1]
        #expect(!env.stdout.contains(body) && !env.stderr.contains(body))

        let pub = tmp.path("release.pub")
        try Data((key.publicKey.line + "\n").utf8).write(to: pub)
        let ok = try AttestCLI.run(["release", "verify", dir.path, "--key", pub.path])
        #expect(ok.status == 0, "\(ok.stdout) \(ok.stderr)")
        #expect(ok.stdout.contains("all good"))

        let artifact = dir.appendingPathComponent("unisonos-wsl2-1.0.0.tar.gz")
        var bytes = try Data(contentsOf: artifact)
        bytes[7] ^= 0x80
        try bytes.write(to: artifact)
        let bad = try AttestCLI.run(["release", "verify", dir.path, "--key", pub.path, "--json"])
        #expect(bad.status == 1)
        let failed = try JSONDecoder().decode(VerifyReport.self, from: Data(bad.stdout.utf8))
        #expect(failed.failures.contains { $0.hasPrefix("unisonos-wsl2-1.0.0.tar.gz: sha256") })
        #expect(failed.failures.contains { $0.contains("unisonos-wsl2-1.0.0.tar.gz.spdx.json describes unisonos-wsl2-1.0.0.tar.gz with sha256") })
        #expect(failed.failures.contains { $0.contains("subject unisonos-wsl2-1.0.0.tar.gz has sha256") })

        let badKey = try AttestCLI.run(
            ["release", "attest", dir.path, "--spec", Self.spec, "--version", "1.0.0"],
            environment: [
                "UNISONCTL_SIGNING_KEY": "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n"
            ])
        #expect(badKey.status == 2)
        #expect(badKey.stderr.contains("$UNISONCTL_SIGNING_KEY") && !badKey.stderr.contains("b3BlbnNzaC1rZXktdjEAAAAA"))
    }

    @Test("attach pushes SBOM, provenance and signatures as referrers; oci referrers and skopeo see them; verify REF passes")
    func attachAndVerifyReference() async throws {
        let registry = try TestRegistry.start()
        defer { registry.stop() }
        let tmp = try TempDir()
        let key = SSHSigningKey.generate(comment: "release")
        let (dir, _) = try SampleRelease.make(tmp, key: key)
        let pub = tmp.path("release.pub")
        try Data((key.publicKey.line + "\n").utf8).write(to: pub)

        // The qcow2 published as an OCI artifact, as the release workflow does.
        let qcow2 = "unisonos-linux-vm-1.0.0.qcow2"
        let push = try AttestCLI.run([
            "oci", "push-artifact", "\(registry.host)/unisonos/vm:1.0.0", dir.appendingPathComponent(qcow2).path,
            "--artifact-type", "application/vnd.unisonos.vm.v1", "--json",
        ])
        #expect(push.status == 0, "\(push.stderr)")
        let subject = "\(registry.host)/unisonos/vm:1.0.0"

        let attach = try AttestCLI.run(["release", "attach", dir.path, "--subject", subject, "--artifact", qcow2, "--json"])
        #expect(attach.status == 0, "\(attach.stderr)")
        let attached = try JSONDecoder().decode(ReleaseReferrers.Report.self, from: Data(attach.stdout.utf8))
        #expect(
            attached.attached.map(\.artifactType) == [ReleaseReferrers.sbomType, ReleaseReferrers.provenanceType, ReleaseReferrers.signaturesType])
        #expect(attached.attached.allSatisfy { $0.referrersTagUpdated })

        let listed = try AttestCLI.run(["oci", "referrers", subject, "--json"])
        #expect(listed.status == 0, "\(listed.stderr)")
        let referrers = try JSONDecoder().decode(ReferrersReport.self, from: Data(listed.stdout.utf8))
        #expect(
            Set(referrers.referrers.compactMap(\.artifactType))
                == Set([ReleaseReferrers.sbomType, ReleaseReferrers.provenanceType, ReleaseReferrers.signaturesType]))
        // skopeo reads the fallback index and the SBOM artifact.
        let tag = "sha256-\(referrers.digest.hex)"
        let index = try TestProcess.run(["skopeo", "inspect", "--raw", "--tls-verify=false", "docker://\(registry.host)/unisonos/vm:\(tag)"])
        #expect(index.contains(ReleaseReferrers.sbomType) && index.contains(ReleaseReferrers.provenanceType))
        let sbomDigest = attached.attached[0].digest
        let sbomManifest = try TestProcess.run([
            "skopeo", "inspect", "--raw", "--tls-verify=false", "docker://\(registry.host)/unisonos/vm@\(sbomDigest)",
        ])
        #expect(sbomManifest.contains("\(qcow2).spdx.json") && sbomManifest.contains(referrers.digest.description))

        let verify = try AttestCLI.run(["release", "verify", subject, "--key", pub.path, "--json"])
        #expect(verify.status == 0, "\(verify.stdout) \(verify.stderr)")
        let report = try JSONDecoder().decode(VerifyReport.self, from: Data(verify.stdout.utf8))
        #expect(report.checked.contains("checksum \(qcow2)"))
        #expect(report.checked.contains { $0.hasPrefix("SBOM \(qcow2).spdx.json") })
        #expect(report.checked.contains("provenance subject \(qcow2)"))

        let wrong = tmp.path("wrong.pub")
        try Data((SSHSigningKey.generate(comment: "w").publicKey.line + "\n").utf8).write(to: wrong)
        let refused = try AttestCLI.run(["release", "verify", subject, "--key", wrong.path])
        #expect(refused.status == 1)
        #expect(refused.stdout.contains("not a trusted key"))
    }
}
