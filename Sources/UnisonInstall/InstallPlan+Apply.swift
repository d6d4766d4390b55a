import FoundationEssentials
import UnisonArchive
import UnisonCore

/// What applying a plan (or an uninstall) did, path by path.
package struct InstallReport: Sendable, Codable, Equatable {
    package enum Action: String, Codable, Sendable {
        case created, updated, unchanged, attributes, removed
        /// A file that belongs to its person now (env file, `keep-existing` files): left as it was.
        case kept
        /// The env file completed with keys or secrets it lacked; its other lines untouched.
        case completed
    }

    package struct Change: Codable, Sendable, Equatable {
        package var path: String
        package var action: Action
        package var detail: String?
    }

    package var schema = "unisonctl.install-report/v1"
    package var root: String
    package var changes: [Change] = []
    /// True when owners were recorded in the manifest but not applied (rootless `--root`).
    package var ownershipRecordedOnly = false
    package var generatedSecrets: [String] = []
    package var appendedEnvKeys: [String] = []
    /// Host actions run after the files (packages, systemctl), or why they were skipped.
    package var hostActions: [String] = []

    package init(root: String) { self.root = root }

    /// Whether anything on disk changed.
    package var changedFiles: Bool { changes.contains { $0.action != .unchanged && $0.action != .kept } }

    mutating func note(_ path: String, _ action: Action, _ detail: String? = nil) {
        changes.append(Change(path: path, action: action, detail: detail))
    }
}

extension InstallPlan {
    /// Applies the plan to an image's tree: every entry gets the plan's `mtime`, owners are
    /// recorded, secrets are left as placeholders for the first-boot unit to generate.
    package func apply(to tree: inout FileTree) throws {
        var root = FileTreeRoot(tree: tree, mtime: mtime)
        var rng = SystemRandomNumberGenerator()
        _ = try apply(to: &root, generateSecrets: false, using: &rng)
        tree = root.tree
    }

    /// Applies the plan to a root, generating secrets when the plan says so.
    package func apply<R: InstallRoot>(to root: inout R) throws -> InstallReport {
        var rng = SystemRandomNumberGenerator()
        return try apply(to: &root, generateSecrets: secrets == .atInstall, using: &rng)
    }

    /// Applies every operation, then records what the install owns in the manifest. Paths
    /// already as planned are not touched (a second install changes no file); a path of the
    /// wrong kind stops the install with an error naming it.
    package func apply<R: InstallRoot, G: RandomNumberGenerator>(
        to root: inout R, generateSecrets: Bool,
        using rng: inout G
    ) throws -> InstallReport {
        var applier = PlanApplier(
            plan: self, previous: try InstallManifest.load(from: root, path: layout.manifest),
            report: InstallReport(root: root.label))
        applier.report.ownershipRecordedOnly = !root.appliesOwnership
        for op in operations {
            try applier.apply(op, to: &root, generateSecrets: generateSecrets, using: &rng)
        }
        try applier.removeStale(from: &root)
        try applier.writeManifest(to: &root)
        return applier.report
    }
}

/// The state of one `apply`: the report and the manifest entries gathered so far.
struct PlanApplier {
    let plan: InstallPlan
    let previous: InstallManifest?
    var report: InstallReport
    var entries: [String: InstallManifest.Entry] = [:]

    init(plan: InstallPlan, previous: InstallManifest?, report: InstallReport) {
        self.plan = plan
        self.previous = previous
        self.report = report
    }

    private var dataDirectories: Set<String> { [plan.layout.dataDir] }

    func wasCreated(_ path: String) -> Bool { previous?.entries.first { $0.path == path }?.created ?? false }

    func role(forDirectory path: String) -> InstallManifest.Role {
        let data = plan.layout.dataDir
        return path == data || path.hasPrefix(data + "/") ? .data : .managed
    }

    mutating func record(
        _ path: String, _ kind: InstallManifest.Kind, role: InstallManifest.Role, created: Bool,
        mode: UInt32? = nil, owner: FileOwner? = nil, sha256: String? = nil, target: String? = nil, key: String? = nil
    ) {
        var entry = entries[path] ?? InstallManifest.Entry(path: path, kind: kind, role: role, created: created || wasCreated(path))
        entry.created = entry.created || created
        entry.mode = mode.map(InstallManifest.octal)
        entry.uid = owner?.uid
        entry.gid = owner?.gid
        entry.sha256 = sha256
        entry.target = target
        if let key { entry.keys = ((entry.keys ?? []) + [key]).sorted() }
        entries[path] = entry
    }

    /// Creates missing parent directories (0755, root), recording those it creates.
    mutating func ensureParents<R: InstallRoot>(of path: String, in root: inout R) throws {
        var prefix = ""
        for component in path.split(separator: "/").dropLast() {
            prefix += "/" + component
            if let item = try root.item(at: prefix) {
                switch item.kind {
                case .directory:
                    // A parent an earlier install created stays on record as this install's own.
                    if entries[prefix] == nil, let earlier = previous?.entries.first(where: { $0.path == prefix }) {
                        entries[prefix] = earlier
                    }
                    continue
                case .symlink where !(root is FileTreeRoot):
                    continue  // a host's /lib -> usr/lib style link; HostRoot checks where it leads
                default:
                    throw InstallError.conflict(path: prefix, found: item.kindName, wanted: "directory")
                }
            }
            try root.makeDirectory(prefix, mode: 0o755, owner: .root)
            report.note(prefix, .created)
            if entries[prefix] == nil {
                record(prefix, .directory, role: role(forDirectory: prefix), created: true, mode: 0o755, owner: .root)
            }
        }
    }

    /// Mode and owner as planned; owners only where the root can apply them.
    mutating func fixAttributes<R: InstallRoot>(
        _ path: String, _ item: RootItem, mode: UInt32, owner: FileOwner,
        in root: inout R
    ) throws -> Bool {
        let ownerDiffers = root.appliesOwnership && item.owner != owner
        guard item.mode != mode || ownerDiffers else { return false }
        try root.setAttributes(path, mode: mode, owner: owner)
        return true
    }

    mutating func apply<R: InstallRoot, G: RandomNumberGenerator>(
        _ op: InstallOperation, to root: inout R, generateSecrets: Bool,
        using rng: inout G
    ) throws {
        let path = op.path
        try ensureParents(of: path, in: &root)
        let existing = try root.item(at: path)
        switch op {
        case let .makeDirectory(_, mode, owner):
            if let existing {
                guard existing.kind == .directory else { throw InstallError.conflict(path: path, found: existing.kindName, wanted: "directory") }
                report.note(path, try fixAttributes(path, existing, mode: mode, owner: owner, in: &root) ? .attributes : .unchanged)
            } else {
                try root.makeDirectory(path, mode: mode, owner: owner)
                report.note(path, .created)
            }
            record(path, .directory, role: role(forDirectory: path), created: existing == nil, mode: mode, owner: owner)

        case let .writeFile(_, contents, mode, owner, policy):
            try write(path, contents, mode: mode, owner: owner, policy: policy, existing: existing, in: &root)
            record(
                path, .file, role: .managed, created: existing == nil, mode: mode, owner: owner,
                sha256: policy == .replace ? SHA256Hex.hex(contents) : nil)

        case let .installBinary(_, source, mode):
            guard FileManager.default.isReadableFile(atPath: source.path) else { throw InstallError.missingBinary(path: source.path) }
            let digest = try SHA256Hex.file(source).hex
            if let existing {
                guard existing.kind == .file else { throw InstallError.conflict(path: path, found: existing.kindName, wanted: "file") }
                if SHA256Hex.hex(try root.contents(of: path)) == digest {
                    report.note(path, try fixAttributes(path, existing, mode: mode, owner: .root, in: &root) ? .attributes : .unchanged)
                } else {
                    try root.copyFile(path, from: source, mode: mode, owner: .root)
                    report.note(path, .updated, "from \(source.path)")
                }
            } else {
                try root.copyFile(path, from: source, mode: mode, owner: .root)
                report.note(path, .created, "from \(source.path)")
            }
            record(path, .file, role: .managed, created: existing == nil, mode: mode, owner: .root, sha256: digest)

        case let .link(_, target):
            try link(path, target: target, existing: existing, in: &root)
        case let .enableUnit(name, _):
            try link(path, target: plan.layout.unitDir + "/" + name, existing: existing, in: &root)
        case .maskUnit:
            try link(path, target: "/dev/null", existing: existing, in: &root)

        case let .generateSecrets(_, template, secrets, mode, owner):
            var current: String?
            if let existing {
                guard existing.kind == .file else { throw InstallError.conflict(path: path, found: existing.kindName, wanted: "file") }
                current = String(decoding: try root.contents(of: path), as: UTF8.self)
            }
            let seeded = EnvFile.seed(existing: current, template: template, secrets: secrets, generate: generateSecrets, using: &rng)
            report.generatedSecrets += seeded.generatedSecrets
            report.appendedEnvKeys += seeded.appendedKeys
            if current == nil {
                try root.writeFile(path, Data(seeded.text.utf8), mode: mode, owner: owner)
                report.note(
                    path, .created,
                    seeded.generatedSecrets.isEmpty ? "template (secrets at first boot)" : "\(seeded.generatedSecrets.count) secrets generated")
            } else if seeded.text != current {
                try root.writeFile(path, Data(seeded.text.utf8), mode: mode, owner: owner)
                report.note(path, .completed, "added \(seeded.appendedKeys.count) keys, generated \(seeded.generatedSecrets.count) secrets")
            } else {
                // The person's file: content left alone, but never readable by others.
                report.note(path, try fixAttributes(path, existing!, mode: mode, owner: owner, in: &root) ? .attributes : .kept)
            }
            record(path, .file, role: .config, created: existing == nil, mode: mode, owner: owner)

        case let .generateFileSecret(_, bytes, mode, owner):
            if let existing {
                guard existing.kind == .file else { throw InstallError.conflict(path: path, found: existing.kindName, wanted: "file") }
                // Never rewritten: the services' keys depend on it. Mode and owner are corrected.
                report.note(path, try fixAttributes(path, existing, mode: mode, owner: owner, in: &root) ? .attributes : .kept)
            } else if generateSecrets {
                let value = EnvFile.generateSecret(bytes: bytes, using: &rng)
                try root.writeFile(path, Data(value.utf8), mode: mode, owner: owner)
                report.generatedSecrets.append(path)
                report.note(path, .created, "\(bytes) random bytes")
            } else {
                report.note(path, .kept, "generated at first boot")
                return
            }
            record(path, .file, role: .config, created: existing == nil, mode: mode, owner: owner)

        case let .setINIValue(_, section, key, value, mode):
            var text = ""
            var fileMode = mode
            if let existing {
                guard existing.kind == .file else { throw InstallError.conflict(path: path, found: existing.kindName, wanted: "file") }
                text = String(decoding: try root.contents(of: path), as: UTF8.self)
                fileMode = existing.mode
            }
            let updated = INIFile.set(text, section: section, key: key, value: value)
            if updated != text || existing == nil {
                try root.writeFile(path, Data(updated.utf8), mode: fileMode, owner: existing?.owner ?? .root)
                report.note(path, existing == nil ? .created : .updated, "[\(section)] \(key) = \(value)")
            } else {
                report.note(path, .unchanged)
            }
            let createdNow = existing == nil
            record(
                path, .file, role: createdNow || wasCreated(path) || entries[path]?.created == true ? .managed : .edited,
                created: createdNow, mode: fileMode, owner: existing?.owner ?? .root, key: "\(section).\(key)")
        }
    }

    mutating func write<R: InstallRoot>(
        _ path: String, _ contents: Data, mode: UInt32, owner: FileOwner, policy: ReplacePolicy,
        existing: RootItem?, in root: inout R
    ) throws {
        guard let existing else {
            try root.writeFile(path, contents, mode: mode, owner: owner)
            report.note(path, .created)
            return
        }
        guard existing.kind == .file else { throw InstallError.conflict(path: path, found: existing.kindName, wanted: "file") }
        if policy == .keepExisting {
            report.note(path, .kept)
        } else if try root.contents(of: path) != contents {
            try root.writeFile(path, contents, mode: mode, owner: owner)
            report.note(path, .updated)
        } else {
            report.note(path, try fixAttributes(path, existing, mode: mode, owner: owner, in: &root) ? .attributes : .unchanged)
        }
    }

    mutating func link<R: InstallRoot>(_ path: String, target: String, existing: RootItem?, in root: inout R) throws {
        switch existing?.kind {
        case nil:
            try root.makeSymlink(path, target: target)
            report.note(path, .created, "-> \(target)")
        case let .symlink(current)?:
            if current == target {
                report.note(path, .unchanged)
            } else {
                try root.makeSymlink(path, target: target)
                report.note(path, .updated, "-> \(target)")
            }
        default:
            throw InstallError.conflict(path: path, found: existing!.kindName, wanted: "symlink")
        }
        record(path, .symlink, role: .managed, created: existing == nil, target: target)
    }

    /// Files and links an earlier install made that this one no longer has (an upgrade that
    /// dropped a helper) are removed; directories and config are left to `uninstall`.
    mutating func removeStale<R: InstallRoot>(from root: inout R) throws {
        guard let previous else { return }
        for old in previous.entries where entries[old.path] == nil && old.role == .managed && old.created && old.kind != .directory {
            guard let item = try root.item(at: old.path), item.kind != .directory else { continue }
            try root.remove(old.path)
            report.note(old.path, .removed, "no longer part of the install")
        }
    }

    mutating func writeManifest<R: InstallRoot>(to root: inout R) throws {
        let manifest = InstallManifest(
            mode: plan.mode, version: plan.version.description, channel: plan.channel,
            prefix: plan.layout.prefix, envFile: plan.layout.envFile, dataDir: plan.layout.dataDir,
            ownershipApplied: root.appliesOwnership, entries: Array(entries.values))
        let path = plan.layout.manifest
        try ensureParents(of: path, in: &root)
        try write(
            path, try manifest.encoded(), mode: 0o644, owner: .root, policy: .replace,
            existing: try root.item(at: path), in: &root)
    }
}
