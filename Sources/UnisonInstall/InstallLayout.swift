import UnisonSpec

/// Where an install puts things, all derived from the spec's `installer` section.
public struct InstallLayout: Sendable, Equatable {
    public var prefix: String
    public var envFile: String
    public var dataDir: String
    public var unit: String
    public var firstBootUnit: String
    public var composeProject: String

    public init(spec: PlatformSpec) {
        let i = spec.installer
        prefix = i.prefix
        envFile = i.envFile
        dataDir = i.dataDir
        unit = i.unit
        firstBootUnit = i.firstBootUnit
        composeProject = i.composeProject
    }

    public var composeFile: String { prefix + "/compose.yaml" }
    public var envTemplate: String { prefix + "/platform.env.template" }
    public var specCopy: String { prefix + "/unison.yaml" }
    public var releaseRecord: String { prefix + "/release.json" }
    public var binDir: String { prefix + "/bin" }
    public var envScript: String { binDir + "/unison-env" }
    public var composeScript: String { binDir + "/unison-compose" }
    /// A staged update's compose override (`unisonctl stage-update`; unison-platform's
    /// unisonctl uses the same path): every compose command adds it after the compose file.
    public var stagedOverride: String { prefix + "/staged/compose.next-boot.override.yaml" }
    public var firstBootScript: String { binDir + "/unison-firstboot" }
    public var wslBootScript: String { binDir + "/unison-wsl-boot" }
    public var unitDir: String { "/etc/systemd/system" }
    public var unitPath: String { unitDir + "/" + unit }
    public var firstBootUnitPath: String { unitDir + "/" + firstBootUnit }
    /// Written once first boot has seeded and checked the install.
    public var firstBootStamp: String { dataDir + "/.firstboot-done" }
    /// What the install wrote, so `uninstall` removes exactly that.
    public var manifest: String { dataDir + "/install-manifest.json" }
    public var binary: String { "/usr/local/bin/unisonctl" }
    public var wslConf: String { "/etc/wsl.conf" }

    /// The directory holding `path` (`/` for top-level entries).
    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
        return String(path[..<slash])
    }
}
