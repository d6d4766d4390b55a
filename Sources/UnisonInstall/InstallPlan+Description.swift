import FoundationEssentials
import UnisonCore

extension InstallOperation {
    /// One line for `--dry-run`: verb, path, mode and owner, and what decides the content.
    package var summary: String {
        func m(_ mode: UInt32) -> String { InstallManifest.octal(mode) }
        switch self {
        case let .makeDirectory(path, mode, owner):
            return "mkdir   \(path) \(m(mode)) \(owner)"
        case let .writeFile(path, contents, mode, owner, policy):
            let digest = SHA256Hex.hex(contents).prefix(12)
            return "write   \(path) \(m(mode)) \(owner) \(contents.count) bytes sha256:\(digest)"
                + (policy == .keepExisting ? " (only if absent)" : "")
        case let .link(path, target):
            return "link    \(path) -> \(target)"
        case let .enableUnit(name, wantedBy):
            return "enable  \(name) (\(wantedBy)): link \(path) -> /etc/systemd/system/\(name)"
        case let .maskUnit(name):
            return "mask    \(name): link \(path) -> /dev/null"
        case let .generateSecrets(envFile, _, secrets, mode, owner):
            return
                "seed    \(envFile) \(m(mode)) \(owner) from the template; secrets \(secrets.map(\.name).joined(separator: ", ")); never overwritten once present"
        case let .generateFileSecret(path, bytes, mode, owner):
            return "secret  \(path) \(m(mode)) \(owner) \(bytes) random bytes; never overwritten once present"
        case let .setINIValue(path, section, key, value, _):
            return "ini     \(path) [\(section)] \(key) = \(value)"
        case let .installBinary(path, source, mode):
            return "binary  \(path) \(m(mode)) 0:0 from \(source.path)"
        }
    }
}

extension InstallPlan: CustomStringConvertible {
    /// The dry-run rendering: what would be installed, one operation a line.
    package var description: String {
        var out = "install plan: mode \(mode.rawValue), version \(version), channel \(channel), model pack \(modelPack)\n"
        out += "secrets: " + (secrets == .atInstall ? "generated at install" : "generated at first boot by \(layout.firstBootUnit)") + "\n"
        for op in operations { out += "  " + op.summary + "\n" }
        out += "  record  \(layout.manifest) (what uninstall removes)\n"
        out += "images:\n"
        for name in images.keys.sorted() { out += "  \(name): \(images[name]!)\n" }
        return out
    }

    /// `--dry-run --json`.
    package struct Rendering: Codable, Sendable {
        package var schema = "unisonctl.install-plan/v1"
        package var mode: String
        package var version: String
        package var channel: String
        package var modelPack: String
        package var secrets: String
        package var operations: [String]
        package var images: [String: String]
        package var manifest: String
    }

    package var rendering: Rendering {
        Rendering(
            mode: mode.rawValue, version: version.description, channel: channel, modelPack: modelPack,
            secrets: secrets.rawValue, operations: operations.map(\.summary), images: images, manifest: layout.manifest)
    }
}
