import Foundation
import Testing
import UnisonCore
import UnisonTestSupport

@testable import UnisonArchive

/// Sizes read from an archive are checked before any arithmetic: PAX `size` records that are
/// negative, 2^63-1 or beyond Int64, and header sizes above the member limit, are refused with
/// the member's name and offset instead of trapping.
@Suite("tar sizes from hostile input", .tags(.unit))
struct TarSizeTests {
    static func members(_ raws: [HostileArchiveTests.Raw]) -> Data { HostileArchiveTests.archive(raws) }

    /// Every member of `data`, read as `TarArchive.extract` and `FileTree(tarball:)` do.
    static func readAll(_ data: Data) throws -> Int {
        let reader = TarReader(source: DataSource(data), archiveName: "fuzz.tar")
        var n = 0
        while let member = try reader.next() {
            if member.kind == .regular { _ = try reader.readContent(member: member) }
            n += 1
        }
        return n
    }

    @Test(
        "a PAX size outside 0...2^50 is refused with the member's name",
        arguments: [
            "-1", "-9223372036854775808", "9223372036854775807", "9223372036854775808", "99999999999999999999999",
            "1125899906842625", "0x10", "",
        ])
    func paxSize(_ size: String) throws {
        let data = Self.members([HostileArchiveTests.Raw(name: "victim", body: Data("x".utf8), pax: [("size", size)])])
        #expect(throws: TarError.self) { try Self.readAll(data) }
        do {
            _ = try Self.readAll(data)
        } catch let error as TarError {
            guard case let .badPAX(_, member, _, detail) = error else { Issue.record("wrong error \(error)"); return }
            #expect(member == "victim")
            #expect(detail.contains("size"), "\(detail)")
            #expect(error.exitStatus == .badInput)
        }
        // Through the file-based reader and extraction as well, leaving nothing behind.
        let dir = try Scratch("paxsize")
        defer { dir.cleanup() }
        try data.write(to: dir.path("a.tar"))
        #expect(throws: TarError.self) { try TarArchive.extract(dir.path("a.tar"), into: dir.path("root")) }
        #expect(!FileManager.default.fileExists(atPath: dir.path("root").path))
        #expect(throws: TarError.self) { _ = try FileTree(tarball: dir.path("a.tar")) }
    }

    @Test("a base-256 header size of 2^63-1 is refused, not trapped on")
    func headerSize() throws {
        var block = [UInt8](TarHeader().encode())
        Array("big".utf8).enumerated().forEach { block[$0.offset] = $0.element }
        block[156] = UInt8(ascii: "0")
        // size field (offset 124, 12 bytes): GNU base-256, 0x80 then 0x7fff…ff.
        block[124] = 0x80
        for i in 125..<128 { block[i] = 0 }
        block[128] = 0x7f
        for i in 129..<136 { block[i] = 0xff }
        for i in 148..<156 { block[i] = UInt8(ascii: " ") }
        let sum = block.reduce(0) { $0 + Int($1) }
        let octal = Array(String(sum, radix: 8).utf8)
        for i in 0..<6 { block[148 + i] = UInt8(ascii: "0") }
        for (i, c) in octal.reversed().enumerated() { block[153 - i] = c }
        block[154] = 0
        let data = Data(block) + Data(count: 1024)
        do {
            _ = try Self.readAll(data)
            Issue.record("accepted")
        } catch let error as TarError {
            #expect("\(error)".contains("big"), "\(error)")
        }
    }

    @Test("randomly mutated archives give a TarError or a tree, never a crash (bounded: 600 mutants)")
    func fuzz() throws {
        let base = Self.members([
            HostileArchiveTests.Raw(name: "dir", type: "5"),
            HostileArchiveTests.Raw(
                name: "dir/file", body: pseudoRandomBytes(700, seed: 3), pax: [("path", "dir/file"), ("size", "700"), ("mtime", "1.5")]),
            HostileArchiveTests.Raw(name: "link", type: "2", link: "dir/file"),
            HostileArchiveTests.Raw(name: "long", body: Data("y".utf8), gnuLongName: "dir/" + String(repeating: "l", count: 140)),
        ])
        #expect(try Self.readAll(base) == 4)
        var rng = SplitMix(seed: 0x7a11)
        let interesting: [[UInt8]] = [
            Array("-1".utf8), Array("9223372036854775807".utf8), Array("99999999999999999999".utf8),
            [0x80, 0xff, 0xff, 0xff], [0xff, 0xff, 0xff, 0xff], Array("777777777777".utf8), [0],
        ]
        for _ in 0..<600 {
            var bytes = [UInt8](base)
            for _ in 0..<(1 + Int(rng.next() % 6)) {
                let at = Int(rng.next() % UInt64(bytes.count))
                switch rng.next() % 4 {
                case 0: bytes[at] = UInt8(truncatingIfNeeded: rng.next())
                case 1:
                    let chunk = interesting[Int(rng.next() % UInt64(interesting.count))]
                    for (i, b) in chunk.enumerated() where at + i < bytes.count { bytes[at + i] = b }
                case 2: bytes.removeSubrange(at..<min(bytes.count, at + Int(rng.next() % 600)))
                default: bytes[at] ^= 1 << (rng.next() % 8)
                }
                if bytes.isEmpty { bytes = [0] }
            }
            do { _ = try Self.readAll(Data(bytes)) } catch is TarError {} catch {
                Issue.record("not a TarError: \(error)")
            }
        }
    }
}

/// SplitMix64: a seeded generator, so the mutants are the same on every run.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
