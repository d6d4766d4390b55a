import Foundation
import Testing
import UnisonTestSupport

@testable import UnisonQA

/// The launcher's process (QEMU in real runs) reports an exit as its status and a death by
/// signal as 128 + the signal, with its output in the files it was given.
@Suite(.tags(.unit)) struct VMProcessTests {
    func files() -> (URL, URL) {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("unisonctl-vm-\(UUID().uuidString)")
        return (base.appendingPathExtension("out"), base.appendingPathExtension("err"))
    }

    @Test func anExitKeepsItsStatusAndOutput() throws {
        let (out, err) = files()
        defer { try? FileManager.default.removeItem(at: out); try? FileManager.default.removeItem(at: err) }
        let vm = try SystemQEMULauncher().start(["sh", "-c", "echo up; echo oops >&2; exit 3"], stdout: out, stderr: err)
        let deadline = Date().addingTimeInterval(30)
        while vm.isRunning, Date() < deadline { usleep(10_000) }
        #expect(vm.exitStatus == 3)
        #expect(try String(contentsOf: out, encoding: .utf8) == "up\n")
        #expect(try String(contentsOf: err, encoding: .utf8) == "oops\n")
    }

    @Test func stopEndsItWithSIGTERM() throws {
        let (out, err) = files()
        defer { try? FileManager.default.removeItem(at: out); try? FileManager.default.removeItem(at: err) }
        let vm = try SystemQEMULauncher().start(["sleep", "30"], stdout: out, stderr: err)
        #expect(vm.isRunning)
        #expect(vm.exitStatus == nil)
        vm.stop(grace: 5)
        #expect(!vm.isRunning)
        #expect(vm.exitStatus == 128 + SIGTERM)
    }
}
