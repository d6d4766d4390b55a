import FoundationEssentials
import UnisonArchive

/// The changes that make a root filesystem a WSL distribution (see WSLDistribution.swift for
/// the guide's list), and the check that they hold.
package enum WSLRootfs {
    /// What `prepare` did, for the build report.
    package struct Report: Sendable, Equatable, Codable {
        package var removedPackages: [String] = []
        package var removedPaths: [String] = []
        package var maskedUnits: [String] = []
        package var lockedAccounts: [String] = []
        package var notes: [String] = []
    }

    /// Applies every WSL requirement to the tree. New files get `mtime`.
    @discardableResult
    package static func prepare(_ tree: inout FileTree, distribution: WSLDistribution, mtime: Int64) throws -> Report {
        try distribution.validate()
        var report = Report()

        // No kernel, no initramfs: the kernel packages with their files and database entries,
        // then whatever the kernel left behind (initrd images are generated, not packaged).
        let purge = try DpkgDatabase.purge(&tree, packagesMatching: "linux-image-*")
        report.removedPackages = purge.removed
        if !purge.dependents.isEmpty {
            report.notes.append("packages depending on the removed kernel: \(purge.dependents.joined(separator: ", "))")
        }
        var doomed: [String] = []
        if let boot = tree.resolvingSymlinks("boot"), tree[boot]?.isDirectory == true {
            for pattern in ["vmlinuz*", "vmlinux*", "initrd.img*", "initramfs*", "System.map*", "config-*"] {
                doomed += RootfsBuilder.entries(of: tree, in: boot, matching: pattern)
            }
        }
        for pattern in ["vmlinuz*", "initrd.img*"] { doomed += RootfsBuilder.entries(of: tree, in: "", matching: pattern) }
        if let modules = tree.resolvingSymlinks("usr/lib/modules"), tree[modules]?.isDirectory == true {
            doomed += tree.children(of: modules).map(\.path)
        }
        for path in doomed where tree.contains(path) {
            tree.remove(path)
            report.removedPaths.append(path)
        }

        // WSL writes its own resolv.conf (a file or a symlink in the base: both go).
        for path in ["etc/resolv.conf"] where tree.contains(path) {
            tree.remove(path)
            report.removedPaths.append(path)
        }

        // Accounts: a root with uid 0, and no password hashes anywhere.
        try requireRoot(tree)
        report.lockedAccounts = try lockPasswords(&tree)

        // A machine id per installation: systemd fills an empty file at first boot.
        if let id = tree["etc/machine-id"], case .regular = id.kind {
            try tree.update("etc/machine-id") { $0.kind = .regular(.bytes(Data())) }
        } else if !tree.contains("etc/machine-id") {
            try tree.addFile("etc/machine-id", Data(), mode: 0o444, mtime: mtime)
        }

        // Units that break WSL, masked for the system and, where the base has them, for users.
        let userUnits = tree.resolvingSymlinks("usr/lib/systemd/user") ?? "usr/lib/systemd/user"
        for unit in WSLDistribution.maskedUnits {
            try mask(&tree, "etc/systemd/system/" + unit, mtime: mtime)
            report.maskedUnits.append("system/" + unit)
            if tree.contains(userUnits + "/" + unit) {
                try mask(&tree, "etc/systemd/user/" + unit, mtime: mtime)
                report.maskedUnits.append("user/" + unit)
            }
        }

        // The configuration files, root:root 0644, and the first-run script and icon.
        // wsl.conf keeps what the overlay put there (the installer's boot command) with systemd on.
        let existingConf = try text(tree, "etc/wsl.conf")
        tree.remove("etc/wsl.conf")
        try tree.addFile("etc/wsl.conf", distribution.wslConf(merging: existingConf), mode: 0o644, mtime: mtime)
        try tree.addFile("etc/wsl-distribution.conf", distribution.distributionConf, mode: 0o644, mtime: mtime)
        try tree.addFile(WSLDistribution.oobePath, distribution.oobeScript, mode: 0o755, mtime: mtime)
        try tree.addFile(WSLDistribution.iconPath, WSLIcon.ico(), mode: 0o644, mtime: mtime)
        return report
    }

    private static func mask(_ tree: inout FileTree, _ path: String, mtime: Int64) throws {
        if tree[path]?.isDirectory == true { tree.remove(path) }
        try tree.addSymlink(path, target: "/dev/null", mtime: mtime)
    }

    static func text(_ tree: FileTree, _ path: String) throws -> String? {
        guard let resolved = tree.resolvingSymlinks(path, followFinal: true), let e = tree[resolved],
            case let .regular(content) = e.kind
        else { return nil }
        return String(decoding: try content.data(), as: UTF8.self)
    }

    static func requireRoot(_ tree: FileTree) throws {
        guard let passwd = try text(tree, "etc/passwd") else { throw WSLError.noRootUser("/etc/passwd is missing") }
        let root = passwd.split(separator: "\n").map { $0.split(separator: ":", omittingEmptySubsequences: false) }
            .first { $0.count >= 7 && $0[0] == "root" }
        guard let root else { throw WSLError.noRootUser("/etc/passwd has no 'root' line") }
        guard root[2] == "0" else { throw WSLError.noRootUser("root has uid \(root[2]), not 0") }
    }

    /// A password field holding a hash (anything but empty-locked markers and `x`).
    static func isHash(_ field: Substring) -> Bool {
        let bare = field.drop { $0 == "!" }
        return !(bare.isEmpty || bare == "*" || bare == "x")
    }

    /// Replaces every password hash (and every empty password) in passwd, shadow and gshadow
    /// (and their `-` backups) with `*`: accounts are locked until the first-run script sets a
    /// password. Returns `file:account` for each change.
    static func lockPasswords(_ tree: inout FileTree) throws -> [String] {
        var changed: [String] = []
        for (file, emptyAllowed) in [
            ("etc/passwd", false), ("etc/passwd-", false), ("etc/shadow", false),
            ("etc/shadow-", false), ("etc/gshadow", true), ("etc/gshadow-", true),
        ] {
            guard let path = tree.resolvingSymlinks(file, followFinal: true), let original = try text(tree, path) else { continue }
            var lines: [String] = []
            for line in original.split(separator: "\n", omittingEmptySubsequences: false) {
                var fields = line.split(separator: ":", omittingEmptySubsequences: false)
                guard fields.count >= 2 else { lines.append(String(line)); continue }
                let isPasswd = file.hasPrefix("etc/passwd")
                // passwd: an inline hash or an empty field; shadow: a hash or an empty field;
                // gshadow: hashes only (an empty group password means none can be used).
                let empty = fields[1].isEmpty
                if isHash(fields[1]) && !(isPasswd && fields[1] == "x") || (empty && !emptyAllowed) {
                    changed.append("\(file):\(fields[0])")
                    fields[1] = isPasswd ? "x" : "*"
                }
                lines.append(fields.joined(separator: ":"))
            }
            let updated = lines.joined(separator: "\n")
            if updated != original {
                try tree.update(path) { $0.kind = .regular(.bytes(Data(updated.utf8))) }
            }
        }
        return changed
    }
}
