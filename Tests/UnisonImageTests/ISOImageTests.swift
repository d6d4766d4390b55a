import Foundation
import Testing
import UnisonArchive
import UnisonCore
import UnisonDisk
import UnisonTestSupport

@testable import UnisonImage

/// The installer ISO end to end on the busybox base: read back by xorriso, sha256sum,
/// fsck.vfat, mtools, cpio and shellcheck; rebuilt byte for byte; and installed by QEMU under
/// SeaBIOS and OVMF, as a CD and as a USB disk, checked by qemu-img compare.
@Suite("Installer ISO", .serialized, .tags(.boot))
struct ISOImageTests {
    static let epoch: Int64 = 1_700_000_000
    static let version = "0.0.1-test"

    static let vm = VMImage(formats: [.raw], diskSize: 192 << 20, espSize: 48 << 20)

    static func request(base: URL, out: URL, scratch: ImageScratch) -> ImageBuildRequest {
        ImageBuildRequest(
            base: .directory(base), outputDirectory: out, version: ImageVersion(version), epoch: epoch,
            cacheDir: scratch.path("cache"), overlay: overlay)
    }

    static let overlay = ClosureOverlay { tree in
        try tree.addFile("etc/unisonos-overlay", "applied\n", mtime: ISOImageTests.epoch)
    }

    static func build(base: URL, out: URL, scratch: ImageScratch, splitAbove: Int64 = 4 << 20) async throws -> ISOBuildResult {
        try await ImagePipeline.build(
            request(base: base, out: out, scratch: scratch),
            target: ISOImage(payload: .build(vm), splitAbove: splitAbove),
            reporter: { ProgressReporter($0, total: $1, style: .silent) })
    }

    static func xorriso(_ args: [String]) throws -> String {
        let r = try ImageTool.status(["xorriso"] + args)
        #expect(r.status == 0, "xorriso \(args): \(r.stderrString)")
        return r.stdoutString + r.stderrString
    }

    @Test("hybrid ISO: El Torito BIOS + UEFI, payload and EFI image read back, same bytes on rebuild, installs under SeaBIOS and OVMF")
    func buildReadBackAndInstall() async throws {
        let scratch = try ImageScratch("iso")
        defer { scratch.cleanup() }
        let base = try ISOTestBase.make(in: scratch)
        let out = scratch.path("out")
        let result = try await Self.build(base: base, out: out, scratch: scratch)
        let iso = out.appendingPathComponent("unisonos-baremetal-0.0.1-test.iso")
        #expect(result.artifact.path == iso.path)
        #expect(result.schema == "unisonctl.image-build.iso/v1")
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: out.path).sorted()
                == [
                    "unisonos-baremetal-0.0.1-test.iso", "unisonos-baremetal-0.0.1-test.iso.sha256",
                    "unisonos-baremetal-0.0.1-test.iso.spdx.json",
                ], "no temporary files remain")
        #expect(result.artifact.sbom == iso.path + ".spdx.json")
        #expect(try ImageTool.status(["sh", "-c", "cd '\(out.path)' && sha256sum -c '\(iso.lastPathComponent).sha256'"]).status == 0)
        #expect(result.modules.contains("virtio_blk") && result.modules.contains("isofs") && result.modules.contains("sr_mod"))
        let loadOrder = result.modules
        #expect(loadOrder.firstIndex(of: "virtio")! < loadOrder.firstIndex(of: "virtio_blk")!, "dependencies load first")
        #expect(loadOrder.firstIndex(of: "scsi_mod")! < loadOrder.firstIndex(of: "sr_mod")!)

        // Boot catalogue and system area, by xorriso itself.
        let torito = try Self.xorriso(["-indev", iso.path, "-report_el_torito", "plain"])
        #expect(torito.range(of: #"El Torito boot img :\s+1\s+BIOS\s+y\s+none"#, options: .regularExpression) != nil, "\(torito)")
        #expect(torito.range(of: #"El Torito boot img :\s+2\s+UEFI\s+y\s+none"#, options: .regularExpression) != nil, "\(torito)")
        #expect(torito.contains("/isolinux/isolinux.bin") && torito.contains("/boot/efiboot.img"))
        #expect(torito.contains("Volume id    : 'UNISONOS_0_0_1_TEST'"), "\(torito)")
        let system = try Self.xorriso(["-indev", iso.path, "-report_system_area", "plain"])
        #expect(system.contains("MBR") && system.contains("GPT"), "isohybrid MBR and GPT for USB boot: \(system)")
        #expect(system.contains("isohybrid"), "\(system)")

        // The payload: extracted by xorriso, checked by sha256sum -c (parts and extent map),
        // the raw disk rebuilt from map and parts by python3.
        let extracted = scratch.path("extracted")
        _ = try Self.xorriso([
            "-osirrox", "on", "-indev", iso.path, "-extract", "/unisonos", extracted.path,
            "-extract", "/boot/efiboot.img", scratch.path("efiboot.img").path,
        ])
        #expect(result.payload.parts.count >= 2, "split above 4 MiB: \(result.payload.parts.map(\.name))")
        #expect(result.payload.parts.map(\.name) == result.payload.parts.map(\.name).sorted())
        #expect(try ImageTool.status(["sh", "-c", "cd '\(extracted.path)' && sha256sum -c SHA256SUMS"]).status == 0)
        let sums = try String(contentsOf: extracted.appendingPathComponent("SHA256SUMS"), encoding: .utf8)
        #expect(sums.contains("  \(result.payload.map)\n"), "the map is checked with the parts: \(sums)")
        #expect(result.payload.dataBytes < result.payload.size / 2, "zeros are not carried: \(result.payload.dataBytes) of \(result.payload.size)")
        _ = try PayloadReader.reconstruct(
            directory: extracted, map: result.payload.map, parts: result.payload.parts.map(\.name),
            to: extracted.appendingPathComponent(result.payload.name))
        let sumCheck = try ImageTool.status(["sh", "-c", "cd '\(extracted.path)' && sha256sum -c '\(result.payload.name).sha256'"])
        #expect(sumCheck.status == 0, "\(sumCheck.stdoutString)")
        let disk = extracted.appendingPathComponent(result.payload.name)
        #expect(result.payload.name == "unisonos-linux-vm-0.0.1-test.raw")
        // It is the VM pipeline's disk: an independent VM build gives the same bytes.
        let vm = try await ImagePipeline.build(
            Self.request(base: base, out: scratch.path("vm"), scratch: scratch), target: Self.vm,
            reporter: { ProgressReporter($0, total: $1, style: .silent) })
        #expect(vm.artifacts[0].sha256 == result.payload.sha256)
        let sgdisk = try ImageTool.status(["sgdisk", "-v", disk.path]).stdoutString
        #expect(sgdisk.contains("No problems found"), "\(sgdisk)")
        let conf = try String(contentsOf: extracted.appendingPathComponent("install.conf"), encoding: .utf8)
        #expect(conf.contains("UNISONOS_ID=\(result.installID)") && conf.contains("PAYLOAD_BYTES=\(192 << 20)"), "\(conf)")

        // The EFI image: FAT32 that fsck.vfat accepts, with systemd-boot, the entry and the same kernel and initramfs.
        let efi = scratch.path("efiboot.img")
        let fsck = try ImageTool.status(["fsck.vfat", "-n", efi.path])
        #expect(fsck.status == 0, "\(fsck.stdoutString)")
        let entry = try ImageTool.run(["mtype", "-i", efi.path, "::/loader/entries/unisonos-installer.conf"]).stdoutString
        #expect(entry.contains("linux   /unisonos/vmlinuz") && entry.contains("options console=tty0 console=ttyS0,115200"), "\(entry)")
        for (inside, onISO) in [
            ("EFI/BOOT/BOOTX64.EFI", URL(fileURLWithPath: VMBootFiles.hostLoaderPath)),
            ("unisonos/vmlinuz", try BusyboxBase.hostKernel().url),
            ("unisonos/initrd.img", extracted.appendingPathComponent("initrd.img")),
        ] {
            let copy = scratch.path("efi-copy.bin")
            try? FileManager.default.removeItem(at: copy)
            try ImageTool.run(["mcopy", "-n", "-i", efi.path, "::/" + inside, copy.path])
            #expect(try Data(contentsOf: copy) == (try Data(contentsOf: onISO)), "\(inside)")
        }

        // The initramfs: gzip'd newc that GNU cpio lists and extracts; /init passes shellcheck.
        let listing = try ImageTool.shell("gunzip -c '\(extracted.path)/initrd.img' | cpio -t --quiet").stdoutString
        let names = Set(listing.split(separator: "\n").map(String.init))
        for name in ["init", "bin/busybox", "bin/sh", "dev/console", "etc/unisonos-installer.conf", "lib/modules/virtio_blk.ko"] {
            #expect(names.contains(name), "\(name) in the initramfs")
        }
        let unpacked = scratch.path("initramfs")
        try FileManager.default.createDirectory(at: unpacked, withIntermediateDirectories: true)
        try ImageTool.shell("gunzip -c '\(extracted.path)/initrd.img' | cpio -id --quiet", cwd: unpacked)
        #expect(try Data(contentsOf: unpacked.appendingPathComponent("bin/busybox")) == (try Data(contentsOf: URL(fileURLWithPath: "/bin/busybox"))))
        let check = try ImageTool.status(["shellcheck", "-s", "sh", unpacked.appendingPathComponent("init").path])
        #expect(check.status == 0, "\(check.stdoutString)")
        let console = try ImageTool.run(["stat", "-c", "%F %t:%T", unpacked.appendingPathComponent("dev/console").path]).stdoutString
        #expect(console.hasPrefix("character special file 5:1"), "\(console)")
        // One gzip member, as the kernel's initramfs unpacker needs (Python's zlib reads one
        // member and leaves what follows it as unused data).
        let members = try ImageTool.run([
            "python3", "-c",
            "import sys,zlib; d=zlib.decompressobj(31); d.decompress(open(sys.argv[1],'rb').read()); print(d.eof, len(d.unused_data))",
            extracted.appendingPathComponent("initrd.img").path,
        ]).stdoutString
        #expect(members.trimmingCharacters(in: .whitespacesAndNewlines) == "True 0", "initramfs gzip members: \(members)")
        let order = try String(contentsOf: unpacked.appendingPathComponent("etc/unisonos-modules"), encoding: .utf8)
        #expect(order == result.modules.map { $0 + "\n" }.joined())

        // Same inputs, same bytes.
        let again = try await Self.build(base: base, out: scratch.path("again"), scratch: scratch)
        #expect(again.artifact.sha256 == result.artifact.sha256)
        #expect(again.installID == result.installID)

        // VM and ISO in one build: one root, the disk laid out once, the ISO's bytes unchanged.
        let lines = StatusLines()
        var both = Self.request(base: base, out: scratch.path("both"), scratch: scratch)
        both.targets = [Self.vm, ISOImage(payload: .build(Self.vm), splitAbove: 4 << 20)]
        let results = try await ImagePipeline.build(
            both, status: { lines.append($0) },
            reporter: { ProgressReporter($0, total: $1, style: .silent) })
        let (vmInRun, isoInRun) = (try #require(results.first as? VMBuildResult), try #require(results.last as? ISOBuildResult))
        #expect(isoInRun.artifact.sha256 == result.artifact.sha256)
        #expect(vmInRun.artifacts[0].sha256 == result.payload.sha256)
        #expect(lines.all.filter { $0.hasPrefix("base: ") }.count == 1, "\(lines.all)")
        #expect(
            lines.all.contains("payload: the VM disk built in this run") && !lines.all.contains("building the VM disk for the payload"),
            "\(lines.all)")

        // Install: CD under SeaBIOS and OVMF, USB disk under OVMF; each target equals the payload.
        for (firmware, medium) in [(InstallBoot.Firmware.bios, InstallBoot.Medium.cdrom), (.uefi, .cdrom), (.uefi, .disk)] {
            let target = scratch.path("target-\(firmware)-\(medium).qcow2")
            try ImageTool.run(["qemu-img", "create", "-q", "-f", "qcow2", target.path, "256M"])
            let outcome = try InstallBoot.run(iso: iso, target: target, firmware: firmware, medium: medium, scratch: scratch)
            let tail = outcome.console.split(separator: "\n").suffix(15).joined(separator: "\n")
            #expect(outcome.installed, "\(firmware) \(medium): \(tail)")
            #expect(outcome.poweredOff, "\(firmware) \(medium): QEMU powered off by itself after \(Int(outcome.seconds)) s: \(tail)")
            #expect(outcome.console.contains("install medium: /dev/\(medium == .cdrom ? "sr0" : "vda")"), "\(tail)")
            let compare = try ImageTool.status(["qemu-img", "compare", "-f", "raw", "-F", "qcow2", disk.path, target.path])
            #expect(compare.status == 0, "\(firmware) \(medium): \(compare.stdoutString)")
        }
    }
}

/// Status lines a build printed, collected across its tasks.
final class StatusLines: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []

    func append(_ line: String) { lock.withLock { lines.append(line) } }
    var all: [String] { lock.withLock { lines } }
}
