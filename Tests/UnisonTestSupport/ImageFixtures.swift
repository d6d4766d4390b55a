// Fixtures of the image tests that UnisonImageTests and the image CLI tests in UnisonCLITests
// share: running tools, the checkout and its unisonctl, and the synthetic WSL base.
import Foundation
import UnisonArchive
import UnisonCore
import UnisonImage

/// The shared scratch directory under the image tests' name for it.
package typealias ImageScratch = Scratch

package enum ImageTool {
    @discardableResult
    package static func run(_ arguments: [String], cwd: URL? = nil, environment: [String: String]? = nil) throws -> ProcessResult {
        try SystemProcessRunner().check(arguments, environment: environment, workingDirectory: cwd)
    }

    package static func status(_ arguments: [String]) throws -> ProcessResult {
        try SystemProcessRunner().run(arguments)
    }

    @discardableResult
    package static func shell(_ script: String, cwd: URL? = nil) throws -> ProcessResult {
        try SystemProcessRunner().check(["/bin/sh", "-c", script], workingDirectory: cwd)
    }
}

/// The checkout and its unisonctl as the image tests use them (each image test target calls it
/// `Repo`; UnisonSpec has a `Repo` of its own).
package enum ImageRepo {
    /// The repository root, through the symlinks a development package may use.
    package static let root = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    package static let spec = root.appendingPathComponent("unison.yaml")

    package static var unisonctl: URL { Unisonctl.binary }

    /// The shipped spec's Debian base in the cache, built by scripts/build-base.sh when it is
    /// not there yet.
    package static func debianBase() throws -> URL {
        let tarball = BaseCache.directory().appendingPathComponent("bases/debian-trixie.tar")
        if !FileManager.default.fileExists(atPath: tarball.path) {
            try ImageTool.run([root.appendingPathComponent("scripts/build-base.sh").path])
        }
        return tarball
    }

    /// Runs the CLI; returns status and output.
    package static func cli(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, stdout: String, stderr: String) {
        var env = ["UNISONCTL_QUIET": "1", "NO_COLOR": "1"]
        for (k, v) in environment { env[k] = v }
        let result = try SystemProcessRunner().run([unisonctl.path] + arguments, environment: env)
        return (result.status, result.stdoutString, result.stderrString)
    }
}

/// A small Debian-shaped root filesystem with everything the WSL target must change: a kernel,
/// an initramfs and modules owned by a `linux-image` package in dpkg's database, password
/// hashes, resolv.conf, a machine id, merged /usr, user units.
package enum SyntheticBase {
    package static let kernel = "6.1.0-test-amd64"

    package static func tree() throws -> FileTree {
        let t0: Int64 = 1_690_000_000
        var t = FileTree(rootMtime: t0)
        try t.addSymlink("lib", target: "usr/lib", mtime: t0)
        try t.addSymlink("bin", target: "usr/bin", mtime: t0)
        try t.addFile(
            "etc/passwd",
            "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
                + "legacy:$1$abc$inlinehash:1001:1001::/home/legacy:/bin/sh\n", mtime: t0)
        try t.addFile(
            "etc/shadow",
            "root:$6$salt$0123456789abcdef:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n"
                + "nobody:!:19000::::::\nopen::19000::::::\nlegacy:!$y$j9T$lockedhash:19000::::::\n", mode: 0o640, gid: 42, mtime: t0)
        try t.addFile("etc/shadow-", "root:$6$old$backuphash:18000:0:99999:7:::\n", mode: 0o600, mtime: t0)
        try t.addFile("etc/gshadow", "root:*::\nsudo:$6$grp$hash::\nadm:::\n", mode: 0o640, gid: 42, mtime: t0)
        try t.addFile("etc/group", "root:x:0:\nadm:x:4:\nsudo:x:27:\n", mtime: t0)
        try t.addFile("etc/resolv.conf", "nameserver 192.0.2.1\n", mtime: t0)
        try t.addFile("etc/machine-id", "0123456789abcdef0123456789abcdef\n", mode: 0o444, mtime: t0)
        try t.addFile("etc/hostname", "builder\n", mtime: t0)
        try t.addFile("boot/vmlinuz-\(kernel)", pseudo(4096), mtime: t0)
        try t.addFile("boot/System.map-\(kernel)", "ffffffff81000000 T _text\n", mtime: t0)
        try t.addFile("boot/config-\(kernel)", "CONFIG_EXT4_FS=m\n", mtime: t0)
        try t.addFile("boot/initrd.img-\(kernel)", pseudo(8192), mtime: t0)
        try t.addSymlink("vmlinuz", target: "boot/vmlinuz-\(kernel)", mtime: t0)
        try t.addSymlink("initrd.img", target: "boot/initrd.img-\(kernel)", mtime: t0)
        try t.addFile("usr/lib/modules/\(kernel)/kernel/fs/ext4/ext4.ko", pseudo(2048), mtime: t0)
        try t.addFile("usr/lib/modules/\(kernel)/modules.dep", "kernel/fs/ext4/ext4.ko:\n", mtime: t0)
        try t.addFile("usr/share/doc/linux-image-\(kernel)/copyright", "GPL-2\n", mtime: t0)
        try t.addFile("usr/share/doc/base-files/copyright", "base\n", mtime: t0)
        try t.addFile("usr/lib/systemd/system/systemd-resolved.service", "[Unit]\nDescription=resolved\n", mtime: t0)
        try t.addDirectory("usr/lib/systemd/system/multi-user.target.wants", mtime: t0)
        try t.addSymlink(
            "usr/lib/systemd/system/multi-user.target.wants/systemd-resolved.service",
            target: "../systemd-resolved.service", mtime: t0)
        try t.addFile("usr/lib/systemd/user/systemd-tmpfiles-clean.timer", "[Timer]\nOnBootSec=15min\n", mtime: t0)
        try t.addFile("usr/lib/systemd/user/systemd-tmpfiles-setup.service", "[Service]\nType=oneshot\n", mtime: t0)
        try t.addFile("usr/bin/tool", "#!/bin/sh\n", mode: 0o755, mtime: t0)
        try t.insert(.init(path: "usr/bin/tool-alias", kind: .hardlink(target: "usr/bin/tool"), mode: 0o755, mtime: t0))
        try t.addFile(
            "var/lib/dpkg/status",
            """
            Package: base-files
            Status: install ok installed
            Version: 12.4
            Architecture: amd64

            Package: linux-image-\(kernel)
            Status: install ok installed
            Version: 6.1.1-1
            Architecture: amd64
            Depends: kmod, linux-base (>= 4.3~)

            Package: kmod
            Status: install ok installed
            Version: 30+20221128-1
            Architecture: amd64

            Package: linux-image-amd64
            Status: install ok installed
            Version: 6.1.1-1
            Architecture: amd64
            Depends: linux-image-\(kernel) (= 6.1.1-1)

            """, mtime: t0)
        try t.addFile(
            "var/lib/dpkg/info/linux-image-\(kernel).list",
            """
            /.
            /boot
            /boot/System.map-\(kernel)
            /boot/config-\(kernel)
            /boot/vmlinuz-\(kernel)
            /lib
            /lib/modules
            /lib/modules/\(kernel)
            /lib/modules/\(kernel)/kernel
            /lib/modules/\(kernel)/kernel/fs
            /lib/modules/\(kernel)/kernel/fs/ext4
            /lib/modules/\(kernel)/kernel/fs/ext4/ext4.ko
            /usr
            /usr/share
            /usr/share/doc
            /usr/share/doc/linux-image-\(kernel)
            /usr/share/doc/linux-image-\(kernel)/copyright

            """, mtime: t0)
        try t.addFile("var/lib/dpkg/info/linux-image-\(kernel).postinst", "#!/bin/sh\nexit 0\n", mode: 0o755, mtime: t0)
        try t.addFile("var/lib/dpkg/info/linux-image-\(kernel).md5sums", "00  boot/vmlinuz-\(kernel)\n", mtime: t0)
        try t.addFile("var/lib/dpkg/info/linux-image-amd64.list", "/.\n/usr\n", mtime: t0)
        try t.addFile("var/lib/dpkg/info/base-files.list", "/.\n/usr\n/usr/share/doc/base-files/copyright\n", mtime: t0)
        try t.addFile("var/lib/dpkg/info/kmod.list", "/.\n", mtime: t0)
        try t.addFile("var/lib/dpkg/info/kmod.md5sums", "", mtime: t0)
        try t.addFile("var/lib/dpkg/info/base-files.md5sums", "00000000000000000000000000000000  usr/share/doc/base-files/copyright\n", mtime: t0)
        try t.addFile("var/lib/dpkg/available", "", mtime: t0)
        try t.addDirectory("var/lib/dpkg/updates", mtime: t0)
        try t.addDirectory("var/lib/dpkg/triggers", mtime: t0)
        try t.addDirectory("tmp", mode: 0o1777, mtime: t0)
        return t
    }

    package static func pseudo(_ n: Int) -> Data {
        var state: UInt64 = 0x9e37_79b9_7f4a_7c15
        return Data(
            (0..<n).map { _ in
                state = state &* 6_364_136_223_846_793_005 &+ 1; return UInt8(truncatingIfNeeded: state >> 33)
            })
    }

    /// The tree as a directory on disk (ownership applied: the tests run as root).
    package static func directory(in scratch: ImageScratch) throws -> URL {
        let dir = scratch.path("base")
        try tree().materialize(into: dir, options: .init(applyOwnership: true))
        return dir
    }
}
