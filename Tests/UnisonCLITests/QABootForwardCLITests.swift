import Foundation
import Testing
import UnisonTestSupport

/// `qa boot --forward` and `--smoke` through the CLI: what is refused before QEMU starts.
@Suite("qa boot --forward and --smoke: refused input through the CLI", .tags(.unit))
struct QABootForwardCLITests {
    @Test("a malformed forward, a busy host port and --smoke without SSH credentials exit 2 naming the problem")
    func refused() throws {
        let tmp = try TempDir.create("qa-forward")
        defer { try? FileManager.default.removeItem(at: tmp) }
        let disk = tmp.appendingPathComponent("blank.raw")
        try Data(count: 1 << 20).write(to: disk)
        let common = ["qa", "boot", disk.path, "--marker", "M", "--timeout", "5", "--firmware", "bios"]

        let malformed = try CLI.run(common + ["--forward", "0.0.0.0:8080:80"])
        #expect(malformed.status == 2)
        #expect(malformed.stderr.contains("the host side binds 127.0.0.1 only"), "\(malformed.stderr)")
        let range = try CLI.run(common + ["--forward", "8080:70000"])
        #expect(range.status == 2)
        #expect(range.stderr.contains("ports must be numbers from 1 to 65535"), "\(range.stderr)")

        // A port some other program listens on: refused before QEMU starts, naming the port.
        let listener = Process()
        listener.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        listener.arguments = [
            "python3", "-c",
            "import socket,sys,time; s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(); print(s.getsockname()[1], flush=True); time.sleep(60)",
        ]
        let pipe = Pipe()
        listener.standardOutput = pipe
        try listener.run()
        defer { listener.terminate() }
        let line = String(decoding: pipe.fileHandleForReading.availableData, as: UTF8.self)
        let port = try #require(Int(line.trimmingCharacters(in: .whitespacesAndNewlines)))
        let busy = try CLI.run(common + ["--forward", "127.0.0.1:\(port):80"])
        #expect(busy.status == 2)
        #expect(busy.stderr.contains("host port \(port) on 127.0.0.1 is already in use"), "\(busy.stderr)")
        let twice = try CLI.run(common + ["--forward", "\(port + 1):80", "--forward", "\(port + 1):81"])
        #expect(twice.status == 2)
        #expect(twice.stderr.contains("host port \(port + 1) is given twice"), "\(twice.stderr)")

        let noKey = try CLI.run(common + ["--smoke"])
        #expect(noKey.status == 2)
        #expect(noKey.stderr.contains("--smoke needs --ssh-user and --ssh-key"), "\(noKey.stderr)")
        let badUser = try CLI.run(common + ["--smoke", "--ssh-user=-oProxyCommand=x", "--ssh-key", disk.path])
        #expect(badUser.status == 2)
        #expect(badUser.stderr.contains("is not a login name"), "\(badUser.stderr)")
        let stray = try CLI.run(common + ["--ssh-user", "qa"])
        #expect(stray.status == 2)
        #expect(stray.stderr.contains("go with --smoke"), "\(stray.stderr)")
    }
}
