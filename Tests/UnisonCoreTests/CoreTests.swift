import Foundation
import Testing
import UnisonTestSupport

@testable import UnisonCore

final class Lines: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    func append(_ s: String) { lock.lock(); items.append(s); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return items }
}

@Suite(.tags(.unit)) struct ProgressTests {
    @Test func plainLinesReportPercentAndFinish() {
        let lines = Lines()
        let progress = ProgressReporter("pushing", total: 4 << 20, style: .lines, interval: 0, sink: lines.append)
        progress.advance(by: 1 << 20)
        progress.advance(by: 1 << 20)
        progress.finish("pushed")
        let out = lines.all
        #expect(out.first == "pushing: 25% (1.0 MiB of 4.0 MiB)\n")
        #expect(out.contains("pushing: 50% (2.0 MiB of 4.0 MiB)\n"))
        #expect(out.last?.hasPrefix("pushing: pushed (") == true)
        progress.finish("again")
        #expect(lines.all.count == out.count, "finish reports once")
    }

    @Test func barRedrawsInPlaceAndSilentPrintsNothing() {
        let lines = Lines()
        let bar = ProgressReporter("build", total: 100, style: .bar, interval: 0, sink: lines.append)
        bar.set(50)
        #expect(lines.all.first?.hasPrefix("\r\u{1B}[2Kbuild [###############---------------] 50%") == true)
        let quiet = Lines()
        let silent = ProgressReporter("x", total: 10, style: .silent, interval: 0, sink: quiet.append)
        silent.advance(by: 5)
        silent.finish()
        #expect(quiet.all.isEmpty)
    }

    @Test func linesAreThrottled() {
        let lines = Lines()
        let progress = ProgressReporter("copy", total: nil, style: .lines, interval: 3600, sink: lines.append)
        for _ in 0..<100 { progress.advance(by: 10) }
        #expect(lines.all == ["copy: 10 B\n"])
    }

    @Test(arguments: [(Int64(0), "0 B"), (1023, "1023 B"), (1024, "1.0 KiB"), (1536, "1.5 KiB"), (5 << 30, "5.0 GiB")])
    func bytesFormatting(n: Int64, text: String) {
        #expect(ProgressReporter.formatBytes(n) == text)
    }
}

@Suite(.tags(.unit)) struct AtomicFileTests {
    @Test func failedWriteLeavesDestinationUntouched() throws {
        let dir = try TempDir.create("atomic")
        defer { try? FileManager.default.removeItem(at: dir) }
        let dest = dir.appendingPathComponent("artifact.bin")
        try AtomicFile.write(Data("old".utf8), to: dest)
        struct Boom: Error {}
        #expect(throws: Boom.self) {
            try AtomicFile.write(to: dest) { tmp in
                try Data("partial".utf8).write(to: tmp)
                throw Boom()
            }
        }
        #expect(try String(contentsOf: dest, encoding: .utf8) == "old")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["artifact.bin"])
        try AtomicFile.write(Data("new".utf8), to: dest, permissions: 0o600)
        #expect(try String(contentsOf: dest, encoding: .utf8) == "new")
        let mode = try FileManager.default.attributesOfItem(atPath: dest.path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }
}

@Suite(.tags(.unit)) struct ProcessRunnerTests {
    @Test func capturesOutputStatusAndInput() throws {
        let runner = SystemProcessRunner()
        let r = try runner.run(["sh", "-c", "cat; echo err >&2; exit 3"], input: Data("hello".utf8))
        #expect(r.status == 3)
        #expect(r.stdoutString == "hello")
        #expect(r.stderrString == "err\n")
        #expect(throws: ProcessError.self) { try runner.check(["false"]) }
    }

    @Test func largeOutputOnBothStreamsDoesNotDeadlock() throws {
        let r = try SystemProcessRunner().run(["sh", "-c", "head -c 1000000 /dev/zero; head -c 1000000 /dev/zero >&2"])
        #expect(r.stdout.count == 1_000_000)
        #expect(r.stderr.count == 1_000_000)
    }

    @Test func missingToolNamesItsPackage() {
        #expect(throws: ProcessError.self) { try SystemProcessRunner().run(["definitely-not-a-tool-xyz"]) }
        #expect(ToolHints.hint(for: "qemu-img") == "install it with: apt-get install qemu-utils")
    }
}

@Suite(.tags(.unit)) struct SourceDateEpochTests {
    @Test func readsEnvironmentOrFallsBack() {
        #expect(SourceDateEpoch.current(["SOURCE_DATE_EPOCH": "1700000000"]) == 1_700_000_000)
        #expect(SourceDateEpoch.current([:]) == SourceDateEpoch.fallback)
        #expect(SourceDateEpoch.current(["SOURCE_DATE_EPOCH": "garbage"]) == SourceDateEpoch.fallback)
    }

    @Test func sha256OfFileMatchesData() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sha-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: url) }
        try Data("abc".utf8).write(to: url)
        let (hex, size) = try SHA256Hex.file(url)
        #expect(size == 3)
        #expect(hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256Hex.hex(Data("abc".utf8)) == hex)
    }
}

@Suite(.tags(.unit)) struct JSONOutputTests {
    struct Middle: Encodable { var alpha = 1; var nested = Last(); var schema = "x/v1"; var zulu = [1, 2] }
    struct Last: Encodable { var alpha = "a"; var beta = ["k": "v"]; var schema = "inner/v1" }
    struct Alone: Encodable { var schema = "only/v1" }

    @Test func schemaComesFirstAndTheRestStaysSorted() throws {
        let text = try JSONOutput.string(Middle())
        let lines = text.components(separatedBy: "\n")
        #expect(lines[1] == "  \"schema\" : \"x/v1\",")
        #expect(lines.filter { $0.hasPrefix("  \"") }.map { $0.split(separator: "\"")[1] } == ["schema", "alpha", "nested", "zulu"])
        // The nested object's own schema stays where sorting put it.
        #expect(text.contains("    \"schema\" : \"inner/v1\"\n"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(object["schema"] as? String == "x/v1" && object["zulu"] as? [Int] == [1, 2])
    }

    @Test func aSchemaThatSortsLastMovesWithItsCommasFixed() throws {
        let text = try JSONOutput.string(Last())
        #expect(text.components(separatedBy: "\n")[1] == "  \"schema\" : \"inner/v1\",")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(object["beta"] as? [String: String] == ["k": "v"])
        #expect(try JSONOutput.string(Alone()) == "{\n  \"schema\" : \"only/v1\"\n}")
        #expect(try JSONOutput.string(Last(), pretty: false).hasPrefix("{\"alpha\""))
    }
}
