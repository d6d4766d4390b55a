// The busybox VM base of the VM and ISO tests (UnisonImageTests and the image CLI tests in
// UnisonCLITests).
import Foundation
import Testing

/// A tiny bootable base: the host's kernel, a busybox initramfs whose /init prints the kernel
/// command line and the first-boot marker on the serial port and powers off, and no boot
/// loader (the pipeline falls back to the host's systemd-boot).
package enum BusyboxBase {
    package static let marker = "UNISONOS-FIRSTBOOT-OK"

    package static func hostKernel() throws -> (release: String, url: URL) {
        let names = try FileManager.default.contentsOfDirectory(atPath: "/boot").filter { $0.hasPrefix("vmlinuz-") }.sorted()
        let name = try #require(names.last, "the host needs a kernel in /boot (apt-get install linux-image-amd64)")
        return (String(name.dropFirst("vmlinuz-".count)), URL(fileURLWithPath: "/boot/\(name)"))
    }

    /// Writes the base directory and returns it.
    package static func make(in scratch: ImageScratch) throws -> URL {
        let base = scratch.path("base")
        let (release, kernel) = try hostKernel()
        let fm = FileManager.default
        try fm.createDirectory(at: base.appendingPathComponent("boot"), withIntermediateDirectories: true)
        try fm.createDirectory(at: base.appendingPathComponent("etc"), withIntermediateDirectories: true)
        try fm.copyItem(at: kernel, to: base.appendingPathComponent("boot/vmlinuz-\(release)"))
        try Data("busybox-vm\n".utf8).write(to: base.appendingPathComponent("etc/hostname"))

        let initramfs = scratch.path("initramfs")
        try fm.createDirectory(at: initramfs.appendingPathComponent("bin"), withIntermediateDirectories: true)
        try fm.copyItem(at: URL(fileURLWithPath: "/bin/busybox"), to: initramfs.appendingPathComponent("bin/busybox"))
        let initScript = """
            #!/bin/busybox sh
            /bin/busybox mkdir -p /proc /dev /sys
            /bin/busybox mount -t proc proc /proc
            /bin/busybox mount -t devtmpfs devtmpfs /dev
            echo "CMDLINE: $(/bin/busybox cat /proc/cmdline)" > /dev/ttyS0
            echo \(marker) > /dev/ttyS0
            /bin/busybox poweroff -f

            """
        let initURL = initramfs.appendingPathComponent("init")
        try Data(initScript.utf8).write(to: initURL)
        try fm.setAttributes([.posixPermissions: 0o755], ofItemAtPath: initURL.path)
        let initrd = base.appendingPathComponent("boot/initrd.img-\(release)")
        try ImageTool.shell("find . | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 | gzip -n -9 > '\(initrd.path)'", cwd: initramfs)
        return base
    }
}
