import FoundationEssentials
import UnisonArchive
import UnisonDisk

/// What the ESP boots: a kernel and initrd from the tree's /boot, and systemd-boot.
package struct VMBootFiles: Sendable {
    /// Kernel release, from the `vmlinuz-<release>` name.
    package var release: String
    package var kernel: FileTree.Content
    package var initrd: FileTree.Content
    package var loader: FileTree.Content
    /// Where the loader came from: `image:/usr/lib/…` (the tree) or `host:/usr/lib/…`.
    package var loaderSource: String

    /// The systemd-boot binary inside the base, and the host's as a fallback.
    package static let treeLoaderPath = "usr/lib/systemd/boot/efi/systemd-bootx64.efi"
    package static let hostLoaderPath = "/usr/lib/systemd/boot/efi/systemd-bootx64.efi"

    /// Finds the newest `boot/vmlinuz-*` with its `boot/initrd.img-*`, and the boot loader
    /// (tree first, then `hostLoader`).
    package static func find(in tree: FileTree, hostLoader: URL? = URL(fileURLWithPath: hostLoaderPath)) throws -> VMBootFiles {
        let kernels = RootfsBuilder.entries(of: tree, in: "boot", matching: "vmlinuz-*")
            .compactMap { path -> (String, FileTree.Content)? in
                guard let content = regularContent(tree, path) else { return nil }
                return (String(path.dropFirst("boot/vmlinuz-".count)), content)
            }
            .sorted { versionOrder($0.0, $1.0) }
        guard let (release, kernel) = kernels.last else {
            throw DiskError.missingBootFile(what: "kernel", looked: ["/boot/vmlinuz-* in the image tree"])
        }
        guard let initrd = regularContent(tree, "boot/initrd.img-\(release)") else {
            throw DiskError.missingBootFile(what: "initrd for kernel \(release)", looked: ["/boot/initrd.img-\(release) in the image tree"])
        }
        if let loader = regularContent(tree, treeLoaderPath) {
            return VMBootFiles(release: release, kernel: kernel, initrd: initrd, loader: loader, loaderSource: "image:/" + treeLoaderPath)
        }
        if let host = hostLoader, FileManager.default.isReadableFile(atPath: host.path) {
            return VMBootFiles(release: release, kernel: kernel, initrd: initrd, loader: .file(host), loaderSource: "host:" + host.path)
        }
        throw DiskError.missingBootFile(
            what: "UEFI boot loader (systemd-boot)",
            looked: ["/" + treeLoaderPath + " in the image tree", hostLoader?.path ?? "no host fallback"])
    }

    /// A regular file's content, following one hard link.
    static func regularContent(_ tree: FileTree, _ path: String) -> FileTree.Content? {
        guard let resolved = tree.resolvingSymlinks(path, followFinal: true), let entry = tree[resolved] else { return nil }
        switch entry.kind {
        case let .regular(c): return c
        case let .hardlink(target): if case let .regular(c)? = tree[target]?.kind { return c } else { return nil }
        default: return nil
        }
    }

    /// Orders kernel releases like dpkg would for the usual `6.1.0-50-amd64`: numeric runs
    /// compare as numbers.
    static func versionOrder(_ a: String, _ b: String) -> Bool {
        func parts(_ s: String) -> [Either] {
            var out: [Either] = []
            var current = ""
            var numeric = false
            for ch in s {
                let isDigit = ch.isASCII && ch.isNumber
                if !current.isEmpty && isDigit != numeric {
                    out.append(numeric ? .number(Int(current) ?? 0) : .text(current))
                    current = ""
                }
                numeric = isDigit
                current.append(ch)
            }
            if !current.isEmpty { out.append(numeric ? .number(Int(current) ?? 0) : .text(current)) }
            return out
        }
        return parts(a).lexicographicallyPrecedes(parts(b))
    }

    enum Either: Comparable {
        case number(Int), text(String)
    }
}

/// The ESP's files and the root's boot configuration.
enum VMBootConfig {
    static let kernelDir = "unisonos"

    static func kernelCommandLine(rootPartition: GUID, extra: [String]) -> String {
        // The last console= is /dev/console: the serial port, where qa boot looks.
        (["root=PARTUUID=\(rootPartition.text(uppercase: false))", "rw", "console=tty0", "console=ttyS0,115200"] + extra)
            .joined(separator: " ")
    }

    /// systemd-boot's configuration (Boot Loader Specification, type 1 entries).
    static func espTree(boot: VMBootFiles, title: String, commandLine: String, mtime: Int64) throws -> FileTree {
        var t = FileTree(rootMtime: mtime)
        try t.insert(.init(path: "EFI/BOOT/BOOTX64.EFI", kind: .regular(boot.loader), mode: 0o644, mtime: mtime))
        try t.addFile(
            "loader/loader.conf",
            """
            default unisonos.conf
            timeout 0
            editor no
            console-mode keep

            """, mtime: mtime)
        try t.addFile(
            "loader/entries/unisonos.conf",
            """
            title   \(title)
            version \(boot.release)
            linux   /\(kernelDir)/vmlinuz-\(boot.release)
            initrd  /\(kernelDir)/initrd.img-\(boot.release)
            options \(commandLine)

            """, mtime: mtime)
        try t.insert(.init(path: "\(kernelDir)/vmlinuz-\(boot.release)", kind: .regular(boot.kernel), mode: 0o644, mtime: mtime))
        try t.insert(.init(path: "\(kernelDir)/initrd.img-\(boot.release)", kind: .regular(boot.initrd), mode: 0o644, mtime: mtime))
        return t
    }

    /// /etc/fstab naming both partitions by PARTUUID, and the ESP's mount point.
    static func applyFstab(_ tree: inout FileTree, root: GUID, esp: GUID, mtime: Int64) throws {
        try tree.addFile(
            "etc/fstab",
            """
            # UnisonOS VM disk, written by unisonctl: partitions by PARTUUID.
            PARTUUID=\(root.text(uppercase: false))  /          ext4  rw,relatime,errors=remount-ro  0  1
            PARTUUID=\(esp.text(uppercase: false))  /boot/efi  vfat  umask=0077,nofail            0  0

            """, mtime: mtime)
        if tree["boot/efi"] == nil { try tree.addDirectory("boot/efi", mode: 0o755, mtime: mtime) }
    }
}
