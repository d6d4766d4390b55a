// A release directory attested and signed, checked by ssh-keygen, the provenance schemas and
// `release verify`; then each piece tampered with, one at a time, and named by verify.
import Foundation
import Testing
import UnisonCore
import UnisonRelease
import UnisonTestSupport

@testable import UnisonAttest

@Suite("release attest and verify", .tags(.interop))
struct ReleaseVerifyTests {
    static let schemas = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Schemas")

    @Test("attest writes provenance, checksums, allowed signers and signatures that ssh-keygen, sha256sum and the schemas accept")
    func attestThenCheckEverything() throws {
        let tmp = try TempDir()
        let key = SSHSigningKey.generate(comment: "release")
        let (dir, report) = try SampleRelease.make(tmp, key: key)
        #expect(report.subjects == 3)
        #expect(
            report.signatures == [
                "SHA256SUMS-v1.0.0.txt.sig", "unisonos-manifest-v1.0.0.json.sig",
                "unisonos-linux-vm-1.0.0.qcow2.spdx.json.sig", "unisonos-wsl2-1.0.0.tar.gz.spdx.json.sig",
                "unisonos-provenance-v1.0.0.intoto.json.sig",
            ])
        let signers = dir.appendingPathComponent(report.allowedSigners)
        for sig in report.signatures {
            let file = dir.appendingPathComponent(String(sig.dropLast(4)))
            let result = try SSHKeygen.verify(file: file, signature: dir.appendingPathComponent(sig), allowedSigners: signers)
            #expect(result.status == 0, "ssh-keygen -Y verify \(sig): \(result.stderr)")
        }
        let sums = try TestProcess.runStatus(["sha256sum", "-c", "--strict", "SHA256SUMS-v1.0.0.txt"], cwd: dir)
        #expect(sums.status == 0, "\(sums.stdout) \(sums.stderr)")
        #expect(!sums.stdout.contains(".sig"))

        // The statement and its predicate against the schemas written from the specs.
        let provenance = dir.appendingPathComponent(report.provenance)
        let script = """
            import json, sys, jsonschema
            doc = json.load(open(sys.argv[1]))
            jsonschema.validate(doc, json.load(open(sys.argv[2])), cls=jsonschema.Draft202012Validator)
            jsonschema.validate(doc["predicate"], json.load(open(sys.argv[3])), cls=jsonschema.Draft202012Validator)
            assert doc["predicateType"] == "https://slsa.dev/provenance/v1"
            print(len(doc["subject"]))
            """
        let valid = try TestProcess.runStatus([
            "python3", "-c", script, provenance.path,
            Self.schemas.appendingPathComponent("in-toto-statement-v1.schema.json").path,
            Self.schemas.appendingPathComponent("slsa-provenance-v1.schema.json").path,
        ])
        #expect(valid.status == 0, "\(valid.stderr)")
        #expect(valid.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "3")
        let statement = try InTotoStatement.decode(try Data(contentsOf: provenance), path: provenance.path)
        let deps = statement.predicate.buildDefinition.resolvedDependencies
        #expect(deps.contains { $0.name == "unison.yaml" && $0.digest?["sha256"] == String(repeating: "ef", count: 32) })
        #expect(deps.contains { $0.name == "base.tar.zst" && $0.digest?["sha256"] == String(repeating: "cd", count: 32) })
        #expect(deps.contains { $0.digest?["gitCommit"] == String(repeating: "a", count: 40) })
        #expect(statement.predicate.runDetails.builder.id == "urn:unisonos:unisonctl:builder:local")

        // The schema check can fail: a statement without subjects is refused.
        var empty = statement
        empty.subject = []
        let bad = tmp.path("bad.json")
        try empty.encoded().write(to: bad)
        let refused = try TestProcess.runStatus([
            "python3", "-c", script, bad.path,
            Self.schemas.appendingPathComponent("in-toto-statement-v1.schema.json").path,
            Self.schemas.appendingPathComponent("slsa-provenance-v1.schema.json").path,
        ])
        #expect(refused.status != 0)

        // Same inputs, same bytes: a second attest with the same key rewrites identical files.
        let names = ["SHA256SUMS-v1.0.0.txt", report.provenance, report.allowedSigners] + report.signatures
        let before = try names.map { try Data(contentsOf: dir.appendingPathComponent($0)) }
        let keyFile = tmp.path("release-key")
        _ = try ReleaseAttest.run(
            .init(
                directory: dir, version: "v1.0.0", key: .file(keyFile), specKeys: [],
                spec: ("unison.yaml", String(repeating: "ef", count: 32)), commit: String(repeating: "a", count: 40),
                repositoryURI: "https://github.com/project-unisonOS/unison-platform", epoch: 1_704_067_200, environment: [:]))
        #expect(try names.map { try Data(contentsOf: dir.appendingPathComponent($0)) } == before)

        let verified = try ReleaseVerifier.verify(directory: dir, keyFile: nil)
        #expect(verified.failures == [])
        #expect(verified.notes.count == 1)
        #expect(verified.checked.count >= 15)
    }

    enum Tamper: String, CaseIterable, Sendable {
        case artifactByte, checksumLine, signature, sbomElement, provenanceSubject, wrongKey, unlistedFile, missingSBOM, hugeSignature
    }

    @Test("each tampered piece is named by release verify", arguments: Tamper.allCases)
    func tampered(_ tamper: Tamper) throws {
        let tmp = try TempDir()
        let key = SSHSigningKey.generate(comment: "release")
        let (dir, _) = try SampleRelease.make(tmp, key: key)
        let trusted = tmp.path("trusted.pub")
        try Data((key.publicKey.line + "\n").utf8).write(to: trusted)
        #expect(try ReleaseVerifier.verify(directory: dir, keyFile: trusted).failures == [])
        func edit(_ name: String, _ body: (inout Data) -> Void) throws {
            let url = dir.appendingPathComponent(name)
            var data = try Data(contentsOf: url)
            body(&data)
            try data.write(to: url)
        }
        var keyFile: URL? = trusted
        let expected: String
        switch tamper {
        case .artifactByte:
            try edit("unisonos-linux-vm-1.0.0.qcow2") { $0[100] ^= 0x01 }
            expected = "unisonos-linux-vm-1.0.0.qcow2: sha256"
        case .checksumLine:
            try edit("SHA256SUMS-v1.0.0.txt") { d in
                var text = String(decoding: d, as: UTF8.self)
                text = text.replacingOccurrences(of: "  unisonos-wsl2-1.0.0.tar.gz\n", with: "  unisonos-wsl2-1.0.0.tar.gz.orig\n")
                d = Data(text.utf8)
            }
            expected = "SHA256SUMS-v1.0.0.txt.sig does not verify"
        case .signature:
            try edit("unisonos-provenance-v1.0.0.intoto.json.sig") { d in
                var text = String(decoding: d, as: UTF8.self)
                let lines = text.split(separator: "\n")
                var middle = Array(lines[3])
                middle[10] = middle[10] == "A" ? "B" : "A"
                text = text.replacingOccurrences(of: String(lines[3]), with: String(middle))
                d = Data(text.utf8)
            }
            expected = "unisonos-provenance-v1.0.0.intoto.json.sig"
        case .sbomElement:
            try edit("unisonos-wsl2-1.0.0.tar.gz.spdx.json") { d in
                d = Data(String(decoding: d, as: UTF8.self).replacingOccurrences(of: "\"13.8\"", with: "\"13.9\"").utf8)
            }
            expected = "unisonos-wsl2-1.0.0.tar.gz.spdx.json.sig does not verify"
        case .provenanceSubject:
            try edit("unisonos-provenance-v1.0.0.intoto.json") { d in
                d = Data(
                    String(decoding: d, as: UTF8.self).replacingOccurrences(
                        of: "\"unisonos-linux-vm-1.0.0.qcow2\"", with: "\"unisonos-linux-vm-1.0.0.vmdk\""
                    ).utf8)
            }
            expected = "unisonos-linux-vm-1.0.0.qcow2 is not a subject"
        case .wrongKey:
            let other = tmp.path("other.pub")
            try Data((SSHSigningKey.generate(comment: "x").publicKey.line + "\n").utf8).write(to: other)
            keyFile = other
            expected = "which is not a trusted key"
        case .unlistedFile:
            try Data("extra".utf8).write(to: dir.appendingPathComponent("payload.bin"))
            expected = "payload.bin is not listed in SHA256SUMS-v1.0.0.txt"
        case .hugeSignature:
            try Data(repeating: 0x41, count: 100 << 10).write(to: dir.appendingPathComponent("unisonos-manifest-v1.0.0.json.sig"))
            expected = "unisonos-manifest-v1.0.0.json.sig is not a valid SSH signature"
        case .missingSBOM:
            try FileManager.default.removeItem(at: dir.appendingPathComponent("unisonos-linux-vm-1.0.0.qcow2.spdx.json"))
            expected = "unisonos-linux-vm-1.0.0.qcow2 has no SBOM"
        }
        let report = try ReleaseVerifier.verify(directory: dir, keyFile: keyFile)
        #expect(!report.ok)
        #expect(report.failures.contains { $0.contains(expected) }, "\(tamper): \(report.failures)")
    }

    @Test("a given key that the spec does not list is refused; an ephemeral one is allowed with a warning; a nightly name works")
    func specKeys() throws {
        let tmp = try TempDir()
        let listed = SSHSigningKey.generate(comment: "listed").publicKey
        #expect(throws: AttestError.self) { try SampleRelease.make(tmp, key: SSHSigningKey.generate(comment: "x"), specKeys: [listed]) }
        let dir = tmp.path("eph")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try Data("x".utf8).write(to: dir.appendingPathComponent("notes.txt"))
        let report = try ReleaseAttest.run(
            .init(
                directory: dir, version: ReleaseAttest.versionName("edge-main-20261203"), key: .ephemeral, specKeys: [listed],
                spec: ("unison.yaml", String(repeating: "0", count: 64)), commit: nil, repositoryURI: nil,
                epoch: 0, environment: [:]))
        #expect(report.ephemeralKey && report.warnings.count == 1)
        #expect(report.checksums == "SHA256SUMS-edge-main-20261203.txt", "a nightly's name, not SemVer, names its files")
        #expect(ReleaseAttest.versionName("1.2.3") == "v1.2.3")
        let signers = try String(contentsOf: dir.appendingPathComponent(report.allowedSigners), encoding: .utf8)
        #expect(signers.contains(listed.line))
        #expect(try ReleaseVerifier.verify(directory: dir, keyFile: nil).failures == [])
    }
}
