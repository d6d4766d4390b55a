import UnisonSpec

/// Where an install puts things, all derived from the spec's `installer` section.
package struct InstallLayout: Sendable, Equatable {
    package var prefix: String
    package var envFile: String
    package var dataDir: String
    package var unit: String
    package var firstBootUnit: String
    package var composeProject: String

    package init(spec: PlatformSpec) {
        let i = spec.installer
        prefix = i.prefix
        envFile = i.envFile
        dataDir = i.dataDir
        unit = i.unit
        firstBootUnit = i.firstBootUnit
        composeProject = i.composeProject
    }

    package var composeFile: String { prefix + "/compose.yaml" }
    package var envTemplate: String { prefix + "/platform.env.template" }
    package var specCopy: String { prefix + "/unison.yaml" }
    package var releaseRecord: String { prefix + "/release.json" }
    package var binDir: String { prefix + "/bin" }
    package var envScript: String { binDir + "/unison-env" }
    package var composeScript: String { binDir + "/unison-compose" }
    /// A staged update's compose override (`unisonctl stage-update`; unison-platform's
    /// unisonctl uses the same path): every compose command adds it after the compose file.
    package var stagedOverride: String { prefix + "/staged/compose.next-boot.override.yaml" }
    package var firstBootScript: String { binDir + "/unison-firstboot" }
    package var wslBootScript: String { binDir + "/unison-wsl-boot" }
    package var unitDir: String { "/etc/systemd/system" }
    package var unitPath: String { unitDir + "/" + unit }
    package var firstBootUnitPath: String { unitDir + "/" + firstBootUnit }
    /// Written once first boot has seeded and checked the install.
    package var firstBootStamp: String { dataDir + "/.firstboot-done" }
    /// What the install wrote, so `uninstall` removes exactly that.
    package var manifest: String { dataDir + "/install-manifest.json" }
    package var binary: String { "/usr/local/bin/unisonctl" }
    package var wslConf: String { "/etc/wsl.conf" }

    /// The directory holding `path` (`/` for top-level entries).
    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
        return String(path[..<slash])
    }
}
