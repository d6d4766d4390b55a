import Foundation
import Testing
import UnisonCore
import UnisonInstall
import UnisonTestSupport

/// The shell first-boot helper with the built unisonctl in the staged image: it applies the
/// answers through `unisonctl answers apply` when the spec copy is missing.
@Suite("first-boot shell fallback: a way in without a default password", .tags(.interop))
struct FirstBootLoginFallbackCLITests {
    @Test(
        "a binary that runs but no spec copy: the fallback applies the answers with `unisonctl answers apply`; without answers it shows how to provide them"
    )
    func runningBinaryAppliesAnswers() throws {
        let layout = InstallLayout(spec: try FieldFixture.spec())
        let root = try FirstBootFallback.stage(
            "fallback-apply", binary: OpsCLI.binary.path,
            answers: "#cloud-config\nhostname: lab-2\nusers: [{name: pilot, ssh_authorized_keys: [\"\(FirstBootFallback.key)\"]}]\n")
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.removeItem(atPath: root.path + layout.specCopy)
        let r = try FirstBootFallback.run(root)
        #expect(r.status == 0 && r.stdoutString.split(separator: "\n").last == "UNISONOS-FIRSTBOOT-OK", "\(r.stdoutString)\(r.stderrString)")
        #expect(r.stdoutString.contains("answers: user: pilot: no password (keys only), 1 SSH key, administrator"), "\(r.stdoutString)")
        #expect(FirstBootFallback.text(root, "etc/hostname") == "lab-2\n")
        #expect(FirstBootFallback.text(root, "etc/passwd")?.contains("\npilot:x:1000:1000::/home/pilot:") == true)
        #expect(FirstBootFallback.text(root, "etc/shadow")?.contains("\npilot:*:") == true, "keys only: no password")
        #expect(FirstBootFallback.text(root, "home/pilot/.ssh/authorized_keys") == FirstBootFallback.key + "\n")
        #expect(!FileManager.default.fileExists(atPath: root.path + "/etc/issue.d/unison-answers.issue"))

        let bare = try FirstBootFallback.stage("fallback-none", binary: OpsCLI.binary.path, answers: nil)
        defer { try? FileManager.default.removeItem(at: bare) }
        try FileManager.default.removeItem(atPath: bare.path + layout.specCopy)
        let none = try FirstBootFallback.run(bare)
        #expect(
            none.status == 0 && none.stdoutString.split(separator: "\n").last == "UNISONOS-FIRSTBOOT-OK", "\(none.stdoutString)\(none.stderrString)")
        #expect(none.stdoutString.contains(HostScripts.answersInstructions), "\(none.stdoutString)")
        #expect(FirstBootFallback.text(bare, "etc/issue.d/unison-answers.issue") == HostScripts.answersInstructions + "\n\n")
        #expect(
            FirstBootFallback.text(bare, "etc/passwd") == FirstBootFallback.passwd
                && FirstBootFallback.text(bare, "etc/shadow") == FirstBootFallback.shadow)
    }
}
