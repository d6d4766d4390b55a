import Foundation
import Testing
import UnisonCore
import UnisonTestSupport

@testable import UnisonQA

extension BootFixture {
    init(message: String) throws { try self.init(bios: TinyBIOS.image(printing: message)) }

    func options(marker: String, timeout: TimeInterval) -> BootOptions {
        BootOptions(
            image: disk, firmware: .bios, timeout: timeout, marker: marker, memoryMiB: 64, cpus: 1,
            accelerator: .tcg, serialLog: dir.appendingPathComponent("serial.log"), firmwareFile: bios)
    }
}

@Suite("qa boot: QEMU watched on its serial console", .tags(.boot))
struct BootCheckTests {
    @Test("the marker printed by the guest is seen, and QEMU is gone afterwards")
    func markerSeen() async throws {
        let f = try BootFixture(message: "early noise\r\nUNISONOS-FIRSTBOOT-OK\r\n")
        defer { f.cleanup() }
        let result = try await BootCheck.run(f.options(marker: "UNISONOS-FIRSTBOOT-OK", timeout: 60))
        #expect(result.markerSeen, "\(result)")
        #expect(result.reason == "marker")
        #expect(result.format == "raw")
        #expect(result.accelerator == "tcg")
        #expect(result.consoleTail.contains("early noise"))
        #expect(try String(contentsOf: f.dir.appendingPathComponent("serial.log"), encoding: .utf8).contains("UNISONOS-FIRSTBOOT-OK"))
        #expect(processes(mentioning: f.dir.path) == 0)
    }

    @Test("without the marker the check times out with the console tail, and QEMU is killed")
    func timeout() async throws {
        let f = try BootFixture(message: "systemd: waiting for a job that never ends\n")
        defer { f.cleanup() }
        let result = try await BootCheck.run(f.options(marker: "UNISONOS-FIRSTBOOT-OK", timeout: 20))
        #expect(!result.markerSeen)
        #expect(result.reason.hasPrefix("timeout"))
        #expect(result.seconds >= 20, "the watch lasts at least the timeout")
        #expect(result.consoleTail.contains("systemd: waiting for a job that never ends"))
        #expect(processes(mentioning: f.dir.path) == 0)
    }

    @Test("a guest kernel panic ends the watch at once, naming the panic, and QEMU is killed")
    func kernelPanic() async throws {
        let f = try BootFixture(
            message: "[   19.06] ---[ end trace 0000000000000000 ]---\r\n"
                + "[   20.01] Kernel panic - not syncing: Fatal exception in interrupt\r\nmore\r\n")
        defer { f.cleanup() }
        // The guest halts after printing, as a panicked kernel does; only the panic can end
        // this watch before its (long) timeout, and the reason says which ended it.
        let result = try await BootCheck.run(f.options(marker: "UNISONOS-FIRSTBOOT-OK", timeout: 600))
        #expect(!result.markerSeen)
        #expect(result.reason == "the guest kernel panicked: Kernel panic - not syncing: Fatal exception in interrupt", "\(result.reason)")
        #expect(result.consoleTail.contains { $0.contains("end trace") })
        #expect(processes(mentioning: f.dir.path) == 0)
    }

    @Test("QEMU failing to start is reported with its stderr, not as a timeout")
    func qemuFails() async throws {
        let f = try BootFixture(message: "x")
        defer { f.cleanup() }
        try Data([0x90]).write(to: f.bios)  // not a loadable firmware size
        // A long timeout: the watch must end because QEMU exited, which the reason says; how
        // fast that is depends on the machine's load, so no duration is asserted.
        let result = try await BootCheck.run(f.options(marker: "NEVER", timeout: 600))
        #expect(!result.markerSeen)
        #expect(result.reason.hasPrefix("qemu exited with status"), "\(result.reason)")
        #expect(!result.reason.hasPrefix("timeout"))
        #expect(!result.qemuStderr.isEmpty)
    }

    @Test("bad input is refused before QEMU starts")
    func badInput() async throws {
        let f = try BootFixture(message: "x")
        defer { f.cleanup() }
        var missing = f.options(marker: "M", timeout: 5)
        missing.image = f.dir.appendingPathComponent("nope.qcow2")
        await #expect(throws: QAError.imageNotFound(missing.image.path)) { _ = try await BootCheck.run(missing) }
        let tiny = f.dir.appendingPathComponent("tiny.raw")
        try Data(count: 10).write(to: tiny)
        var short = f.options(marker: "M", timeout: 5)
        short.image = tiny
        await #expect(throws: QAError.notADiskImage(path: tiny.path, detail: "shorter than one sector")) { _ = try await BootCheck.run(short) }
        var noFirmware = f.options(marker: "M", timeout: 5)
        noFirmware.firmwareFile = f.dir.appendingPathComponent("missing.fd")
        await #expect(throws: QAError.self) { _ = try await BootCheck.run(noFirmware) }
        #expect(QAError.imageNotFound("x").exitStatus == .badInput)
        #expect(QAError.markerNotSeen(marker: "M", reason: "timeout", consoleTail: []).exitStatus == .checkFailed)
    }

    @Test("QEMU arguments: TCG, headless, snapshot, explicit format, OVMF with a private variable store")
    func arguments() throws {
        let dir = URL(fileURLWithPath: "/tmp").appendingPathComponent("unison-qa-args-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let firmware = try Firmware.arguments(.uefi, override: nil, workDir: dir)
        let args = QEMUArguments.make(
            image: URL(fileURLWithPath: "/d/x.qcow2"), format: "qcow2", accelerator: "tcg",
            firmware: firmware, memoryMiB: 1024, cpus: 2, serialLog: URL(fileURLWithPath: "/d/s.log"))
        let line = args.joined(separator: " ")
        #expect(line.contains("-accel tcg,thread=single"))
        #expect(line.contains("-snapshot"))
        #expect(line.contains("-display none") && line.contains("-serial file:/d/s.log"))
        #expect(line.contains("file=/d/x.qcow2,format=qcow2,if=virtio"))
        #expect(line.contains("if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE"))
        #expect(line.contains("unit=1,file=\(dir.path)/OVMF_VARS.fd"))
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("OVMF_VARS.fd").path))
        #expect(try Firmware.arguments(.bios, override: nil, workDir: dir).isEmpty)
    }

    @Test("the KVM probe runs x87 code; a guest fault on stderr ends the watch at once")
    func probeAndFault() async throws {
        let bios = [UInt8](TinyBIOS.image(printing: "K", exerciseFPU: true))
        #expect(Array(bios[0..<7]) == [0x9B, 0xDB, 0xE3, 0xD9, 0xE8, 0xDD, 0xD8])
        #expect(Array(bios[0xFFF0..<0xFFF5]) == [0xEA, 0x00, 0x00, 0x00, 0xF0])
        // The FPU variant still prints under TCG.
        let f = try BootFixture(message: "x")
        defer { f.cleanup() }
        try TinyBIOS.image(printing: "FPU-FINE\n", exerciseFPU: true).write(to: f.bios)
        let ok = try await BootCheck.run(f.options(marker: "FPU-FINE", timeout: 60))
        #expect(ok.markerSeen)

        let stderr = f.dir.appendingPathComponent("qemu.err")
        try Data("warning: something\nKVM internal error. Suberror: 1\nextra data[0]: 0x1\n".utf8).write(to: stderr)
        #expect(QEMUFault.find(in: stderr) == "KVM internal error. Suberror: 1")
        try Data("warning: host doesn't support requested feature\n".utf8).write(to: stderr)
        #expect(QEMUFault.find(in: stderr) == nil)
    }

    @Test("the watcher finds a marker split across reads")
    func splitMarker() throws {
        let dir = URL(fileURLWithPath: "/tmp").appendingPathComponent("unison-qa-watch-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let log = dir.appendingPathComponent("serial.log")
        try Data("boot...\nUNISONOS-FIRST".utf8).write(to: log)
        var w = ConsoleWatcher(marker: "UNISONOS-FIRSTBOOT-OK")
        try w.poll(log)
        #expect(!w.seen)
        let h = try FileHandle(forWritingTo: log)
        try h.seekToEnd()
        try h.write(contentsOf: Data("BOOT-OK\r\n\u{1B}[0m".utf8))
        try h.close()
        try w.poll(log)
        #expect(w.seen)
        #expect(w.tail(lines: 2) == ["UNISONOS-FIRSTBOOT-OK", ""])
        #expect(w.panic == nil)
    }

    @Test("the watcher keeps the first panic line whole, also when it arrives in pieces")
    func panicLine() throws {
        let dir = URL(fileURLWithPath: "/tmp").appendingPathComponent("unison-qa-panic-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let log = dir.appendingPathComponent("serial.log")
        try Data("[ 1.0] a kernel panic - not syncing in lower case is someone's message\n[ 2.0] Kernel pan".utf8).write(to: log)
        var w = ConsoleWatcher(marker: "UNISONOS-FIRSTBOOT-OK")
        try w.poll(log)
        #expect(w.panic == nil)
        let h = try FileHandle(forWritingTo: log)
        try h.seekToEnd()
        try h.write(contentsOf: Data("ic - not syncing: VFS: Unable to mount root fs\r\n[ 2.1] Kernel panic - not syncing: second\n".utf8))
        try h.close()
        try w.poll(log)
        #expect(w.panic == "Kernel panic - not syncing: VFS: Unable to mount root fs")
        #expect(!w.seen)
    }
}
