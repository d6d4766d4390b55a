import FoundationEssentials
import Glibc
import Synchronization
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
        return SystemVMProcess(child.pid)
    }
}

/// A started VM, reaped here with `waitpid` so that a death by signal stays distinguishable
/// from an exit (ChildProcess's status folds the two).
final class SystemVMProcess: VMProcess, @unchecked Sendable {
    private let pid: pid_t
    /// The exit status, or 128 + the signal number; nil while the process runs.
    private let status = Mutex<Int32?>(nil)
    init(_ pid: pid_t) { self.pid = pid }

    /// Reaps the child if it has ended (`block`: waits for it).
    private func reap(block: Bool) -> Int32? {
        status.withLock { known in
            if let known { return known }
            var raw: Int32 = 0
            var got: pid_t
            repeat { got = waitpid(pid, &raw, block ? 0 : WNOHANG) } while got < 0 && errno == EINTR
            guard got == pid else { return nil }
            let signal = raw & 0x7F
            known = signal == 0 ? (raw >> 8) & 0xFF : 128 + signal
            return known
        }
    }

    var isRunning: Bool { reap(block: false) == nil }
    var exitStatus: Int32? { reap(block: false) }

    func stop(grace: TimeInterval) {
        guard isRunning else { return }
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(grace)
        while isRunning, Date() < deadline { usleep(20_000) }
        if isRunning {
            kill(pid, SIGKILL)
        }
        _ = reap(block: true)
    }
}
