import Foundation
import Testing
import UnisonCore
import UnisonTestSupport

@testable import UnisonImage

/// `unisonctl image build vm` and `unisonctl qa boot` as the acceptance checks run them: the
/// shipped spec's Debian base (built once by scripts/build-base.sh into the cache), booted
/// under OVMF until the first-boot unit prints its marker after multi-user.target.
@Suite("VM image from the Debian base", .serialized, .tags(.boot))
struct VMDebianCLITests {
    @Test("builds byte-identically twice, passes e2fsck and sgdisk, and boots to the first-boot marker")
    func debianBoots() throws {
        _ = try ImageRepo.debianBase()
        let scratch = try ImageScratch("vm-debian")
        defer { scratch.cleanup() }
        let env = ["SOURCE_DATE_EPOCH": "1700000000"]
        var results: [[String: Any]] = []
        for (run, formats) in [("a", "qcow2,raw"), ("b", "qcow2")] {
            // The journal on the console shows systemd's own "Reached target" line even after a
            // getty has taken the console (its status lines then stop), so the order is checkable.
            let r = try Repo.cli(
                [
                    "image", "build", "vm", "--spec", Repo.spec.path, "--out", scratch.path(run).path,
                    "--version", "9.9.9", "--format", formats, "--unisonctl-binary", Repo.unisonctl.path,
                    "--kernel-arg", "systemd.journald.forward_to_console=1", "--json",
                ],
                environment: env)
            #expect(r.status == 0, "\(r.stderr)")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
            #expect(json["schema"] as? String == "unisonctl.image-build.vm/v1")
            #expect((json["diskSize"] as? NSNumber)?.int64Value == 4 << 30, "targets.vm.diskSize of the shipped spec")
            #expect(json["bootLoader"] as? String == "image:/usr/lib/systemd/boot/efi/systemd-bootx64.efi")
            results.append(json)
        }
        let sha = { (json: [String: Any], format: String) -> String? in
            (json["artifacts"] as? [[String: Any]])?.first { $0["format"] as? String == format }?["sha256"] as? String
        }
        #expect(sha(results[0], "qcow2") != nil)
        #expect(sha(results[0], "qcow2") == sha(results[1], "qcow2"), "two builds with one SOURCE_DATE_EPOCH differ")

        let qcow2 = scratch.path("a/unisonos-linux-vm-9.9.9.qcow2"), raw = scratch.path("a/unisonos-linux-vm-9.9.9.raw")
        let info =
            try JSONSerialization.jsonObject(with: try ImageTool.run(["qemu-img", "info", "--output=json", qcow2.path]).stdout) as? [String: Any]
        #expect((info?["virtual-size"] as? NSNumber)?.int64Value == 4 << 30)
        #expect(try ImageTool.status(["qemu-img", "check", qcow2.path]).stdoutString.contains("No errors were found"))
        #expect(try ImageTool.status(["qemu-img", "compare", "-f", "raw", "-F", "qcow2", raw.path, qcow2.path]).status == 0)
        let sgdisk = try ImageTool.status(["sgdisk", "-v", raw.path]).stdoutString
        #expect(sgdisk.contains("No problems found") && !sgdisk.contains("Caution"), "\(sgdisk)")

        // The root filesystem of a real system: e2fsck and the owners only debugfs could set.
        let parts = try #require(results[0]["partitions"] as? [[String: Any]])
        let rootOffset = try #require((parts[1]["offset"] as? NSNumber)?.int64Value),
            rootSize = try #require((parts[1]["size"] as? NSNumber)?.int64Value)
        let root = scratch.path("root.ext4")
        try ImageTool.run([
            "dd", "if=\(raw.path)", "of=\(root.path)", "bs=1M", "skip=\(rootOffset >> 20)", "count=\(rootSize >> 20)",
            "conv=sparse", "status=none",
        ])
        try FileManager.default.removeItem(at: raw)
        let fsck = try ImageTool.status(["e2fsck", "-fn", root.path])
        #expect(fsck.status == 0, "\(fsck.stdoutString)")
        let shadow = try ImageTool.run(["debugfs", "-R", "stat /etc/shadow", root.path]).stdoutString
        #expect(shadow.range(of: "User: +0 +Group: +42 ", options: .regularExpression) != nil, "\(shadow)")
        #expect(try ImageTool.run(["debugfs", "-R", "stat /dev/null", root.path]).stdoutString.contains("Type: character special"))
        #expect(try ImageTool.run(["debugfs", "-R", "stat /usr/bin/chage", root.path]).stdoutString.contains("Mode:  02755"))

        // The acceptance interface: qa boot with the spec's marker, default accelerator choice.
        let log = scratch.path("serial.log")
        let boot = try Repo.cli(["qa", "boot", qcow2.path, "--spec", Repo.spec.path, "--timeout", "300", "--serial-log", log.path])
        #expect(boot.status == 0, "\(boot.stderr)")
        let console = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        let reached = console.range(of: "Reached target multi-user.target")
        let marker = console.range(of: "UNISONOS-FIRSTBOOT-OK")
        #expect(reached != nil && marker != nil, "\(console.suffix(3000))")
        if let reached, let marker {
            #expect(reached.lowerBound < marker.lowerBound, "the first-boot marker must follow multi-user.target")
        }
    }
}
