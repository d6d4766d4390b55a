import Foundation
import Testing
import UnisonCore
import UnisonTestSupport

@testable import UnisonImage

/// The login route of an ISO install, end to end and without a keyboard: the shipped Debian
/// base (with openssh-server) built into a VM disk, carried by an installer ISO, and installed
/// under QEMU onto a blank disk with a second disk labelled CIDATA (cloud-init NoCloud, made with
/// mkfs.vfat and mtools) whose user-data names the target disk and holds an SSH key. The
/// installer copies the answers root-only into the installed root (read back with debugfs); the
/// installed disk then boots alone, its first boot creates the user, sets the hostname, makes
/// host keys and starts sshd, and OpenSSH's client on the host logs in over a port forwarded to
/// 127.0.0.1. One install and one boot check all of it (TCG is slow).
@Suite("ISO install with answers from a CIDATA medium, then login over SSH", .serialized, .tags(.boot))
struct VMAnswersBootCLITests {
    @Test("the installer carries CIDATA answers; the installed disk's user logs in with its key, password login and root are refused")
    func isoInstallWithCIDATAAnswersLogsInOverSSH() throws {
        let base = try ImageRepo.debianBase()
        let listing = try ImageTool.run(["tar", "-tf", base.path]).stdoutString
        try #require(
            listing.contains("usr/sbin/sshd\n"),
            "the cached base \(base.path) has no openssh-server: rebuild it with scripts/build-base.sh --force")
        let scratch = try ImageScratch("iso-answers")
        defer { scratch.cleanup() }
        // Shipped images carry a static unisonctl (make images). A test build links the Swift
        // runtime from /opt/swift (its RUNPATH): a copy of the base gets those libraries at the
        // same paths, so the guest runs the binary under test.
        let guestBinary = Repo.unisonctl
        var baseArgument = base
        let swiftLibs = try ImageTool.run(["ldd", guestBinary.path]).stdoutString.split(separator: "\n")
            .compactMap { line in line.split(separator: " ").first { $0.hasPrefix("/opt/swift/") }.map(String.init) }
        if !swiftLibs.isEmpty {
            baseArgument = scratch.path("base-with-swift-runtime.tar")
            try ImageTool.run(["cp", base.path, baseArgument.path])
            try ImageTool.run(
                ["tar", "-rhf", baseArgument.path, "-C", "/", "--owner=0", "--group=0", "--numeric-owner"]
                    + swiftLibs.map { "." + $0 })
        }
        // A 2 GiB disk (the spec's 4 GiB would double the installer's write and read-back under TCG).
        let env = ["SOURCE_DATE_EPOCH": "1700000000"]
        let build = try Repo.cli(
            [
                "image", "build", "vm", "--spec", Repo.spec.path, "--base", baseArgument.path, "--out", scratch.path("vm").path,
                "--version", "9.9.9", "--format", "qcow2", "--disk-size", "2GiB", "--unisonctl-binary", guestBinary.path,
            ],
            environment: env)
        try #require(build.status == 0, "\(build.stderr)")
        let iso = try Repo.cli(
            [
                "image", "build", "iso", "--spec", Repo.spec.path, "--base", baseArgument.path,
                "--payload", scratch.path("vm/unisonos-linux-vm-9.9.9.qcow2").path, "--out", scratch.path("iso").path,
                "--version", "9.9.9", "--firmware", "bios",
            ], environment: env)
        try #require(iso.status == 0, "\(iso.stderr)")
        let isoFile = try #require(try FileManager.default.contentsOfDirectory(atPath: scratch.path("iso").path).first { $0.hasSuffix(".iso") })

        // The key pair and the NoCloud medium, made with the tools a person would use.
        let key = scratch.path("id_ed25519")
        try ImageTool.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "pilot@host", "-f", key.path])
        let publicKey = try String(contentsOf: scratch.path("id_ed25519.pub"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let userData = scratch.path("user-data")
        let answersText = """
            #cloud-config
            hostname: pilot-iso
            users:
              - name: pilot
                ssh_authorized_keys: ["\(publicKey)"]
            unison:
              network: dhcp
              disk: /dev/vda

            """
        try Data(answersText.utf8).write(to: userData)
        try Data("instance-id: pilot-test\nlocal-hostname: pilot-iso\n".utf8).write(to: scratch.path("meta-data"))
        // The file must pass the same check a person runs before installing.
        let check = try Repo.cli(["answers", "check", userData.path, "--target", "iso", "--spec", Repo.spec.path])
        #expect(check.status == 0, "\(check.stderr)")
        let seed = scratch.path("seed.img")
        try ImageTool.run(["mkfs.vfat", "-C", "-n", "CIDATA", seed.path, "2048"])
        try ImageTool.run(["mcopy", "-i", seed.path, userData.path, scratch.path("meta-data").path, "::"])

        // The install: ISO as a CD under SeaBIOS, the blank target as vda, the answers as vdb.
        let installed = scratch.path("installed.qcow2")
        let installLog = scratch.path("install.log")
        let install = try Repo.cli([
            "qa", "install", scratch.path("iso/\(isoFile)").path, "--target", installed.path, "--target-size", "2GiB",
            "--firmware", "bios", "--accel", "tcg", "--timeout", "2400", "--answers-medium", seed.path,
            "--serial-log", installLog.path,
        ])
        let installConsole = (try? String(contentsOf: installLog, encoding: .utf8)) ?? ""
        try #require(install.status == 0, "\(install.stderr)\n\(installConsole.suffix(3000))")
        #expect(installConsole.contains("unisonos-installer: answers: LABEL=CIDATA:/user-data (on /dev/vdb)"), "\(installConsole.suffix(3000))")
        #expect(installConsole.contains("unisonos-installer: target disk: /dev/vda,"))
        #expect(installConsole.contains("answers carried to /dev/vda2:/etc/unison/answers.yaml"))

        // debugfs reads the installed root: the answers, root-only, byte for byte.
        let raw = scratch.path("installed.raw")
        try ImageTool.run(["qemu-img", "convert", "-f", "qcow2", "-O", "raw", installed.path, raw.path])
        let start = try ImageTool.run(["partx", "-g", "-o", "START", "-n", "2", raw.path]).stdoutString.trimmingCharacters(
            in: .whitespacesAndNewlines)
        let rootFS = "\(raw.path)?offset=\((Int(start) ?? 0) * 512)"
        let carried = try ImageTool.run(["debugfs", "-R", "cat /etc/unison/answers.yaml", rootFS]).stdoutString
        #expect(carried == answersText)
        let stat = try ImageTool.run(["debugfs", "-R", "stat /etc/unison/answers.yaml", rootFS]).stdoutString
        #expect(stat.contains("Mode:  0600") && stat.contains("User:     0   Group:     0"), "\(stat)")
        try? FileManager.default.removeItem(at: raw)
        let disk = installed

        let port = try TestNetwork.freePort()
        let serial = scratch.path("serial.log")
        FileManager.default.createFile(atPath: serial.path, contents: nil)
        let vars = scratch.path("OVMF_VARS.fd")
        try FileManager.default.copyItem(at: URL(fileURLWithPath: "/usr/share/OVMF/OVMF_VARS_4M.fd"), to: vars)
        let qemu = Process()
        qemu.executableURL = URL(fileURLWithPath: "/usr/bin/qemu-system-x86_64")
        qemu.arguments = [
            "-machine", "q35", "-accel", "tcg,thread=single", "-m", "2048", "-smp", "2", "-nodefaults",
            "-display", "none", "-monitor", "none", "-serial", "file:\(serial.path)", "-no-reboot", "-snapshot",
            "-drive", "if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd",
            "-drive", "if=pflash,format=raw,unit=1,file=\(vars.path)",
            "-drive", "file=\(disk.path),format=qcow2,if=virtio,media=disk",
            "-netdev", "user,id=n0,hostfwd=tcp:127.0.0.1:\(port)-:22", "-device", "virtio-net-pci,netdev=n0",
        ]
        qemu.standardOutput = FileHandle.nullDevice
        FileManager.default.createFile(atPath: serial.path + ".err", contents: nil)
        qemu.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: serial.path + ".err"))
        try qemu.run()
        // SIGKILL: the test runner blocks SIGTERM and its children inherit the mask.
        defer { if qemu.isRunning { kill(qemu.processIdentifier, SIGKILL); qemu.waitUntilExit() } }

        func console() -> String { (try? String(contentsOf: serial, encoding: .utf8)) ?? "" }
        let deadline = Date().addingTimeInterval(900)
        while Date() < deadline, qemu.isRunning, !console().contains("UNISONOS-FIRSTBOOT-") { Thread.sleep(forTimeInterval: 3) }
        try #require(console().contains("UNISONOS-FIRSTBOOT-OK"), "no first-boot marker:\n\(console().suffix(4000))")
        // unisonctl ran first boot (not the shell fallback) and applied the answers the installer carried.
        #expect(console().contains("firstboot: answers: /etc/unison/answers.yaml (installed)"), "\(console().suffix(4000))")
        #expect(console().contains("firstboot: user: pilot: no password (keys only), 1 SSH key, administrator"), "\(console().suffix(4000))")
        #expect(console().contains("firstboot: ssh: server on, keys only, no root login"))

        let ssh = [
            "ssh", "-i", key.path, "-p", String(port), "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "BatchMode=yes", "-o", "ConnectTimeout=20", "-o", "IdentitiesOnly=yes",
        ]
        var login = ProcessResult(status: -1, stdout: Data(), stderr: Data())
        let sshDeadline = Date().addingTimeInterval(240)
        while Date() < sshDeadline {
            login = try SystemProcessRunner().run(ssh + ["pilot@127.0.0.1", "hostname; id -un; sudo -n true && echo SUDO-OK"])
            if login.status == 0 { break }
            Thread.sleep(forTimeInterval: 5)
        }
        #expect(login.status == 0, "ssh failed: \(login.stderrString)\n\(console().suffix(3000))")
        #expect(login.stdoutString == "pilot-iso\npilot\nSUDO-OK\n", "\(login.stdoutString)")
        // Keys only: a password is refused, and root cannot log in even with the user's key.
        let password = try SystemProcessRunner().run([
            "ssh", "-p", String(port), "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "BatchMode=yes", "-o", "ConnectTimeout=20", "-o", "PubkeyAuthentication=no",
            "-o", "PreferredAuthentications=password,keyboard-interactive", "pilot@127.0.0.1", "true",
        ])
        #expect(password.status == 255 && password.stderrString.contains("Permission denied"), "\(password.stderrString)")
        let root = try SystemProcessRunner().run(ssh + ["root@127.0.0.1", "true"])
        #expect(root.status == 255 && root.stderrString.contains("Permission denied"), "\(root.stderrString)")
        // The host key was made on this machine at first boot: no key ships in the image.
        #expect(!listing.contains("etc/ssh/ssh_host_ed25519_key\n"))
    }
}
