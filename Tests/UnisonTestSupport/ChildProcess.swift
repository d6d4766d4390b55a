import Foundation

#if canImport(Glibc)
import Glibc
#endif

extension Process {
    /// Ends a child server a test started and waits for it. SIGKILL: the test runner starts
    /// children with SIGTERM blocked (an inherited signal mask), so SIGTERM would stay pending.
    package func killAndWait() {
        guard isRunning else { return }
        kill(processIdentifier, SIGKILL)
        waitUntilExit()
    }

    /// Waits until the child writes `file` (the way the Python stand-in servers say they
    /// listen); throws if it exits first or `timeout` passes.
    package func waitForFile(_ file: URL, timeout: TimeInterval = 20) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while !FileManager.default.fileExists(atPath: file.path) {
            guard Date() < deadline, isRunning else {
                throw TestSupportError("\(executableURL?.lastPathComponent ?? "child") did not write \(file.path) within \(Int(timeout)) s")
            }
            usleep(20_000)
        }
    }
}
