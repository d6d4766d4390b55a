import FoundationEssentials
import UnisonCore

/// The platform's image targets as its release strategy names them (unison-platform
/// `docs/release-strategy.md`, `.github/workflows/release.yml`): a per-target release is the
/// git tag `vX.Y.Z-<suffix>`; `latest-<rolling>` is force-moved to the newest one.
package enum ReleaseTarget: String, Sendable, Codable, CaseIterable {
    case wsl2
    case linuxVM = "linux-vm"
    case bareMetal = "bare-metal"

    /// The tag suffix the release workflow writes (`-wsl2`, `-linux-vm`, `-bare-metal`).
    package var suffix: String { rawValue }

    /// Suffixes the real release workflow accepts for this target.
    package var aliases: [String] {
        switch self {
        case .wsl2: return ["wsl", "wsl2"]
        case .linuxVM: return ["vm", "linux-vm"]
        case .bareMetal: return ["metal", "bare-metal", "baremetal"]
        }
    }

    /// The rolling git tag (`latest-wsl`, `latest-linux-vm`, `latest-bare-metal`).
    package var rollingTag: String {
        switch self {
        case .wsl2: return "latest-wsl"
        case .linuxVM: return "latest-linux-vm"
        case .bareMetal: return "latest-bare-metal"
        }
    }

    /// The spec's `targets:` key this release target is built from.
    package var specTarget: String {
        switch self {
        case .wsl2: return "wsl"
        case .linuxVM: return "vm"
        case .bareMetal: return "iso"
        }
    }

    /// The release asset names for `version` (`v0.5.0`), as the release strategy lists them.
    /// The ISO is split into `.partNN` files plus `.REASSEMBLE.txt` when it is 2 GiB or more.
    package func artifactNames(version: String) -> [String] {
        switch self {
        case .wsl2: return ["unisonos-wsl2-\(version).tar.gz", "unisonos-wsl2-\(version).wsl"]
        case .linuxVM: return ["unisonos-linux-vm-\(version).qcow2", "unisonos-linux-vm-\(version).vmdk"]
        case .bareMetal: return ["unisonos-baremetal-\(version).iso"]
        }
    }

    /// `v0.5.0-wsl2` → (`v0.5.0`, .wsl2); a tag without a target suffix is returned as is.
    /// Alpha tags are one bundle carrying every target (the release workflow checks for
    /// `-alpha.` first), so `v0.5.0-alpha.1` never splits.
    package static func split(_ tag: String) -> (version: String, target: ReleaseTarget?) {
        guard !tag.contains("-alpha.") else { return (tag, nil) }
        // `-linux-vm` and `-bare-metal` contain a dash themselves.
        for target in allCases {
            for alias in target.aliases.sorted(by: { $0.count > $1.count }) where tag.hasSuffix("-" + alias) {
                let base = String(tag.dropLast(alias.count + 1))
                if !base.isEmpty { return (base, target) }
            }
        }
        return (tag, nil)
    }
}

/// The git tags a platform release creates or moves.
package struct TargetTagPlan: Sendable, Equatable, Codable {
    package var schema = "unisonctl.release-targets/v1"
    package var version: String
    package var channel: String?
    /// Alpha: one immutable tag, the bundle of every target.
    package var bundle: Bool
    package struct Entry: Sendable, Equatable, Codable {
        package var target: String
        /// `v0.5.0-wsl2`: immutable.
        package var tag: String
        /// `latest-wsl`, moved to `tag`; nil for a pre-release (a pre-release is never latest).
        package var rolling: String?
        package var assets: [String]
    }
    package var targets: [Entry]

    /// Per-target tags for `version` on `channel`: none for an alpha (its single tag is the
    /// bundle), rolling tags only for a release that is not a pre-release.
    package static func plan(version: String, channel: String?) -> TargetTagPlan {
        let pre = SemVer(version)?.isPrerelease ?? true
        if channel == "alpha" || version.contains("-alpha.") {
            return TargetTagPlan(
                version: version, channel: channel, bundle: true,
                targets: ReleaseTarget.allCases.map {
                    Entry(target: $0.rawValue, tag: version, rolling: nil, assets: $0.artifactNames(version: version))
                })
        }
        return TargetTagPlan(
            version: version, channel: channel, bundle: false,
            targets: ReleaseTarget.allCases.map {
                Entry(
                    target: $0.rawValue, tag: "\(version)-\($0.suffix)", rolling: pre ? nil : $0.rollingTag,
                    assets: $0.artifactNames(version: version))
            })
    }
}
