import FoundationEssentials

/// Undoes an install from its manifest: removes what the install created and keeps the data
/// directory and the env file unless `purge`. Paths the install found already there (a host's
/// `/etc/systemd/system`, an existing `/etc/wsl.conf`) are never removed.
package enum Uninstaller {
    package static func uninstall<R: InstallRoot>(root: inout R, manifestPath: String, purge: Bool, dryRun: Bool = false) throws -> InstallReport {
        guard let manifest = try InstallManifest.load(from: root, path: manifestPath) else {
            throw InstallError.notInstalled(manifest: manifestPath)
        }
        var report = InstallReport(root: root.label)
        func remove(_ path: String, tree: Bool = false, _ detail: String? = nil) throws {
            guard try root.item(at: path) != nil else { return }
            if !dryRun { if tree { try root.removeTree(path) } else { try root.remove(path) } }
            report.note(path, .removed, detail)
        }

        // Files and links first.
        for entry in manifest.entries where entry.kind != .directory {
            switch entry.role {
            case .managed:
                if entry.created { try remove(entry.path) } else { report.note(entry.path, .kept, "was there before the install") }
            case .config:
                if purge { try remove(entry.path, "--purge") } else { report.note(entry.path, .kept, "settings kept (use --purge to remove)") }
            case .edited:
                report.note(entry.path, .kept, "a system file the install only added \((entry.keys ?? []).joined(separator: ", ")) to")
            case .data:
                break
            }
        }
        // Data: whole trees with --purge, otherwise kept.
        let dataRoots = manifest.entries.filter { $0.role == .data && $0.kind == .directory && $0.created }
            .filter { d in !manifest.entries.contains { $0.role == .data && $0.created && d.path.hasPrefix($0.path + "/") } }
        for entry in dataRoots {
            if purge { try remove(entry.path, tree: true, "--purge") } else { report.note(entry.path, .kept, "data kept (use --purge to remove)") }
        }
        // Directories the install created, deepest first, when nothing else is left in them.
        let dirs = manifest.entries.filter { $0.kind == .directory && $0.role == .managed && $0.created }
            .sorted {
                $0.path.split(separator: "/").count > $1.path.split(separator: "/").count
                    || ($0.path.split(separator: "/").count == $1.path.split(separator: "/").count && $0.path > $1.path)
            }
        for entry in dirs {
            guard try root.item(at: entry.path) != nil else { continue }
            let left = try root.list(entry.path).filter { name in
                !(dryRun && report.changes.contains { $0.action == .removed && $0.path == entry.path + "/" + name })
            }
            if left.isEmpty {
                try remove(entry.path)
            } else {
                report.note(entry.path, .kept, "not empty: \(left.prefix(5).joined(separator: ", "))")
            }
        }
        // Without --purge the manifest stays, reduced to what was kept, so that a later install
        // knows those paths are its own and a later `uninstall --purge` can remove them.
        if !purge, !dryRun {
            var kept = manifest
            kept.entries = try manifest.entries.filter { try root.item(at: $0.path) != nil }
            if kept.entries.isEmpty {
                try root.remove(manifestPath)
            } else {
                try root.writeFile(manifestPath, try kept.encoded(), mode: 0o644, owner: .root)
                report.note(manifestPath, .updated, "now lists only what was kept")
            }
        }
        return report
    }
}
