import Foundation
import Testing
import UnisonTestSupport

@testable import UnisonArchive

/// Unit tier: header fields at their offsets, PAX records, name splitting, tree rules.
@Suite("tar format", .tags(.interop))
struct TarFormatTests {
    @Test("a header decodes to what was encoded, and its checksum is GNU-style")
    func headerRoundTrip() throws {
        var h = TarHeader()
        h.name = Array("etc/passwd".utf8)
        h.mode = 0o4755
        h.uid = 2_097_151
        h.gid = 1000
        h.size = 8_589_934_591
        h.mtime = 1_700_000_000
        h.typeflag = UInt8(ascii: "0")
        h.linkname = Array("target".utf8)
        h.devmajor = 8
        h.devminor = 1
        h.prefix = Array("some/prefix".utf8)
        let block = h.encode()
        #expect(block.count == 512)
        #expect(Array(block[257..<263]) == Array("ustar\0".utf8))
        #expect(Array(block[100..<108]) == Array("0004755\0".utf8))
        #expect(Array(block[124..<136]) == Array("77777777777\0".utf8))
        #expect(block[154] == 0 && block[155] == UInt8(ascii: " "))
        let back = try block.withUnsafeBytes { try TarHeader.decode($0) }
        #expect(back == h)
    }

    @Test(
        "GNU base-256 numbers are read",
        arguments: [
            ([UInt8](repeating: 0, count: 11) + [0x2a], Int64(42)),
            ([0x80] + [UInt8](repeating: 0, count: 6) + [0x02, 0x00, 0x00, 0x00, 0x00], Int64(8_589_934_592)),
            ([0xff] + [UInt8](repeating: 0xff, count: 11), Int64(-1)),
        ])
    func base256(_ field: [UInt8], _ value: Int64) throws {
        var block = TarHeader().encode()
        var f = field
        if f[0] & 0x80 == 0 { f[0] |= 0x80 }
        for (i, b) in f.enumerated() { block[124 + i] = b }
        for i in 148..<156 { block[i] = UInt8(ascii: " ") }
        let sum = block.reduce(0) { $0 + Int($1) }
        let digits = Array(String(sum, radix: 8).utf8)
        for i in 0..<6 { block[148 + i] = (Array(repeating: UInt8(ascii: "0"), count: 6 - digits.count) + digits)[i] }
        block[154] = 0
        let h = try block.withUnsafeBytes { try TarHeader.decode($0) }
        #expect(h.size == value)
    }

    @Test(
        "PAX record lengths count their own digits",
        arguments: [
            ("path", 1), ("path", 89), ("path", 90), ("path", 91), ("path", 985), ("path", 990), ("path", 995),
        ])
    func paxLength(_ key: String, _ valueLength: Int) throws {
        let value = [UInt8](repeating: UInt8(ascii: "a"), count: valueLength)
        let record = PAX.record(key, value)
        let prefix = record.prefix { $0 != UInt8(ascii: " ") }
        #expect(Int(String(decoding: prefix, as: UTF8.self)) == record.count)
        let parsed = try PAX.parse(record)
        #expect(parsed.count == 1 && parsed[0].key == key && parsed[0].value == value)
    }

    @Test("binary xattr values survive PAX, malformed records are refused")
    func paxBinary() throws {
        let binary: [UInt8] = [0, 10, 255, 61, 32, 10]
        let records = PAX.record("SCHILY.xattr.security.capability", binary) + PAX.record("uid", "3000000")
        let parsed = try PAX.parse(records)
        #expect(parsed.map(\.key) == ["SCHILY.xattr.security.capability", "uid"])
        #expect(parsed[0].value == binary)
        #expect(throws: PAX.ParseError.malformed(offset: 0)) { try PAX.parse(Array("99 path=x\n".utf8)) }
        #expect(throws: PAX.ParseError.malformed(offset: 0)) { try PAX.parse(Array("nolength\n".utf8)) }
    }

    @Test(
        "names split into prefix and name only where ustar allows",
        arguments: [
            (String(repeating: "a", count: 100), true),
            (String(repeating: "a", count: 101), false),
            (String(repeating: "p", count: 155) + "/" + String(repeating: "n", count: 100), true),
            (String(repeating: "p", count: 156) + "/" + String(repeating: "n", count: 10), false),
            ("dir/" + String(repeating: "n", count: 120), false),
        ])
    func split(_ name: String, _ fits: Bool) {
        let result = TarHeader.split(Array(name.utf8))
        #expect((result != nil) == fits)
        if let result, !result.prefix.isEmpty {
            #expect(result.prefix + [UInt8(ascii: "/")] + result.name == Array(name.utf8))
            #expect(result.prefix.count <= 155 && result.name.count <= 100)
        }
    }

    @Test(
        "names normalize, and '..' or absolute names are refused",
        arguments: [
            ("./etc//passwd", "etc/passwd"), ("etc/passwd/", "etc/passwd"), (".", ""), ("./", ""),
            ("../x", nil), ("a/../../x", nil), ("/etc/passwd", nil), ("a/./b", "a/b"),
        ] as [(String, String?)])
    func normalize(_ name: String, _ expected: String?) {
        #expect((try? FileTree.normalize(name)) == expected)
    }

    @Test("hard links are written after their targets, whatever the name order")
    func hardlinkOrder() throws {
        var t = FileTree()
        try t.addFile("z/target", "x")
        try t.insert(.init(path: "a/link1", kind: .hardlink(target: "z/target"), mode: 0o644))
        try t.insert(.init(path: "m/link2", kind: .hardlink(target: "a/link1"), mode: 0o644))  // link to a link
        let ordered = t.orderedForArchive()
        let order = ordered.map(\.path)
        // The group's first name in walk order ("a/link1") carries the content; the rest follow it.
        let first = try #require(order.firstIndex(of: "a/link1"))
        #expect(ordered[first].kind == .regular(.bytes(Data("x".utf8))))
        #expect(first < order.firstIndex(of: "m/link2")! && first < order.firstIndex(of: "z/target")!)
        #expect(ordered.first { $0.path == "z/target" }?.kind == .hardlink(target: "a/link1"))
        #expect(ordered.first { $0.path == "m/link2" }?.kind == .hardlink(target: "a/link1"))
        #expect(t["m/link2"]?.kind == .hardlink(target: "z/target"))
        // Removing the target removes its links; nothing dangles.
        t.remove("z/target")
        #expect(t["a/link1"] == nil && t["m/link2"] == nil)
    }

    @Test("writing twice gives the same bytes; clamping caps every time")
    func deterministicWriter() throws {
        var t = try SampleTrees.rich()
        try t.addFile("future", "x", mtime: 4_000_000_000)
        let a = DataSink(), b = DataSink()
        try t.writeTar(to: a, options: .init(clampMtime: 1_800_000_000))
        try t.writeTar(to: b, options: .init(clampMtime: 1_800_000_000))
        #expect(a.data == b.data)
        let dir = try Scratch("clamp")
        defer { dir.cleanup() }
        try a.data.write(to: dir.path("t.tar"))
        let read = try FileTree(tarball: dir.path("t.tar"))
        #expect(read["future"]?.mtime == 1_800_000_000)
        #expect(read["etc/passwd"]?.mtime == SampleTrees.epoch - 100)
        #expect(a.data.count % 512 == 0)
    }

    @Test("global PAX headers apply to every later member, local ones to the next only")
    func globalAndLocalPAX() throws {
        var data = Data()
        func member(_ name: String, _ type: Character, _ body: [UInt8]) {
            var h = TarHeader()
            h.name = Array(name.utf8)
            h.typeflag = type.asciiValue!
            h.mode = 0o644
            h.size = Int64(body.count)
            data.append(contentsOf: h.encode())
            data.append(contentsOf: body)
            data.append(Data(count: TarBlock.padding(Int64(body.count))))
        }
        member("pax_global_header", "g", PAX.record("uid", "77") + PAX.record("mtime", "1700000000.123456"))
        member("PaxHeaders/a", "x", PAX.record("gid", "88") + PAX.record("SCHILY.xattr.user.k", [0, 1, 2]))
        member("a", "0", Array("A".utf8))
        member("b", "0", Array("B".utf8))
        data.append(Data(count: 1024))
        let dir = try Scratch("pax-global")
        defer { dir.cleanup() }
        try data.write(to: dir.path("g.tar"))
        let tree = try FileTree(tarball: dir.path("g.tar"))
        #expect(tree["a"]?.uid == 77 && tree["a"]?.gid == 88 && tree["a"]?.xattrs == ["user.k": Data([0, 1, 2])])
        #expect(tree["b"]?.uid == 77 && tree["b"]?.gid == 0 && tree["b"]?.xattrs == [:])
        #expect(tree["a"]?.mtime == 1_700_000_000 && tree["b"]?.mtime == 1_700_000_000)
        #expect(tree["pax_global_header"] == nil)
        // GNU tar agrees on the owners.
        let listing = try Tool.run(["tar", "--numeric-owner", "-tvf", dir.path("g.tar").path]).stdoutString
        #expect(listing.contains("77/88") && listing.contains("77/0"))
    }
}
