import FoundationEssentials
import UnisonArchive
import UnisonInstall

extension WSLRootfs {
    /// Every requirement of the guide that can be read from the tree; one sentence per problem,
    /// empty when the tree is a valid WSL distribution.
    package static func problems(in tree: FileTree, distribution: WSLDistribution) -> [String] {
        var out: [String] = []
        // Each required `key=value` in its own section, read as INI (INIFile): the same line
        // under another section does not count.
        func config(_ path: String, requires entries: [(section: String, key: String, value: String)]) {
            guard let e = tree[path], case .regular = e.kind else { out.append("/\(path) is missing"); return }
            if e.uid != 0 || e.gid != 0 { out.append("/\(path) is owned by \(e.uid):\(e.gid), not root:root") }
            if e.mode != 0o644 { out.append("/\(path) has mode \(String(e.mode, radix: 8)), not 644") }
            let body = ((try? text(tree, path)) ?? nil) ?? ""
            for entry in entries where INIFile.value(body, section: entry.section, key: entry.key) != entry.value {
                out.append("/\(path) lacks '\(entry.key)=\(entry.value)' in [\(entry.section)]")
            }
        }
        config("etc/wsl.conf", requires: [("boot", "systemd", "true")])
        config(
            "etc/wsl-distribution.conf",
            requires: [
                ("oobe", "command", "/\(WSLDistribution.oobePath)"), ("oobe", "defaultUid", "\(distribution.defaultUid)"),
                ("oobe", "defaultName", distribution.defaultName), ("shortcut", "icon", "/\(WSLDistribution.iconPath)"),
            ])
        if let oobe = tree[WSLDistribution.oobePath] {
            if oobe.mode & 0o111 == 0 { out.append("/\(WSLDistribution.oobePath) is not executable") }
        } else {
            out.append("/\(WSLDistribution.oobePath) is missing")
        }
        if let icon = tree[WSLDistribution.iconPath], case let .regular(c) = icon.kind {
            if c.size > 10 * 1024 * 1024 { out.append("the icon is larger than 10 MB") }
        } else {
            out.append("/\(WSLDistribution.iconPath) is missing")
        }
        if tree.contains("etc/resolv.conf") { out.append("/etc/resolv.conf is present") }
        do { try requireRoot(tree) } catch { out.append("\(error)") }
        for file in ["etc/shadow", "etc/gshadow"] {
            guard let body = (try? text(tree, file)) ?? nil else { continue }
            for line in body.split(separator: "\n") {
                let f = line.split(separator: ":", omittingEmptySubsequences: false)
                if f.count >= 2, isHash(f[1]) { out.append("/\(file) holds a password hash for '\(f[0])'") }
            }
        }
        let boot = tree.resolvingSymlinks("boot") ?? "boot"
        for pattern in ["vmlinuz*", "initrd.img*", "initramfs*"] {
            for path in RootfsBuilder.entries(of: tree, in: boot, matching: pattern) + RootfsBuilder.entries(of: tree, in: "", matching: pattern) {
                out.append("/\(path) is a kernel or initramfs")
            }
        }
        if let modules = tree.resolvingSymlinks("usr/lib/modules"), !tree.children(of: modules).isEmpty {
            out.append("/\(modules) holds kernel modules")
        }
        for unit in WSLDistribution.maskedUnits where tree["etc/systemd/system/" + unit]?.kind != .symlink(target: "/dev/null") {
            out.append("\(unit) is not masked")
        }
        return out
    }
}
