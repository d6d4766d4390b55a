// The staged images of the first-boot shell fallback tests (UnisonOpsTests runs the helper with a
// binary that cannot run, UnisonCLITests with the built unisonctl).
import Foundation
import UnisonCore

package enum FirstBootFallback {
    package static let key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMnX+DnA9wYhNsQ9Jq1B9Qk9lgnOrcgrSivFVnb18He0 pilot@laptop"
    package static let passwd = "root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
    package static let shadow = "root:*:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n"

    /// A staged image whose unisonctl is `binary`, with only system accounts and, when given, answers.
    package static func stage(_ label: String, binary: String, answers: String?, passwd: String = passwd) throws -> URL {
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

    package static func run(_ root: URL) throws -> ProcessResult {
        try SystemProcessRunner().run(
            ["sh", root.path + "/opt/unison-platform/bin/unison-firstboot"],
            environment: ["UNISON_ROOT": root.path, "PATH": "/usr/bin:/bin"], input: nil, workingDirectory: root)
    }

    package static func text(_ root: URL, _ path: String) -> String? { try? String(contentsOf: root.appendingPathComponent(path), encoding: .utf8) }
}
