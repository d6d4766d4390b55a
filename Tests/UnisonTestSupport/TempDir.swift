import Foundation

/// A fresh directory under the system's temporary directory, removed when the value goes away.
package final class TempDir: Sendable {
    package let url: URL

    package init(_ label: String = "test") throws {
        url = try TempDir.create(label)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    package func path(_ name: String) -> URL { url.appendingPathComponent(name) }

    /// Makes a fresh directory named after `label` under `parent` (the system's temporary
    /// directory by default); the caller removes it.
    package static func create(_ label: String, in parent: URL = FileManager.default.temporaryDirectory) throws -> URL {
        let dir = parent.appendingPathComponent("unison-\(label)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }
}

/// A fresh directory under /tmp (short paths for sockets and QEMU arguments, whatever TMPDIR
/// says), removed by `cleanup()` so that a test decides when.
package struct Scratch: Sendable {
    package let url: URL

    package init(_ label: String = "test") throws {
        url = try TempDir.create(label, in: URL(fileURLWithPath: "/tmp"))
    }

    package func path(_ name: String) -> URL { url.appendingPathComponent(name) }

    package func cleanup() { try? FileManager.default.removeItem(at: url) }
}
