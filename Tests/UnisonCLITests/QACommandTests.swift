import Foundation
import Testing
import UnisonCore
import UnisonTestSupport

@testable import UnisonQA

/// `unisonctl qa ...` with the QA tests' environment (quiet, no colour), in the caller's directory.
enum QACLI {
    static var unisonctl: URL { Unisonctl.binary }

    static func run(_ arguments: [String]) throws -> ProcessResult {
        try SystemProcessRunner().run([unisonctl.path] + arguments, environment: ["UNISONCTL_QUIET": "1", "NO_COLOR": "1"])
    }
}

extension BootFixture {
    init(message: String) throws { try self.init(bios: TinyBIOS.image(printing: message)) }
}

@Suite("unisonctl qa boot exit codes", .tags(.boot))
struct QACommandTests {
    @Test("0 when the marker appears, 1 with the console tail when it does not, 2 for bad input")
    func exitCodes() throws {
        let f = try BootFixture(message: "hello\nMARKER-42\n")
        defer { f.cleanup() }
        let common = ["--firmware", "bios", "--firmware-file", f.bios.path, "--accel", "tcg", "--memory", "64"]
        let ok = try QACLI.run(["qa", "boot", f.disk.path, "--marker", "MARKER-42", "--timeout", "60"] + common)
        #expect(ok.status == 0, "\(ok.stderrString)")
        #expect(ok.stdoutString.contains("boot ok"))

        let json = try QACLI.run(["qa", "boot", f.disk.path, "--marker", "MARKER-42", "--timeout", "60", "--json"] + common)
        let object = try #require(try JSONSerialization.jsonObject(with: json.stdout) as? [String: Any])
        #expect(object["schema"] as? String == "unisonctl.qa-boot/v1")
        #expect(object["markerSeen"] as? Bool == true)

        let missing = try QACLI.run(["qa", "boot", f.disk.path, "--marker", "ABSENT", "--timeout", "20"] + common)
        #expect(missing.status == 1)
        #expect(missing.stderrString.contains("did not appear"))
        #expect(missing.stderrString.contains("| hello"), "\(missing.stderrString)")

        let bad = try QACLI.run(["qa", "boot", f.dir.appendingPathComponent("none.qcow2").path, "--marker", "M", "--timeout", "5"] + common)
        #expect(bad.status == 2)
        #expect(bad.stderrString.contains("does not exist"))
        let usage = try QACLI.run(["qa", "boot", f.disk.path, "--marker", "M", "--timeout", "0"])
        #expect(usage.status == 2)
        #expect(processes(mentioning: f.dir.path) == 0)
    }
}
