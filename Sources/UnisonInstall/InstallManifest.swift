import FoundationEssentials
import UnisonCore
import UnisonRelease

/// What an install put on a system (`<dataDir>/install-manifest.json`), so that `uninstall`
/// removes exactly that. Deterministic: no timestamps, entries sorted by path, so a repeated
/// install writes identical bytes and leaves the file untouched.
package struct InstallManifest: Codable, Sendable, Equatable {
    package static let schemaID = "unisonctl.install-manifest/v1"

    package enum Role: String, Codable, Sendable {
        /// Belongs to the install: replaced on install, removed on uninstall.
        case managed
        /// The env file: kept on uninstall unless `--purge`.
        case config
        /// Data directories: kept on uninstall unless `--purge`.
        case data
        /// A file of the system the install only added lines to (`/etc/wsl.conf`).
        case edited
    }

    package enum Kind: String, Codable, Sendable { case directory, file, symlink }

    package struct Entry: Codable, Sendable, Equatable {
        package var path: String
        package var kind: Kind
        package var role: Role
        /// True when this install (or an earlier one) created it; false when it was there before.
        package var created: Bool
        /// Octal permission bits, e.g. "0644" (symlinks: none).
        package var mode: String?
        package var uid: UInt32?
        package var gid: UInt32?
        /// Content digest of managed files.
        package var sha256: String?
        /// Symlink target.
        package var target: String?
        /// INI keys set in an edited file (`boot.systemd`).
        package var keys: [String]?
    }

    package var schema = InstallManifest.schemaID
    package var tool = "unisonctl"
    /// The unisonctl version that wrote the install (absent in manifests of older versions).
    package var toolVersion: String? = ToolVersion.current
    package var mode: InstallMode
    package var version: String
    package var channel: String
    package var prefix: String
    package var envFile: String
    package var dataDir: String
    /// False when ownership could not be applied (rootless `--root`): `uid`/`gid` are what the
    /// installed system should have.
    package var ownershipApplied: Bool
    package var entries: [Entry]

    package static func load(from root: some InstallRoot, path: String) throws -> InstallManifest? {
        guard let item = try root.item(at: path) else { return nil }
        guard item.kind == .file else { throw InstallError.badInstallManifest(path: path, reason: "not a regular file") }
        let data = try root.contents(of: path)
        do {
            let manifest = try JSONDecoder().decode(InstallManifest.self, from: data)
            guard manifest.schema == schemaID else {
                throw InstallError.badInstallManifest(path: path, reason: "schema '\(manifest.schema)', expected '\(schemaID)'")
            }
            return manifest
        } catch let error as InstallError {
            throw error
        } catch {
            throw InstallError.badInstallManifest(path: path, reason: ReleasePins.describe(error))
        }
    }

    package func encoded() throws -> Data {
        var copy = self
        copy.entries.sort { Array($0.path.utf8).lexicographicallyPrecedes(Array($1.path.utf8)) }
        return Data((try JSONOutput.string(copy) + "\n").utf8)
    }

    static func octal(_ mode: UInt32) -> String { String(mode, radix: 8).leftPadded(to: 4) }
}
