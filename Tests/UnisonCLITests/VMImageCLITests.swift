import Foundation
import Testing
import UnisonArchive
import UnisonCore
import UnisonDisk
import UnisonTestSupport

@testable import UnisonImage

/// The VM disk pipeline end to end on a small synthetic base: every format read back by
/// independent tools, identical rebuilds, and a UEFI boot through systemd-boot.
@Suite("VM disk image", .serialized, .tags(.boot))
struct VMImageCLITests {
    static let epoch: Int64 = 1_700_000_000
    static let diskSize: Int64 = 512 << 20

    static func build(base: URL, out: URL, formats: [DiskFormat] = DiskFormat.allCases) async throws -> VMBuildResult {
        var request = ImageBuildRequest(
            base: .directory(base), outputDirectory: out, version: "0.0.1-test", epoch: epoch,
            cacheDir: out.appendingPathComponent("cache"))
        // The overlay's file must land in the ext4 root with its owner and mode.
        let overlay = ClosureOverlay { tree in
            try tree.addFile("etc/unisonos-overlay", "applied\n", mode: 0o640, uid: 0, gid: 4, mtime: epoch)
        }
        request.overlay = overlay
        return try await ImagePipeline.build(
            request, target: VMImage(formats: formats, diskSize: diskSize),
            reporter: { ProgressReporter($0, total: $1, style: .silent) })
    }

    @Test("raw, qcow2 and vmdk: sgdisk, qemu-img, fsck.vfat, mtools, e2fsck, inspect; rebuild identical; boots under OVMF")
    func busyboxDisk() async throws {
        let scratch = try ImageScratch("vm-busybox")
        defer { scratch.cleanup() }
        let base = try BusyboxBase.make(in: scratch)
        let out = scratch.path("out")
        let result = try await Self.build(base: base, out: out)
        let names = result.artifacts.map(\.name)
        #expect(names == ["unisonos-linux-vm-0.0.1-test.raw", "unisonos-linux-vm-0.0.1-test.qcow2", "unisonos-linux-vm-0.0.1-test.vmdk"])
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: out.path).sorted() == (names + names.map { $0 + ".spdx.json" }).sorted(),
            "no temporary files remain; an SBOM beside each disk")
        #expect(result.bootLoader == "host:" + VMBootFiles.hostLoaderPath)
        let raw = out.appendingPathComponent(names[0]), qcow2 = out.appendingPathComponent(names[1]), vmdk = out.appendingPathComponent(names[2])
        let (esp, root) = (result.partitions[0], result.partitions[1])

        // GPT
        let sgdisk = try ImageTool.status(["sgdisk", "-v", raw.path]).stdoutString
        #expect(sgdisk.contains("No problems found") && !sgdisk.contains("Caution") && !sgdisk.contains("Warning"), "\(sgdisk)")
        let sfdisk = try JSONSerialization.jsonObject(with: try ImageTool.run(["sfdisk", "--json", raw.path]).stdout) as? [String: Any]
        let parts = (sfdisk?["partitiontable"] as? [String: Any])?["partitions"] as? [[String: Any]] ?? []
        #expect(
            parts.map { ($0["type"] as? String)?.uppercased() } == [PartitionType.efiSystem.description, PartitionType.linuxRootX86_64.description])
        #expect(parts.map { ($0["uuid"] as? String)?.uppercased() } == [esp.guid.description, root.guid.description])
        #expect((sfdisk?["partitiontable"] as? [String: Any])?["id"] as? String == result.diskGUID.description)

        // Containers against the raw image.
        for (url, format) in [(qcow2, "qcow2"), (vmdk, "vmdk")] {
            let check = try ImageTool.status(["qemu-img", "check", "-f", format, url.path])
            #expect(check.status == 0 && check.stdoutString.contains("No errors were found"), "\(check.stdoutString)")
            let compare = try ImageTool.status(["qemu-img", "compare", "-f", "raw", "-F", format, raw.path, url.path])
            #expect(compare.status == 0, "\(format): \(compare.stdoutString)")
            let info =
                try JSONSerialization.jsonObject(with: try ImageTool.run(["qemu-img", "info", "--output=json", url.path]).stdout) as? [String: Any]
            #expect(info?["format"] as? String == format)
            #expect((info?["virtual-size"] as? NSNumber)?.int64Value == Self.diskSize)
        }

        // ESP: FAT32 checked and read back.
        let espImage = scratch.path("esp.img"), rootImage = scratch.path("root.img")
        try ImageTool.run([
            "dd", "if=\(raw.path)", "of=\(espImage.path)", "bs=1M", "skip=\(esp.offset >> 20)", "count=\(esp.size >> 20)", "conv=sparse",
            "status=none",
        ])
        try ImageTool.run([
            "dd", "if=\(raw.path)", "of=\(rootImage.path)", "bs=1M", "skip=\(root.offset >> 20)", "count=\(root.size >> 20)", "conv=sparse",
            "status=none",
        ])
        let fsck = try ImageTool.status(["fsck.vfat", "-n", espImage.path])
        #expect(fsck.status == 0, "\(fsck.stdoutString)")
        let entry = try ImageTool.run(["mtype", "-i", espImage.path, "::/loader/entries/unisonos.conf"]).stdoutString
        #expect(entry.contains("options root=PARTUUID=\(root.guid.text(uppercase: false)) rw console=tty0 console=ttyS0,115200"), "\(entry)")
        let (release, kernel) = try BusyboxBase.hostKernel()
        #expect(entry.contains("linux   /unisonos/vmlinuz-\(release)"))
        for (inside, host) in [("EFI/BOOT/BOOTX64.EFI", URL(fileURLWithPath: VMBootFiles.hostLoaderPath)), ("unisonos/vmlinuz-\(release)", kernel)] {
            let copy = scratch.path("copy.bin")
            try? FileManager.default.removeItem(at: copy)
            try ImageTool.run(["mcopy", "-n", "-i", espImage.path, "::/" + inside, copy.path])
            #expect(try Data(contentsOf: copy) == (try Data(contentsOf: host)), "\(inside)")
        }

        // Root: ext4 checked; fstab and the first-boot unit are there.
        let e2fsck = try ImageTool.status(["e2fsck", "-fn", rootImage.path])
        #expect(e2fsck.status == 0, "\(e2fsck.stdoutString)")
        let fstab = try ImageTool.run(["debugfs", "-R", "cat /etc/fstab", rootImage.path]).stdoutString
        #expect(fstab.contains("PARTUUID=\(root.guid.text(uppercase: false))  /  "), "\(fstab)")
        #expect(try ImageTool.run(["debugfs", "-R", "cat /etc/unisonos-overlay", rootImage.path]).stdoutString == "applied\n")
        let overlayStat = try ImageTool.run(["debugfs", "-R", "stat /etc/unisonos-overlay", rootImage.path]).stdoutString
        #expect(overlayStat.contains("Mode:  0640") && overlayStat.range(of: "Group: +4 ", options: .regularExpression) != nil, "\(overlayStat)")
        #expect(try ImageTool.run(["dumpe2fs", "-h", rootImage.path]).stdoutString.contains(root.filesystemID))

        // inspect, through the CLI.
        let inspect = try Repo.cli(["image", "inspect", qcow2.path, "--json"])
        #expect(inspect.status == 0, "\(inspect.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(inspect.stdout.utf8)) as? [String: Any]
        #expect(report?["schema"] as? String == "unisonctl.image-inspect/v1")
        #expect(report?["format"] as? String == "qcow2")
        #expect((report?["virtualSize"] as? NSNumber)?.int64Value == Self.diskSize)
        #expect(report?["gptValid"] as? Bool == true)
        let fss = (report?["partitions"] as? [[String: Any]] ?? []).map { $0["filesystem"] as? [String: Any] }
        #expect(fss.map { $0?["type"] as? String } == ["fat32", "ext4"])
        #expect(fss.last??["uuid"] as? String == root.filesystemID)
        #expect(fss.first??["label"] as? String == "ESP")
        let text = try Repo.cli(["image", "inspect", vmdk.path])
        #expect(text.stdout.contains("vmdk: version 3, createType streamOptimized"), "\(text.stdout)")

        // Same inputs, same bytes.
        let again = try await Self.build(base: base, out: scratch.path("again"))
        #expect(again.artifacts.map(\.sha256) == result.artifacts.map(\.sha256))
        #expect(again.diskGUID == result.diskGUID)

        // Boots: OVMF -> systemd-boot from the FAT32 ESP -> kernel and initrd -> marker.
        for image in [qcow2, vmdk] {
            let log = scratch.path("serial-\(image.pathExtension).log")
            let boot = try Repo.cli([
                "qa", "boot", image.path, "--timeout", "300", "--marker", BusyboxBase.marker,
                "--accel", "tcg", "--serial-log", log.path,
            ])
            #expect(boot.status == 0, "\(image.lastPathComponent): \(boot.stderr)")
            let console = try String(contentsOf: log, encoding: .utf8)
            #expect(console.contains("root=PARTUUID=\(root.guid.text(uppercase: false))"), "the kernel got the loader entry's options")
        }
    }

    @Test("a disk too small for the content, a bad version or no kernel are refused before any output")
    func refused() async throws {
        let scratch = try ImageScratch("vm-bad")
        defer { scratch.cleanup() }
        let base = try BusyboxBase.make(in: scratch)
        let out = scratch.path("out")
        let overlay = ClosureOverlay { _ in }
        var request = ImageBuildRequest(base: .directory(base), outputDirectory: out, version: "1.0.0", epoch: Self.epoch, overlay: overlay)
        var vm = VMImage(formats: [.qcow2], diskSize: 300 << 20)
        await #expect(throws: DiskError.self) { _ = try await ImagePipeline.build(request, target: vm) }
        vm.diskSize = 512 << 20
        request.version = "../evil"
        await #expect(throws: VMError.badVersion("../evil")) { _ = try await ImagePipeline.build(request, target: vm) }
        request.version = "1.0.0"
        vm.diskSize = (512 << 20) + 4096
        await #expect(throws: VMError.self) { _ = try await ImagePipeline.build(request, target: vm) }
        vm.diskSize = 512 << 20
        request.overlay = ClosureOverlay { tree in tree.remove("boot") }
        await #expect(throws: DiskError.self) { _ = try await ImagePipeline.build(request, target: vm) }
        let left = (try? FileManager.default.contentsOfDirectory(atPath: out.path)) ?? []
        #expect(left.isEmpty, "nothing is written when the build is refused: \(left)")

        // The same through the CLI: exit 2 and one sentence naming the remedy.
        let common = [
            "image", "build", "vm", "--spec", Repo.spec.path, "--base", base.path, "--out", out.path,
            "--version", "1.0.0", "--unisonctl-binary", Repo.unisonctl.path,
        ]
        let small = try Repo.cli(common + ["--format", "qcow2", "--disk-size", "300MiB"])
        #expect(small.status == 2)
        #expect(small.stderr.contains("--disk-size") && small.stderr.contains("300.0 MiB"), "\(small.stderr)")
        let bogus = try Repo.cli(common + ["--format", "qcow2,bogus"])
        #expect(bogus.status == 2)
        #expect(bogus.stderr.contains("unknown format bogus"))
        let odd = try Repo.cli(common + ["--disk-size", "1000000000"])
        #expect(odd.status == 2)
        #expect(odd.stderr.contains("whole number of MiB"))
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: out.path)) ?? []).isEmpty)
    }
}
