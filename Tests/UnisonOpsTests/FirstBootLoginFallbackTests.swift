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
    static let key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMnX+DnA9wYhNsQ9Jq1B9Qk9lgnOrcgrSivFVnb18He0 pilot@laptop"
    static let passwd = "root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
    static let shadow = "root:*:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n"

    /// A staged image whose unisonctl is `binary`, with only system accounts and, when given, answers.
    static func stage(_ label: String, binary: String, answers: String?, passwd: String = passwd) throws -> URL {
        let root = try FieldFixture.stageImage(label, pack: "none")
        let fm = FileManager.default
        try fm.createDirectory(atPath: root.path + "/usr/local/bin", withIntermediateDirectories: true)
        try fm.createSymbolicLink(atPath: root.path + "/usr/local/bin/unisonctl", withDestinationPath: binary)
        try Data(passwd.utf8).write(to: root.appendingPathComponent("etc/passwd"))
        try Data("root:x:0:\ndaemon:x:1:\nsudo:x:27:\n".utf8).write(to: root.appendingPathComponent("etc/group"))
        try Data(shadow.utf8).write(to: root.appendingPathComponent("etc/shadow"))
        if let answers {
            try fm.createDirectory(atPath: root.path + "/etc/unison", withIntermediateDirectories: true)
            try Data(answers.utf8).write(to: root.appendingPathComponent("etc/unison/answers.yaml"))
        }
        return root
    }

    static func run(_ root: URL) throws -> ProcessResult {
        try SystemProcessRunner().run(
            ["sh", root.path + "/opt/unison-platform/bin/unison-firstboot"],
            environment: ["UNISON_ROOT": root.path, "PATH": "/usr/bin:/bin"], input: nil, workingDirectory: root)
    }

    static func text(_ root: URL, _ path: String) -> String? { try? String(contentsOf: root.appendingPathComponent(path), encoding: .utf8) }

    @Test(
        "a binary that cannot run: answers are reported as not applied, the console recovery is printed and put before the login prompt; no account or password changes"
    )
    func brokenBinaryShowsTheConsoleRoute() throws {
        let root = try Self.stage(
            "fallback-login", binary: "/bin/false",
            answers: "#cloud-config\nhostname: lab-1\nusers: [{name: pilot, ssh_authorized_keys: [\"\(Self.key)\"]}]\n")
        defer { try? FileManager.default.removeItem(at: root) }
        let r = try Self.run(root)
        #expect(r.status == 0 && r.stdoutString.split(separator: "\n").last == "UNISONOS-FIRSTBOOT-OK", "\(r.stdoutString)\(r.stderrString)")
        #expect(r.stdoutString.contains("answers: /etc/unison/answers.yaml found but NOT applied: this system's unisonctl cannot run"))
        #expect(r.stdoutString.contains(HostScripts.consoleRecovery), "\(r.stdoutString)")
        #expect(Self.text(root, "etc/issue.d/unison-answers.issue") == HostScripts.consoleRecovery + "\n\n")
        #expect(HostScripts.consoleRecovery.contains("there is no default password") && HostScripts.consoleRecovery.contains("init=/bin/sh"))
        // Nothing was made up: the accounts and their (locked) passwords are as they were.
        #expect(Self.text(root, "etc/passwd") == Self.passwd && Self.text(root, "etc/shadow") == Self.shadow)
        #expect(!FileManager.default.fileExists(atPath: root.path + "/home/pilot"))
    }

    @Test("a person's account exists already: nothing is printed or written")
    func existingUserNeedsNothing() throws {
        let root = try Self.stage(
            "fallback-user", binary: "/bin/false", answers: nil,
            passwd: Self.passwd + "ana:x:1000:1000::/home/ana:/bin/sh\n")
        defer { try? FileManager.default.removeItem(at: root) }
        let r = try Self.run(root)
        #expect(r.status == 0 && r.stdoutString.split(separator: "\n").last == "UNISONOS-FIRSTBOOT-OK", "\(r.stdoutString)\(r.stderrString)")
        #expect(!r.stdoutString.contains("no user exists yet"))
        #expect(!FileManager.default.fileExists(atPath: root.path + "/etc/issue.d/unison-answers.issue"))
    }

    @Test(
        "a binary that runs but no spec copy: the fallback applies the answers with `unisonctl answers apply`; without answers it shows how to provide them"
    )
    func runningBinaryAppliesAnswers() throws {
        let layout = InstallLayout(spec: try FieldFixture.spec())
        let root = try Self.stage(
            "fallback-apply", binary: OpsCLI.binary.path,
            answers: "#cloud-config\nhostname: lab-2\nusers: [{name: pilot, ssh_authorized_keys: [\"\(Self.key)\"]}]\n")
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.removeItem(atPath: root.path + layout.specCopy)
        let r = try Self.run(root)
        #expect(r.status == 0 && r.stdoutString.split(separator: "\n").last == "UNISONOS-FIRSTBOOT-OK", "\(r.stdoutString)\(r.stderrString)")
        #expect(r.stdoutString.contains("answers: user: pilot: no password (keys only), 1 SSH key, administrator"), "\(r.stdoutString)")
        #expect(Self.text(root, "etc/hostname") == "lab-2\n")
        #expect(Self.text(root, "etc/passwd")?.contains("\npilot:x:1000:1000::/home/pilot:") == true)
        #expect(Self.text(root, "etc/shadow")?.contains("\npilot:*:") == true, "keys only: no password")
        #expect(Self.text(root, "home/pilot/.ssh/authorized_keys") == Self.key + "\n")
        #expect(!FileManager.default.fileExists(atPath: root.path + "/etc/issue.d/unison-answers.issue"))

        let bare = try Self.stage("fallback-none", binary: OpsCLI.binary.path, answers: nil)
        defer { try? FileManager.default.removeItem(at: bare) }
        try FileManager.default.removeItem(atPath: bare.path + layout.specCopy)
        let none = try Self.run(bare)
        #expect(
            none.status == 0 && none.stdoutString.split(separator: "\n").last == "UNISONOS-FIRSTBOOT-OK", "\(none.stdoutString)\(none.stderrString)")
        #expect(none.stdoutString.contains(HostScripts.answersInstructions), "\(none.stdoutString)")
        #expect(Self.text(bare, "etc/issue.d/unison-answers.issue") == HostScripts.answersInstructions + "\n\n")
        #expect(Self.text(bare, "etc/passwd") == Self.passwd && Self.text(bare, "etc/shadow") == Self.shadow)
    }
}
