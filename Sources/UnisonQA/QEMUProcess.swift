import FoundationEssentials
import Glibc
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

/// Runs `qemu-system-x86_64` (or any program) as a child process (posix_spawn).
package struct SystemQEMULauncher: QEMULauncher {
    package init() {}

    package func start(_ arguments: [String], stdout: URL, stderr: URL) throws -> any VMProcess {
        guard let executable = SystemProcessRunner.which(arguments[0]) else { throw QAError.toolNotFound(arguments[0]) }
        _ = FileManager.default.createFile(atPath: stdout.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderr.path, contents: nil)
        let out = try FileIO(forWritingTo: stdout)
        let err = try FileIO(forWritingTo: stderr)
        // Standard input is /dev/null (ChildProcess's default for a stream not given).
        let child = try ChildProcess(
            executable: executable.path, arguments: Array(arguments.dropFirst()),
            stdout: out.fileDescriptor, stderr: err.fileDescriptor)
        return SystemVMProcess(child)
    }
}

/// A started VM; its status is the exit status or 128 + the signal that ended it.
final class SystemVMProcess: VMProcess, @unchecked Sendable {
    private let child: ChildProcess
    init(_ child: ChildProcess) { self.child = child }

    var isRunning: Bool { child.isRunning }
    var exitStatus: Int32? { child.pollTermination()?.shellStatus }

    func stop(grace: TimeInterval) {
        guard isRunning else { return }
        child.signal(SIGTERM)
        let deadline = Date().addingTimeInterval(grace)
        while isRunning, Date() < deadline { usleep(20_000) }
        if isRunning { child.signal(SIGKILL) }
        _ = child.waitForTermination()
    }
}
