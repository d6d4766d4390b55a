import Foundation
import Testing
import UnisonTestSupport

/// Hostile input through the built binary: a clear error and exit status, and nothing left in
/// the temporary directory or at the output path.
@Suite("hardening (CLI)", .tags(.unit))
struct HardeningCLITests {
    /// A tar whose one member has a PAX `size` record of `size`.
    static func paxTar(size: String) -> Data {
        func header(name: String, type: UInt8, size: Int) -> [UInt8] {
            var b = [UInt8](repeating: 0, count: 512)
            func put(_ s: String, _ at: Int) { for (i, c) in s.utf8.enumerated() { b[at + i] = c } }
            put(name, 0)
            put("0000644", 100); put("0000000", 108); put("0000000", 116)
            put(String(format: "%011o", size), 124); put("00000000000", 136)
            b[156] = type
            put("ustar", 257); put("00", 263)
            for i in 148..<156 { b[i] = 0x20 }
            let sum = b.reduce(0) { $0 + Int($1) }
            put(String(format: "%06o", sum), 148); b[154] = 0
            return b
        }
        var record = " size=\(size)\n"
        var length = record.utf8.count + 2
        while "\(length)\(record)".utf8.count != length { length = "\(length)\(record)".utf8.count }
        record = "\(length)\(record)"
        var out = header(name: "PaxHeaders/x", type: UInt8(ascii: "x"), size: record.utf8.count)
        out += Array(record.utf8) + [UInt8](repeating: 0, count: (512 - record.utf8.count % 512) % 512)
        out += header(name: "victim", type: UInt8(ascii: "0"), size: 1)
        out += [UInt8(ascii: "x")] + [UInt8](repeating: 0, count: 511)
        out += [UInt8](repeating: 0, count: 1024)
        return Data(out)
    }

    @Test(
        "image tar of an archive with a hostile PAX size: exit 2 naming the member, no output, no /tmp leftovers",
        arguments: ["-1", "9223372036854775807", "99999999999999999999"])
    func paxSize(size: String) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hardening-\(UUID().uuidString.prefix(8))")
        let tmp = dir.appendingPathComponent("tmp")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = dir.appendingPathComponent("hostile.tar")
        try Self.paxTar(size: size).write(to: input)
        let r = try CLI.run(["image", "tar", input.path, "--out", dir.appendingPathComponent("out.tar").path], environment: ["TMPDIR": tmp.path])
        #expect(r.status == 2, "\(r.stderr)")
        #expect(r.stderr.contains("victim") && r.stderr.contains("size"), "\(r.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: tmp.path).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("out.tar").path))
    }

    @Test("spec validate refuses injected values at file:line:column, one line each")
    func specValidate() throws {
        let dir = try TempDir.create("hardening-spec")
        defer { try? FileManager.default.removeItem(at: dir) }
        var text = try String(contentsOf: CLI.repoRoot.appendingPathComponent("unison.yaml"), encoding: .utf8)
        text = text.replacingOccurrences(of: "  name: unisonos\n", with: "  name: \"unisonos$(touch /tmp/pwned)\"\n")
        text = text.replacingOccurrences(of: "  envFile: /etc/unison/platform.env\n", with: "  envFile: /etc/unison/../../root/platform.env\n")
        text = text.replacingOccurrences(of: "  displayName: UnisonOS\n", with: "  displayName: \"UnisonOS\\nExecStartPre=/bin/sh\"\n")
        let file = dir.appendingPathComponent("unison.yaml")
        try Data(text.utf8).write(to: file)
        let r = try CLI.run(["spec", "validate", "--spec", file.path])
        #expect(r.status == 2)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        for (needle, message) in [
            ("name: \"unisonos$(", "platform.name"), ("envFile:", "installer.envFile"), ("displayName:", "platform.displayName"),
        ] {
            let line = try #require(lines.firstIndex { $0.contains(needle) }) + 1
            #expect(r.stderr.contains(":\(line):") && r.stderr.contains(message), "\(needle): \(r.stderr)")
        }
        #expect(!r.stderr.contains("\nExecStartPre"), "\(r.stderr)")
    }
}
