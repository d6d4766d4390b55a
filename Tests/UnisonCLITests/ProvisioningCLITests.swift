// `unisonctl answers apply|check`: moved whole from UnisonOpsTests/ProvisioningTests.swift
// (the planted root and the answers are ProvisionFixture, in UnisonTestSupport).
import Foundation
import Testing
import UnisonCore
import UnisonSpec
import UnisonTestSupport

@Suite("answers: finding and applying them (unisonctl)", .tags(.interop))
struct ProvisioningCLITests {
    @Test func answersApplyCLI() throws {
        let spec = OpsFixture.repoRoot.appendingPathComponent("unison.yaml").path
        let example = OpsFixture.repoRoot.appendingPathComponent("docs/examples/answers.yaml").path
        // A file given: applied to the staged root as data, reported as JSON.
        let root = try ProvisionFixture.plantRoot("apply-cli")
        defer { try? FileManager.default.removeItem(at: root) }
        let applied = try OpsCLI.run(["answers", "apply", "--file", example, "--root", root.path, "--spec", spec, "--json"])
        #expect(applied.status == 0, "\(applied.stderrString)")
        let doc = try #require(try JSONSerialization.jsonObject(with: applied.stdout) as? [String: Any])
        #expect(doc["applied"] as? Bool == true, "\(doc)")
        #expect(ProvisionFixture.text(root, "etc/hostname") == "unison-lab-01\n")
        #expect(ProvisionFixture.text(root, "etc/passwd").contains("\npilot:x:1000:1000::/home/pilot:/bin/bash\n"))
        // No answers anywhere under the root: exit 1, the instructions, nothing changed.
        let bare = try ProvisionFixture.plantRoot("apply-cli-none")
        defer { try? FileManager.default.removeItem(at: bare) }
        let passwd = ProvisionFixture.text(bare, "etc/passwd")
        let none = try OpsCLI.run(["answers", "apply", "--root", bare.path, "--spec", spec])
        #expect(none.status == 1, "\(none.stderrString)")
        #expect(none.stdoutString.contains("no default password"), "\(none.stdoutString)")
        #expect(ProvisionFixture.text(bare, "etc/passwd") == passwd)
    }

    @Test func answersCheckCLI() throws {
        let dir = try OpsFixture.tempDir("answers-cli")
        defer { try? FileManager.default.removeItem(at: dir) }
        let good = OpsFixture.repoRoot.appendingPathComponent("docs/examples/answers.yaml").path
        let spec = OpsFixture.repoRoot.appendingPathComponent("unison.yaml").path
        let ok = try OpsCLI.run(["answers", "check", good, "--target", "iso", "--spec", spec])
        #expect(ok.status == 0, "\(ok.stderrString)")
        #expect(ok.stdoutString.contains("ok (hostname unison-lab-01, users pilot, ssh server on, network dhcp, disk /dev/vda)"))
        let bad = dir.appendingPathComponent("bad.yaml")
        try Data("hostname: \"x;reboot\"\nusers:\n  - name: pilot\n    plain_text_passwd: unison\n".utf8).write(to: bad)
        let refused = try OpsCLI.run(["answers", "check", bad.path, "--target", "iso", "--spec", spec])
        #expect(refused.status == 2)
        #expect(refused.stderrString.contains("bad.yaml:1:11: error: hostname 'x;reboot' is not a host name"), "\(refused.stderrString)")
        #expect(refused.stderrString.contains("bad.yaml:4:5: error: answers.users[0].plain_text_passwd: plain passwords are refused"))
        #expect(refused.stderrString.contains("3 problems in the answers file"))
        let json = try OpsCLI.run(["answers", "check", bad.path, "--json", "--spec", spec])
        let doc = try #require(try JSONSerialization.jsonObject(with: json.stdout) as? [String: Any])
        #expect(doc["schema"] as? String == "unisonctl.answers-check/v1" && doc["valid"] as? Bool == false)
        #expect(try OpsCLI.run(["answers", "check", good, "--target", "floppy"]).status == 2)
    }
}
