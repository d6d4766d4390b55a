import Foundation
import Testing
import UnisonCore
import UnisonTestSupport

@testable import UnisonImage

/// The installer's /init read by the tools that run or judge it: shellcheck, and busybox's awk
/// (the installer's own) reading the target disk out of answers files, hostile ones included.
@Suite("ISO installer script", .tags(.interop))
struct ISOInstallerScriptTests {
    @Test("/init is shellcheck-clean as POSIX sh")
    func shellcheckClean() throws {
        let scratch = try ImageScratch("iso-init")
        defer { scratch.cleanup() }
        let file = scratch.path("init")
        try Data(ISOInstaller.initScript.utf8).write(to: file)
        let r = try SystemProcessRunner().run(["shellcheck", "-s", "sh", file.path])
        #expect(r.status == 0, "\(r.stdoutString)")
    }

    @Test(
        "unison.disk is read only when it is a whole /dev path ending the value",
        arguments: [
            ("unison:\n  network: dhcp\n  disk: /dev/vda\n", "/dev/vda"),
            ("unison:\n  disk: \"/dev/vda\"  # the first disk\n", "/dev/vda"),
            ("unison:\n  disk: '/dev/nvme0n1'\n", "/dev/nvme0n1"),
            ("unison: {disk: /dev/sdb, network: dhcp}\n", "/dev/sdb"),
            ("unison: {network: dhcp, disk: /dev/sdb}\n", "/dev/sdb"),
            ("unison:\n  disk: /dev/disk/by-id/nvme-X\n", "/dev/disk/by-id/nvme-X"),
            ("unison:\n  disk: /dev/vda; reboot\n", ""),
            ("unison:\n  disk: $(reboot)\n", ""),
            ("unison:\n  disk: /dev/vda other\n", ""),
            ("unison:\n  xdisk: /dev/vda\n", ""),
            ("users:\n  - name: a\n    disk: /dev/sdz\nunison:\n  network: dhcp\n", ""),
            ("hostname: x\n", ""),
        ])
    func answersDisk(text: String, disk: String) throws {
        let scratch = try ImageScratch("iso-disk")
        defer { scratch.cleanup() }
        let file = scratch.path("user-data")
        try Data(("#cloud-config\n" + text).utf8).write(to: file)
        let r = try SystemProcessRunner().run(["busybox", "awk", ISOInstaller.answersDiskProgram, file.path])
        #expect(r.status == 0)
        #expect(r.stdoutString == (disk.isEmpty ? "" : disk + "\n"))
    }
}
