import FoundationEssentials
import Glibc
import UnisonArchive
import UnisonCore
import UnisonDisk

/// Firmware the ISO boots under.
package enum ISOFirmware: String, Sendable, Codable, CaseIterable {
    case bios, uefi
}

/// Boot files and the xorriso call that makes the ISO hybrid:
///
///   ISO 9660 (+ Rock Ridge)                      as a CD                as a USB disk
///   ├─ isolinux/isolinux.bin, ldlinux.c32  ◄── El Torito BIOS entry    MBR (isohdpfx.bin) → isolinux
///   ├─ isolinux/isolinux.cfg, boot.cat
///   ├─ boot/efiboot.img (FAT32)            ◄── El Torito EFI entry     GPT/MBR partition → same FAT
///   │    EFI/BOOT/BOOTX64.EFI (systemd-boot), loader/, unisonos/vmlinuz, unisonos/initrd.img
///   └─ unisonos/ vmlinuz, initrd.img, install.conf, SHA256SUMS, <disk>.raw.sha256, <disk>.raw.extents,
///                <disk>.raw.data.gz[.NNN] (the disk's data extents, ISOPayloadExtents)
enum ISOBoot {
    static let kernelName = "vmlinuz"
    static let initrdName = "initrd.img"
    static let efiImagePath = "boot/efiboot.img"

    static func commandLine(_ extra: [String]) -> String {
        // The last console= is /dev/console: the serial port, where the QA checks read.
        (["console=tty0", "console=ttyS0,115200", "panic=10"] + extra).joined(separator: " ")
    }

    static func isolinuxConfig(title: String, commandLine: String) -> String {
        """
        # UnisonOS installer (BIOS): boots straight into the unattended install.
        SERIAL 0 115200
        DEFAULT install
        PROMPT 0
        TIMEOUT 0
        SAY \(title): starting the installer
        LABEL install
          KERNEL /\(ISOInstaller.isoDir)/\(kernelName)
          APPEND initrd=/\(ISOInstaller.isoDir)/\(initrdName) \(commandLine)

        """
    }

    /// The El Torito EFI image's files: systemd-boot, one entry, the kernel and initramfs.
    static func efiTree(
        loader: FileTree.Content, kernel: FileTree.Content, initramfs: Data, title: String,
        commandLine: String, mtime: Int64
    ) throws -> FileTree {
        var t = FileTree(rootMtime: mtime)
        try t.insert(.init(path: "EFI/BOOT/BOOTX64.EFI", kind: .regular(loader), mode: 0o644, mtime: mtime))
        try t.addFile("loader/loader.conf", "default unisonos-installer.conf\ntimeout 0\neditor no\nconsole-mode keep\n", mtime: mtime)
        try t.addFile(
            "loader/entries/unisonos-installer.conf",
            """
            title   \(title)
            linux   /\(ISOInstaller.isoDir)/\(kernelName)
            initrd  /\(ISOInstaller.isoDir)/\(initrdName)
            options \(commandLine)

            """, mtime: mtime)
        try t.insert(.init(path: "\(ISOInstaller.isoDir)/\(kernelName)", kind: .regular(kernel), mode: 0o644, mtime: mtime))
        try t.addFile("\(ISOInstaller.isoDir)/\(initrdName)", initramfs, mtime: mtime)
        return t
    }

    /// Writes the FAT32 EFI image: at least 40 MiB (FAT32's minimum cluster count) and room
    /// for the files.
    static func writeEFIImage(_ tree: FileTree, to url: URL, volumeID: UInt32) async throws -> Int64 {
        let mib: Int64 = 1 << 20
        let size = VMImage.roundUp(max(40 * mib, tree.contentSize + tree.contentSize / 8 + 36 * mib), mib)
        let fat = try FAT32Volume.build(tree, size: size, options: .init(label: "UNISONEFI", volumeID: volumeID, hiddenSectors: 0))
        var layout = DiskLayout(size: size)
        try layout.add(fat.extents, at: 0)
        try await RawEncoder().encode(layout, to: url, progress: nil)
        return size
    }

    /// `xorriso -as mkisofs` arguments for `staging` → `output`.
    static func xorrisoArguments(
        staging: URL, output: URL, volumeID: String, firmware: [ISOFirmware], isohybridMBR: URL,
        epoch: Int64
    ) -> [String] {
        var args = [
            "xorriso", "-as", "mkisofs", "-iso-level", "3", "-r", "-V", volumeID,
            "--modification-date=\(isoDate(epoch))", "-o", output.path,
        ]
        if firmware.contains(.bios) {
            args += [
                "-b", "isolinux/isolinux.bin", "-c", "isolinux/boot.cat", "-no-emul-boot", "-boot-load-size", "4",
                "-boot-info-table", "-isohybrid-mbr", isohybridMBR.path,
            ]
        } else {
            args += ["-c", "boot/boot.cat"]
        }
        if firmware.contains(.uefi) {
            if firmware.contains(.bios) { args.append("-eltorito-alt-boot") }
            args += ["-e", efiImagePath, "-no-emul-boot", "-isohybrid-gpt-basdat"]
        }
        args.append(staging.path)
        return args
    }

    /// `YYYYMMDDhhmmss00` in UTC, as --modification-date wants it.
    static func isoDate(_ epoch: Int64) -> String {
        var t = time_t(epoch)
        var parts = tm()
        gmtime_r(&t, &parts)
        let fields = [
            (Int(parts.tm_year) + 1900, 4), (Int(parts.tm_mon) + 1, 2), (Int(parts.tm_mday), 2),
            (Int(parts.tm_hour), 2), (Int(parts.tm_min), 2), (Int(parts.tm_sec), 2),
        ]
        return fields.map { NumberText.decimal($0.0, width: $0.1) }.joined() + "00"
    }

    /// An ISO 9660 volume identifier: d-characters (A-Z, 0-9, _), at most 32.
    static func volumeID(prefix: String, version: String) -> String {
        let raw = "\(prefix)_\(version)".uppercased()
        let mapped = raw.unicodeScalars.map { ("A"..."Z").contains($0) || ("0"..."9").contains($0) ? Character($0) : "_" }
        return String(String(mapped).prefix(32))
    }
}
