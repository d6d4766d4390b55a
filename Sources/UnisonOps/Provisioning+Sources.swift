import FoundationEssentials
import Glibc
import UnisonCore

/// Where answers were found. Looked for in this order, the first found wins:
///
/// 1. `unison.answers=/path` on the kernel command line (the ISO's boot entry, or a person
///    editing it at the boot menu); the path is read on the running system.
/// 2. A medium labelled `CIDATA` (cloud-init NoCloud: `user-data`, `meta-data`), mounted
///    read-only for the read; `unison-answers.yaml` on it is preferred over `user-data`.
/// 3. cloud-init's local NoCloud seed in the root (`/var/lib/cloud/seed/nocloud{,-net}/user-data`),
///    which hypervisor tooling and the ISO installer drop into a VM image.
/// 4. `/etc/unison/answers.yaml` in the root (written by the ISO installer into the installed disk).
package struct AnswersSource: Sendable, Codable, Equatable, CustomStringConvertible {
    package enum Kind: String, Sendable, Codable { case cmdline, cidata, cloudSeed = "cloud-seed", installed }
    package var kind: Kind
    /// The file read, as seen on the running system (a medium's file is named by label).
    package var path: String
    package var description: String { "\(path) (\(kind.rawValue))" }

    package init(kind: Kind, path: String) {
        self.kind = kind
        self.path = path
    }
}

/// Mounts a labelled medium read-only for the time of a read. Behind a protocol so tests hand
/// over a directory instead of a block device.
package protocol MediumMounter: Sendable {
    /// Calls `body` with the medium's root directory, or returns nil when there is no such medium.
    func withMedium<T>(label: String, _ body: (URL) throws -> T) throws -> T?
}

/// The real mounter: `/dev/disk/by-label/<label>` (either case), `mount -o ro,nosuid,nodev,noexec`
/// on a fresh directory under /run, unmounted afterwards.
package struct BlockDeviceMounter: MediumMounter {
    package var runner: any ProcessRunner
    package init(runner: any ProcessRunner = SystemProcessRunner()) { self.runner = runner }

    package func withMedium<T>(label: String, _ body: (URL) throws -> T) throws -> T? {
        let candidates = [label, label.lowercased()].map { "/dev/disk/by-label/\($0)" }
        guard let device = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else { return nil }
        let mountPoint = URL(fileURLWithPath: "/run/unison-cidata-\(getpid())")
        try FileManager.default.createDirectory(at: mountPoint, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(at: mountPoint) }
        try runner.check(["mount", "-o", "ro,nosuid,nodev,noexec", device, mountPoint.path])
        defer { _ = try? runner.run(["umount", mountPoint.path]) }
        return try body(mountPoint)
    }
}

/// A mounter that reports no medium (WSL, or a test that wants none).
package struct NoMedia: MediumMounter {
    package init() {}
    package func withMedium<T>(label: String, _ body: (URL) throws -> T) throws -> T? { nil }
}

/// Finds the answers file and returns its text with where it came from.
package struct AnswersLocator: Sendable {
    package var root: URL
    /// The kernel command line (`/proc/cmdline` on a real boot).
    package var cmdline: String?
    package var media: any MediumMounter

    package init(root: URL, cmdline: String?, media: any MediumMounter) {
        self.root = root
        self.cmdline = cmdline
        self.media = media
    }

    package static let cmdlineKey = "unison.answers"
    package static let mediumLabel = "CIDATA"
    package static let installedPath = "/etc/unison/answers.yaml"
    static let seedPaths = ["/var/lib/cloud/seed/nocloud/user-data", "/var/lib/cloud/seed/nocloud-net/user-data"]

    /// The value of `unison.answers=` on a command line (the last one wins, as the kernel's own
    /// parameters do). Only absolute paths of plain characters are taken.
    package static func cmdlinePath(_ cmdline: String) -> String? {
        let values = cmdline.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" })
            .filter { $0.hasPrefix(cmdlineKey + "=") }
            .map { String($0.dropFirst(cmdlineKey.count + 1)) }
        guard let path = values.last, path.hasPrefix("/"), !path.contains(".."),
            path.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7a) || "/._-".utf8.contains($0) })
        else { return nil }
        return path
    }

    package struct Found: Sendable {
        package var source: AnswersSource
        package var text: String

        package init(source: AnswersSource, text: String) {
            self.source = source
            self.text = text
        }
    }

    package func find() throws -> Found? {
        if let cmdline, let path = Self.cmdlinePath(cmdline) {
            // A path on the running system; under a staged root it is looked up in the root.
            let url = root.path == "/" ? URL(fileURLWithPath: path) : root.appendingPathComponent(String(path.dropFirst()))
            guard let text = try Self.read(url) else {
                throw ProvisionError.unreadable(path: path, reason: "named by \(Self.cmdlineKey)= but missing")
            }
            return Found(source: AnswersSource(kind: .cmdline, path: path), text: text)
        }
        let fromMedium: Found?? = try media.withMedium(label: Self.mediumLabel) { dir in
            for name in ["unison-answers.yaml", "user-data"] {
                if let text = try Self.read(dir.appendingPathComponent(name)) {
                    return Found(source: AnswersSource(kind: .cidata, path: "LABEL=\(Self.mediumLabel):/\(name)"), text: text)
                }
            }
            return nil
        }
        if let found = fromMedium ?? nil { return found }
        for path in Self.seedPaths {
            if let text = try Self.read(root.appendingPathComponent(String(path.dropFirst()))) {
                return Found(source: AnswersSource(kind: .cloudSeed, path: path), text: text)
            }
        }
        if let text = try Self.read(root.appendingPathComponent(String(Self.installedPath.dropFirst()))) {
            return Found(source: AnswersSource(kind: .installed, path: Self.installedPath), text: text)
        }
        return nil
    }

    /// A regular file's text, nil when absent; a size over the answers limit is an error.
    static func read(_ url: URL) throws -> String? {
        var isDir = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir), !isDir else { return nil }
        let attributes = try? FileManager.default.attributesOfItem(atPath: url.path)
        // FoundationEssentials stores the size as UInt (full Foundation had an NSNumber).
        let size = (attributes?[.size] as? UInt).map { Int(clamping: $0) } ?? 0
        guard size <= 256 * 1024 else { throw ProvisionError.unreadable(path: url.path, reason: "\(size) bytes is too large for an answers file") }
        guard let data = FileManager.default.contents(atPath: url.path), let text = String(data: data, encoding: .utf8) else {
            throw ProvisionError.unreadable(path: url.path, reason: "not readable as UTF-8 text")
        }
        return text
    }
}
