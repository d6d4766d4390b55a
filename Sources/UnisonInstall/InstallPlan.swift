import FoundationEssentials
import UnisonCore
import UnisonRelease
import UnisonSpec

/// An install as a list of plain operations, made from the spec and the options alone (no
/// I/O besides reading the release manifest). The same plan is printed by `--dry-run`,
/// applied to a host root (`HostRoot`) and applied to an image's `FileTree`.
package struct InstallPlan: Sendable {
    package var operations: [InstallOperation]
    package var layout: InstallLayout
    package var mode: InstallMode
    /// The version images are pinned to, and the channel the install follows.
    package var version: SemVer
    package var channel: String
    package var modelPack: String
    /// `service -> image reference` as written into the compose file.
    package var images: [String: String]
    package var secrets: SecretSeeding
    package var mtime: Int64

    package init(
        operations: [InstallOperation], layout: InstallLayout, mode: InstallMode, version: SemVer, channel: String,
        modelPack: String, images: [String: String], secrets: SecretSeeding, mtime: Int64
    ) {
        self.operations = operations
        self.layout = layout
        self.mode = mode
        self.version = version
        self.channel = channel
        self.modelPack = modelPack
        self.images = images
        self.secrets = secrets
        self.mtime = mtime
    }

    package static func make(spec: PlatformSpec, options: InstallOptions) throws -> InstallPlan {
        let layout = InstallLayout(spec: spec)
        let channel = options.channel ?? "stable"
        guard spec.channel(named: channel) != nil else {
            throw InstallError.unknownChannel(channel, known: spec.channels.map(\.name))
        }
        let defaultPack = spec.installer.env["UNISON_MODEL_PACK"] ?? spec.models.packs.first?.name ?? "light"
        let pack = options.modelPack ?? defaultPack
        guard spec.modelPack(named: pack) != nil else {
            throw InstallError.unknownModelPack(pack, known: spec.models.packs.map(\.name))
        }
        let pins = try options.releaseManifest.map(ReleasePins.load)
        let version = options.version ?? pins?.version ?? spec.platform.version
        let images = try ImagePinning.references(spec: spec, version: options.version, channel: channel, pins: pins)
        for path in [layout.prefix, layout.envFile, layout.dataDir] {
            try checkPath(path)
        }
        if let binary = options.unisonctlBinary, !FileManager.default.isReadableFile(atPath: binary.path) {
            throw InstallError.missingBinary(path: binary.path)
        }

        var ops: [InstallOperation] = []
        let root = FileOwner.root
        func dir(_ path: String, _ mode: UInt32 = 0o755) { ops.append(.makeDirectory(path: path, mode: mode, owner: root)) }
        func file(_ path: String, _ text: String, _ mode: UInt32 = 0o644) {
            ops.append(.writeFile(path: path, contents: Data(text.utf8), mode: mode, owner: root, policy: .replace))
        }

        // The bundle: compose file, env template, helpers, the spec and what was installed.
        dir(layout.prefix)
        dir(layout.binDir)
        file(layout.composeFile, ComposeBundle.render(spec: spec, images: images, layout: layout))
        let ollama = options.ollama ?? (options.secrets == .atFirstBoot ? .container : spec.installer.ollama)
        let template = EnvFile.template(spec: spec, modelPack: pack, ollama: ollama)
        file(layout.envTemplate, template)
        file(layout.envScript, HostScripts.envScript(spec: spec, layout: layout), 0o755)
        file(layout.composeScript, HostScripts.composeScript(layout: layout), 0o755)
        file(
            layout.firstBootScript,
            HostScripts.firstBootScript(
                spec: spec, layout: layout, version: version.description,
                modelPack: pack), 0o755)
        if let specText = options.specText { file(layout.specCopy, specText) }
        file(
            layout.releaseRecord,
            try InstalledRelease(
                mode: options.mode, version: version, channel: channel, modelPack: pack,
                images: images, pinnedByManifest: pins != nil
            ).json())

        // Settings and data.
        dir(InstallLayout.parent(of: layout.envFile))
        ops.append(
            .generateSecrets(
                envFile: layout.envFile, template: template, secrets: spec.installer.secrets,
                mode: 0o600, owner: root))
        dir(layout.dataDir)
        // File secrets: the keys directory, then each secret the services mount.
        try checkPath(spec.installer.keysDir)
        dir(spec.installer.keysDir, 0o700)
        let mounted = Set(spec.allServices.flatMap(\.secrets))
        for secret in spec.installer.fileSecrets where mounted.contains(secret.name) {
            ops.append(
                .generateFileSecret(
                    path: spec.installer.path(of: secret), bytes: secret.bytes, mode: secret.mode,
                    owner: FileOwner(uid: secret.uid, gid: secret.gid)))
        }
        for volume in ComposeBundle.hostVolumeDirectories(spec: spec) where volume != layout.dataDir {
            try checkPath(volume)
            dir(volume)
        }

        // Units, enabled the way `systemctl enable` would.
        dir(layout.unitDir)
        file(layout.unitPath, SystemdUnits.platformUnit(spec: spec, layout: layout))
        file(layout.firstBootUnitPath, SystemdUnits.firstBootUnit(spec: spec, layout: layout))
        ops.append(.enableUnit(name: layout.unit, wantedBy: "multi-user.target"))
        ops.append(.enableUnit(name: layout.firstBootUnit, wantedBy: "multi-user.target"))

        if options.mode == .wsl {
            file(layout.wslBootScript, HostScripts.wslBootScript(layout: layout), 0o755)
            ops.append(.setINIValue(path: layout.wslConf, section: "boot", key: "systemd", value: "true", mode: 0o644))
            ops.append(.setINIValue(path: layout.wslConf, section: "boot", key: "command", value: layout.wslBootScript, mode: 0o644))
        }
        if let binary = options.unisonctlBinary {
            ops.append(.installBinary(path: layout.binary, source: binary, mode: 0o755))
        }
        return InstallPlan(
            operations: ops, layout: layout, mode: options.mode, version: version, channel: channel,
            modelPack: pack, images: images, secrets: options.secrets, mtime: options.mtime)
    }

    /// Paths from the spec must be absolute and normalized: they are joined to install roots.
    static func checkPath(_ path: String) throws {
        guard path.hasPrefix("/"), path.count > 1 else { throw InstallError.badPath(path) }
        for part in path.split(separator: "/", omittingEmptySubsequences: false).dropFirst() {
            if part.isEmpty || part == "." || part == ".." { throw InstallError.badPath(path) }
        }
    }
}

/// `<prefix>/release.json`: what this install runs, for `status`, upgrades and support.
package struct InstalledRelease: Codable, Sendable, Equatable {
    package var schema = "unisonctl.installed-release/v1"
    package var mode: InstallMode
    package var version: String
    package var channel: String
    package var modelPack: String
    package var images: [String: String]
    package var pinnedByManifest: Bool

    package init(mode: InstallMode, version: SemVer, channel: String, modelPack: String, images: [String: String], pinnedByManifest: Bool) {
        self.mode = mode
        self.version = version.description
        self.channel = channel
        self.modelPack = modelPack
        self.images = images
        self.pinnedByManifest = pinnedByManifest
    }

    func json() throws -> String { try JSONOutput.string(self) + "\n" }
}
