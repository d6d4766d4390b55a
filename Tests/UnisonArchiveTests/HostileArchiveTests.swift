import Foundation
import Testing
import UnisonCore
import UnisonTestSupport

@testable import UnisonArchive

/// Hand-made archives with hostile members: each is refused with the member's name, and
/// nothing appears outside the extraction root.
@Suite("hostile archives", .serialized, .tags(.interop))  // the cases share one marker directory outside the root
struct HostileArchiveTests {
    /// One raw member, built from header fields so names can be anything.
    struct Raw: Sendable {
        var name: String
        var type: Character = "0"
        var link = ""
        var body = Data()
        var pax: [(String, String)] = []
        var gnuLongName: String?
    }

    static func archive(_ members: [Raw]) -> Data {
        var out = Data()
        func block(_ h: TarHeader, _ body: Data) {
            out.append(contentsOf: h.encode())
            out.append(body)
            out.append(Data(count: TarBlock.padding(Int64(body.count))))
        }
        for m in members {
            if !m.pax.isEmpty {
                var h = TarHeader()
                h.name = Array("PaxHeaders/x".utf8)
                h.typeflag = UInt8(ascii: "x")
                let body = m.pax.flatMap { PAX.record($0.0, $0.1) }
                h.size = Int64(body.count)
                h.mode = 0o644
                block(h, Data(body))
            }
            if let long = m.gnuLongName {
                var h = TarHeader()
                h.name = Array("././@LongLink".utf8)
                h.typeflag = UInt8(ascii: "L")
                let body = Data(long.utf8) + Data([0])
                h.size = Int64(body.count)
                block(h, body)
            }
            var h = TarHeader()
            h.name = Array(m.name.utf8)
            h.typeflag = m.type.asciiValue!
            h.linkname = Array(m.link.utf8)
            h.mode = m.type == "5" ? 0o755 : 0o644
            h.size = m.type == "0" ? Int64(m.body.count) : 0
            block(h, m.type == "0" ? m.body : Data())
        }
        out.append(Data(count: 1024))
        return out
    }

    struct Case: CustomTestStringConvertible, Sendable {
        var label: String
        var members: [Raw]
        /// The member the error must name.
        var culprit: String
        var testDescription: String { label }
    }

    static let outsideMarker = "/tmp/unison-hostile-outside"

    static let cases: [Case] = [
        Case(label: "dot-dot name", members: [Raw(name: "../evil", body: Data("x".utf8))], culprit: "../evil"),
        Case(label: "dot-dot inside a name", members: [Raw(name: "a/b/../../../evil")], culprit: "a/b/../../../evil"),
        Case(label: "absolute name", members: [Raw(name: "/etc/cron.d/evil")], culprit: "/etc/cron.d/evil"),
        Case(label: "relative symlink climbing out", members: [Raw(name: "up", type: "2", link: "../../../tmp")], culprit: "up"),
        Case(
            label: "file through an absolute symlink",
            members: [
                Raw(name: "escape", type: "2", link: outsideMarker),
                Raw(name: "escape/pwned", body: Data("owned".utf8)),
            ], culprit: "escape/pwned"),
        Case(
            label: "file through a relative symlink",
            members: [
                Raw(name: "d", type: "5"),
                Raw(name: "d/l", type: "2", link: ".."),
                Raw(name: "d/l/x"),
            ], culprit: "d/l/x"),
        Case(label: "hard link climbing out", members: [Raw(name: "h", type: "1", link: "../../etc/passwd")], culprit: "h"),
        Case(label: "hard link to a missing file", members: [Raw(name: "h", type: "1", link: "etc/shadow")], culprit: "h"),
        Case(
            label: "hard link through a symlink",
            members: [
                Raw(name: "s", type: "2", link: "/etc"),
                Raw(name: "h", type: "1", link: "s/passwd"),
            ], culprit: "h"),
        Case(
            label: "PAX path overriding a harmless name",
            members: [
                Raw(name: "harmless", body: Data("x".utf8), pax: [("path", "../../pax-evil")])
            ], culprit: "../../pax-evil"),
        Case(
            label: "PAX linkpath climbing out",
            members: [
                Raw(name: "s", type: "2", link: "ok", pax: [("linkpath", "../../../../etc")])
            ], culprit: "s"),
        Case(
            label: "GNU long name climbing out",
            members: [
                Raw(name: "short", body: Data("x".utf8), gnuLongName: "../" + String(repeating: "n", count: 120))
            ], culprit: "../" + String(repeating: "n", count: 120)),
        Case(label: "file below a file", members: [Raw(name: "f", body: Data("x".utf8)), Raw(name: "f/child")], culprit: "f/child"),
        Case(label: "root replaced by a file", members: [Raw(name: "./", type: "0")], culprit: "./"),
    ]

    @Test("each hostile archive is refused, naming the member, with nothing written", arguments: cases)
    func refused(_ c: Case) throws {
        let dir = try Scratch("hostile")
        defer { dir.cleanup() }
        let outside = URL(fileURLWithPath: Self.outsideMarker)
        try? FileManager.default.removeItem(at: outside)
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: outside) }
        let archive = dir.path("hostile.tar")
        try Self.archive(c.members).write(to: archive)
        let root = dir.path("root")
        do {
            try TarArchive.extract(archive, into: root)
            Issue.record("\(c.label): the archive was accepted")
        } catch let error as TarError {
            guard case .hostile = error else { Issue.record("\(c.label): wrong error \(error)"); return }
            #expect(error.member == c.culprit)
            #expect(error.description.contains(c.culprit))
            #expect(error.exitStatus == .badInput)
        }
        // Nothing was created: no root, nothing in the marker directory, nothing beside the archive.
        #expect(!FileManager.default.fileExists(atPath: root.path))
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside.path).isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.url.path) == ["hostile.tar"])
        #expect(!FileManager.default.fileExists(atPath: dir.url.deletingLastPathComponent().appendingPathComponent("evil").path))
    }

    @Test("absolute names are accepted for a rootfs when asked, and land inside the root")
    func absoluteWhenRooted() throws {
        let dir = try Scratch("rooted")
        defer { dir.cleanup() }
        let archive = dir.path("rootfs.tar")
        try Self.archive([
            Raw(name: "/etc/hostname", body: Data("box\n".utf8)),
            Raw(name: "/etc/alt", type: "2", link: "/usr/bin/python3"),
        ]).write(to: archive)
        let root = dir.path("root")
        try TarArchive.extract(archive, into: root, read: .init(allowAbsoluteNames: true))
        #expect(try String(contentsOf: root.appendingPathComponent("etc/hostname"), encoding: .utf8) == "box\n")
        // The absolute symlink is kept as written, and was not followed.
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: root.appendingPathComponent("etc/alt").path) == "/usr/bin/python3")
    }

    @Test("a truncated archive names the member that was cut")
    func truncated() throws {
        let dir = try Scratch("trunc")
        defer { dir.cleanup() }
        var data = Self.archive([Raw(name: "ok", body: Data("fine".utf8)), Raw(name: "cut", body: pseudoRandomBytes(5000, seed: 1))])
        data = data.prefix(512 * 2 + 512 + 2048)
        let archive = dir.path("cut.tar")
        try data.write(to: archive)
        #expect { try FileTree(tarball: archive) } throws: { error in
            guard let e = error as? TarError, case .truncated = e else { return false }
            return e.member == "cut"
        }
        // The same through a compressed stream (no seeking).
        try Tool.shell("gzip -c < '\(archive.path)' > '\(archive.path).gz'")
        #expect { try FileTree(tarball: dir.path("cut.tar.gz")) } throws: { error in
            (error as? TarError)?.member == "cut"
        }
    }

    @Test("a corrupted header is reported with its offset")
    func badChecksum() throws {
        let dir = try Scratch("cksum")
        defer { dir.cleanup() }
        var data = Self.archive([Raw(name: "first", body: Data("1".utf8)), Raw(name: "second", body: Data("2".utf8))])
        data[1024 + 10] ^= 0x20  // inside the second header's name
        let archive = dir.path("bad.tar")
        try data.write(to: archive)
        #expect { try FileTree(tarball: archive) } throws: { error in
            guard case let .badHeader(_, offset, detail)? = error as? TarError else { return false }
            return offset == 1024 && detail.contains("checksum")
        }
    }

    @Test("unsupported member types are refused by name")
    func unsupportedType() throws {
        let dir = try Scratch("sparse")
        defer { dir.cleanup() }
        let archive = dir.path("sparse.tar")
        try Self.archive([Raw(name: "holes", type: "S")]).write(to: archive)
        #expect { try FileTree(tarball: archive) } throws: { error in
            guard case let .unsupportedType(_, member, _, flag)? = error as? TarError else { return false }
            return member == "holes" && flag == "S"
        }
    }
}
