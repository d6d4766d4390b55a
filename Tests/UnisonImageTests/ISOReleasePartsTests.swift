import Foundation
import Testing
import UnisonCore
import UnisonTestSupport

@testable import UnisonImage

/// The release ISO cut into parts under the asset limit: joined again by `cat` (as the
/// REASSEMBLE text says) it is byte-identical, and `sha256sum -c` accepts the parts' lines.
@Suite("Release ISO parts", .tags(.interop))
struct ISOReleasePartsTests {
    static func iso(in scratch: ImageScratch, size: Int) throws -> URL {
        var bytes = Data(count: size)
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for i in stride(from: 0, to: size - 7, by: 8) {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            withUnsafeBytes(of: state) { bytes.replaceSubrange(i..<(i + 8), with: $0) }
        }
        let url = scratch.path("unisonos-baremetal-v0.5.0-alpha.1.iso")
        try bytes.write(to: url)
        return url
    }

    @Test func splitAndReassembleByteIdentical() throws {
        let scratch = try ImageScratch("iso-parts")
        defer { scratch.cleanup() }
        let iso = try Self.iso(in: scratch, size: (5 << 20) + 123)
        try FileManager.default.copyItem(at: iso, to: scratch.path("original.iso"))
        let result = try ISOReleaseParts.split(iso, partSize: 2 << 20)
        #expect(result.parts.map(\.name) == ["00", "01", "02"].map { "unisonos-baremetal-v0.5.0-alpha.1.iso.part\($0)" })
        #expect(result.parts.map(\.size) == [2 << 20, 2 << 20, (1 << 20) + 123])
        #expect(result.reassemble == "unisonos-baremetal-v0.5.0-alpha.1.iso.REASSEMBLE.txt")
        #expect(!FileManager.default.fileExists(atPath: iso.path))
        let names = try FileManager.default.contentsOfDirectory(atPath: scratch.url.path).sorted()
        #expect(!names.contains { $0.hasPrefix(".") })

        // Join as the text says, with the shell's cat, and compare bytes with cmp.
        let text = try String(contentsOf: scratch.path(result.reassemble!), encoding: .utf8)
        let catLine = try #require(text.split(separator: "\n").first { $0.contains("cat ") }).trimmingCharacters(in: .whitespaces)
        try ImageTool.run(["sh", "-c", catLine], cwd: scratch.url)
        try ImageTool.run(["cmp", scratch.path("original.iso").path, iso.path])
        // The checksum lines of the text check the parts; the echo line checks the whole.
        try ImageTool.run(["sh", "-c", "grep -E '^[0-9a-f]{64}  ' \(result.reassemble!) | sha256sum -c --strict -"], cwd: scratch.url)
        let echoLine = try #require(text.split(separator: "\n").first { $0.contains("sha256sum -c -") }).trimmingCharacters(in: .whitespaces)
        try ImageTool.run(["sh", "-c", echoLine], cwd: scratch.url)
        #expect(text.contains("copy /b"))
    }

    @Test func aSmallISOStaysWhole() throws {
        let scratch = try ImageScratch("iso-parts-small")
        defer { scratch.cleanup() }
        let iso = try Self.iso(in: scratch, size: 1 << 20)
        let result = try ISOReleaseParts.split(iso, partSize: 2 << 20)
        #expect(result.reassemble == nil)
        #expect(result.parts.map(\.name) == [iso.lastPathComponent])
        #expect(FileManager.default.fileExists(atPath: iso.path))
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.url.path) == [iso.lastPathComponent])
    }

    @Test func partsMustStayUnderTheAssetLimit() throws {
        let scratch = try ImageScratch("iso-parts-bad")
        defer { scratch.cleanup() }
        let iso = try Self.iso(in: scratch, size: 1 << 20)
        #expect(throws: ISOError.badSplitSize(2 << 30)) { try ISOReleaseParts.split(iso, partSize: 2 << 30) }
        #expect(throws: ISOError.badSplitSize(1000)) { try ISOReleaseParts.split(iso, partSize: 1000) }
        #expect(ISOReleaseParts.defaultPartSize < 2_147_483_648)
    }
}
