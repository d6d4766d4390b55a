import Foundation
import Testing
import UnisonTestSupport

@testable import UnisonCore

/// Secret files exist with their final mode from the first byte, and temporary names are
/// registered for removal on a signal.
@Suite("atomic files and temporary paths", .tags(.unit))
struct AtomicSecretFileTests {
    static func scratch() throws -> URL { try TempDir.create("atomic") }

    static func mode(_ path: String) -> UInt32? {
        var st = stat()
        return lstat(path, &st) == 0 ? UInt32(st.st_mode) & 0o7777 : nil
    }

    @Test("a 0600 file already exists with mode 0600 when the writer starts, and keeps it")
    func secretModeFromTheStart() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let final = dir.appendingPathComponent("bundle.tar.gz")
        var seen: UInt32?
        try AtomicFile.write(to: final, permissions: 0o600) { tmp in
            seen = Self.mode(tmp.path)
            #expect(TempPaths.registered.contains(tmp.path))
            let handle = try FileHandle(forWritingTo: tmp)
            try handle.write(contentsOf: Data("secret".utf8))
            try handle.close()
        }
        #expect(seen == 0o600)
        #expect(Self.mode(final.path) == 0o600)
        try AtomicFile.write(Data("env".utf8), to: dir.appendingPathComponent("platform.env"), permissions: 0o600)
        #expect(Self.mode(dir.appendingPathComponent("platform.env").path) == 0o600)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["bundle.tar.gz", "platform.env"])
        #expect(!TempPaths.registered.contains { $0.hasPrefix(dir.path) })
    }

    @Test("the temporary file is created exclusively: a symlink planted at its name is not followed")
    func noFollow() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let target = dir.appendingPathComponent("target")
        let link = dir.appendingPathComponent("link")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: target)
        #expect(throws: (any Error).self) { _ = try AtomicFile.createExclusive(link, mode: 0o600, exactMode: true) }
        #expect(!FileManager.default.fileExists(atPath: target.path))
    }

    @Test("work directories are private and registered until removed")
    func workDirectory() throws {
        // (Removal on a signal is tested end to end by SignalCleanupTests: removeAll here would
        // also take temporary files of tests running beside this one.)
        let work = try TempPaths.makeDirectory(prefix: "unisonctl-test")
        defer { try? FileManager.default.removeItem(at: work); TempPaths.unregister(work) }
        #expect(Self.mode(work.path) == 0o700)
        #expect(TempPaths.registered.contains(work.path))
        TempPaths.unregister(work)
        #expect(!TempPaths.registered.contains(work.path))
    }
}
