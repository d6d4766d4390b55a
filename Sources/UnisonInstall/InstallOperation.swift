import FoundationEssentials
import UnisonSpec

/// A numeric owner (names are not resolvable inside an image being built).
package struct FileOwner: Sendable, Equatable, Hashable, Codable, CustomStringConvertible {
    package var uid: UInt32
    package var gid: UInt32
    package init(uid: UInt32, gid: UInt32) { self.uid = uid; self.gid = gid }
    package static let root = FileOwner(uid: 0, gid: 0)
    package var description: String { "\(uid):\(gid)" }
}

/// What happens when a file the plan writes is already there.
package enum ReplacePolicy: String, Sendable, Codable {
    /// The file belongs to the install: its content is replaced when it differs.
    case replace
    /// Written only when absent; afterwards it belongs to the person who edits it.
    case keepExisting = "keep-existing"
}

/// One plain step of an install. Paths are absolute as seen on the installed system; a root
/// (`HostRoot`, `FileTreeRoot`) maps them to where they really go.
package enum InstallOperation: Sendable, Equatable {
    case makeDirectory(path: String, mode: UInt32, owner: FileOwner)
    case writeFile(path: String, contents: Data, mode: UInt32, owner: FileOwner, policy: ReplacePolicy)
    /// A symbolic link at `path` pointing to `target`.
    case link(path: String, target: String)
    /// `systemctl enable` without systemd: the `<target>.wants/<unit>` link in `/etc/systemd/system`.
    case enableUnit(name: String, wantedBy: String)
    /// `systemctl mask` without systemd: `/etc/systemd/system/<unit>` linked to `/dev/null`.
    case maskUnit(name: String)
    /// The env file seeded from `template`: created with `secrets` freshly generated (or, when
    /// seeding is deferred to first boot, holding the template's placeholders); once it exists
    /// it is never rewritten, only completed with keys a newer template adds.
    case generateSecrets(envFile: String, template: String, secrets: [Secret], mode: UInt32, owner: FileOwner)
    /// A file secret: `bytes` random bytes, hex, written with its final mode and owner when the
    /// file is absent (at install, or at first boot for images); an existing file is never
    /// rewritten, only its mode and owner corrected.
    case generateFileSecret(path: String, bytes: Int, mode: UInt32, owner: FileOwner)
    /// One `key = value` line in an INI `[section]` (e.g. `/etc/wsl.conf`), leaving the rest of the file alone.
    case setINIValue(path: String, section: String, key: String, value: String, mode: UInt32)
    /// An executable copied from the build host (the `unisonctl` binary).
    case installBinary(path: String, source: URL, mode: UInt32)

    /// The path the operation creates or changes.
    package var path: String {
        switch self {
        case let .makeDirectory(path, _, _), let .writeFile(path, _, _, _, _), let .link(path, _),
            let .setINIValue(path, _, _, _, _), let .installBinary(path, _, _):
            return path
        case let .enableUnit(name, wantedBy): return "/etc/systemd/system/\(wantedBy).wants/\(name)"
        case let .maskUnit(name): return "/etc/systemd/system/\(name)"
        case let .generateSecrets(envFile, _, _, _, _): return envFile
        case let .generateFileSecret(path, _, _, _): return path
        }
    }
}
