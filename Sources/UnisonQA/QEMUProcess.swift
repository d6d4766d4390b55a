import Foundation
import UnisonCore

/// A running virtual machine process.
package protocol VMProcess: AnyObject, Sendable {
    var isRunning: Bool { get }
    /// The exit status once it stopped (a signal number + 128 when killed).
    var exitStatus: Int32? { get }
    /// Stops the process: SIGTERM, then SIGKILL after `grace` seconds; returns when it is gone.
    func stop(grace: TimeInterval)
}

/// Starts QEMU. Behind a protocol so the watch loop can be tested without a hypervisor and
/// so other launchers (a remote host, a container) can stand in.
package protocol QEMULauncher: Sendable {
    func start(_ arguments: [String], stdout: URL, stderr: URL) throws -> any VMProcess
}

/// Runs `qemu-system-x86_64` (or any program) with Foundation's `Process`.
package struct SystemQEMULauncher: QEMULauncher {
    package init() {}

    package func start(_ arguments: [String], stdout: URL, stderr: URL) throws -> any VMProcess {
        guard let executable = SystemProcessRunner.which(arguments[0]) else { throw QAError.toolNotFound(arguments[0]) }
        let process = Process()
        process.executableURL = executable
        process.arguments = Array(arguments.dropFirst())
        FileManager.default.createFile(atPath: stdout.path, contents: nil)
        FileManager.default.createFile(atPath: stderr.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: stdout)
        process.standardError = try FileHandle(forWritingTo: stderr)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return SystemVMProcess(process)
    }
}

final class SystemVMProcess: VMProcess, @unchecked Sendable {
    private let process: Process
    init(_ process: Process) { self.process = process }

    var isRunning: Bool { process.isRunning }
    var exitStatus: Int32? {
        guard !process.isRunning else { return nil }
        return process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
    }

    func stop(grace: TimeInterval) {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(grace)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
        }
        process.waitUntilExit()
    }
}
