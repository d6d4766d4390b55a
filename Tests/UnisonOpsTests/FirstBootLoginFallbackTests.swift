import Foundation
import Testing
import UnisonCore
import UnisonInstall
import UnisonTestSupport

@testable import UnisonOps

/// The shell first-boot helper (used when the image's unisonctl cannot run, or the spec copy is
/// missing) never leaves a machine with no way in and never sets a password: run through `sh`
/// against staged images with passwd/shadow files, the way the unit runs it.
@Suite("first-boot shell fallback: a way in without a default password", .tags(.interop))
struct FirstBootLoginFallbackTests {
    @Test(
        "a binary that cannot run: answers are reported as not applied, the console recovery is printed and put before the login prompt; no account or password changes"
    )
    func brokenBinaryShowsTheConsoleRoute() throws {
        let root = try FirstBootFallback.stage(
            "fallback-login", binary: "/bin/false",
            answers: "#cloud-config\nhostname: lab-1\nusers: [{name: pilot, ssh_authorized_keys: [\"\(FirstBootFallback.key)\"]}]\n")
        defer { try? FileManager.default.removeItem(at: root) }
        let r = try FirstBootFallback.run(root)
        #expect(r.status == 0 && r.stdoutString.split(separator: "\n").last == "UNISONOS-FIRSTBOOT-OK", "\(r.stdoutString)\(r.stderrString)")
        #expect(r.stdoutString.contains("answers: /etc/unison/answers.yaml found but NOT applied: this system's unisonctl cannot run"))
        #expect(r.stdoutString.contains(HostScripts.consoleRecovery), "\(r.stdoutString)")
        #expect(FirstBootFallback.text(root, "etc/issue.d/unison-answers.issue") == HostScripts.consoleRecovery + "\n\n")
        #expect(HostScripts.consoleRecovery.contains("there is no default password") && HostScripts.consoleRecovery.contains("init=/bin/sh"))
        // Nothing was made up: the accounts and their (locked) passwords are as they were.
        #expect(
            FirstBootFallback.text(root, "etc/passwd") == FirstBootFallback.passwd
                && FirstBootFallback.text(root, "etc/shadow") == FirstBootFallback.shadow)
        #expect(!FileManager.default.fileExists(atPath: root.path + "/home/pilot"))
    }

    @Test("a person's account exists already: nothing is printed or written")
    func existingUserNeedsNothing() throws {
        let root = try FirstBootFallback.stage(
            "fallback-user", binary: "/bin/false", answers: nil,
            passwd: FirstBootFallback.passwd + "ana:x:1000:1000::/home/ana:/bin/sh\n")
        defer { try? FileManager.default.removeItem(at: root) }
        let r = try FirstBootFallback.run(root)
        #expect(r.status == 0 && r.stdoutString.split(separator: "\n").last == "UNISONOS-FIRSTBOOT-OK", "\(r.stdoutString)\(r.stderrString)")
        #expect(!r.stdoutString.contains("no user exists yet"))
        #expect(!FileManager.default.fileExists(atPath: root.path + "/etc/issue.d/unison-answers.issue"))
    }
}
