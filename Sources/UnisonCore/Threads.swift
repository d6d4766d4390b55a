import FoundationEssentials
import Glibc

// Locks, conditions, threads and sleeps on pthreads, in place of full Foundation's NSLock,
// NSCondition and Thread (their use links CoreFoundation and ICU; docs/performance.md).

/// A mutual-exclusion lock (`pthread_mutex_t`, heap-allocated so it never moves).
package final class Lock: @unchecked Sendable {
    fileprivate let mutex: UnsafeMutablePointer<pthread_mutex_t>

    package init() {
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    package func lock() { pthread_mutex_lock(mutex) }
    package func unlock() { pthread_mutex_unlock(mutex) }

    package func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock()
        defer { unlock() }
        return try body()
    }
}

/// A condition variable with its own lock (NSCondition's shape): lock, test, `wait`, unlock.
package final class Condition: @unchecked Sendable {
    private let mutex = Lock()
    private let cond: UnsafeMutablePointer<pthread_cond_t>

    package init() {
        cond = .allocate(capacity: 1)
        pthread_cond_init(cond, nil)
    }

    deinit {
        pthread_cond_destroy(cond)
        cond.deallocate()
    }

    package func lock() { mutex.lock() }
    package func unlock() { mutex.unlock() }
    /// Releases the lock until signalled, then holds it again. Call with the lock held.
    package func wait() { pthread_cond_wait(cond, mutex.mutex) }
    package func signal() { pthread_cond_signal(cond) }
    package func broadcast() { pthread_cond_broadcast(cond) }
}

package enum Threads {
    private final class Box {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    /// Runs `body` on a new detached thread (for workers that live until the process ends or
    /// signal their own completion).
    package static func detach(_ body: @escaping @Sendable () -> Void) {
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(
            &thread, nil,
            { raw in
                let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
                box.body()
                return nil
            }, box)
        if rc != 0 {
            Unmanaged<Box>.fromOpaque(box).release()
            // No thread: run inline rather than lose the work.
            body()
            return
        }
        pthread_detach(thread)
    }

    /// Blocks the calling thread for `seconds` (Thread.sleep(forTimeInterval:)).
    package static func sleep(_ seconds: Double) {
        guard seconds > 0 else { return }
        var request = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - seconds.rounded(.down)) * 1e9))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }
}

/// One sentence for any error, without full Foundation's `localizedDescription`: our own errors
/// describe themselves; Foundation's file errors become "<path>: <reason>".
package enum ErrorText {
    /// "<path>: <reason>" for a file error that names its path, else the reason alone.
    package static func describe(_ error: any Error) -> String {
        if let cocoa = error as? CocoaError, let path = cocoa.filePath { return "\(path): \(reason(error))" }
        return reason(error)
    }

    /// The reason alone, for messages that name the path already.
    package static func reason(_ error: any Error) -> String {
        if let cocoa = error as? CocoaError {
            if let posix = cocoa.underlying as? POSIXError { return String(cString: strerror(posix.code.rawValue)) }
            return cocoaReason(cocoa.code)
        }
        if let posix = error as? POSIXError { return String(cString: strerror(posix.code.rawValue)) }
        return String(describing: error)
    }

    private static func cocoaReason(_ code: CocoaError.Code) -> String {
        switch code {
        case .fileNoSuchFile, .fileReadNoSuchFile: "no such file"
        case .fileReadNoPermission, .fileWriteNoPermission: "permission denied"
        case .fileWriteFileExists: "the file exists"
        case .fileReadCorruptFile: "the file is corrupt"
        case .fileReadInapplicableStringEncoding, .fileWriteInapplicableStringEncoding: "the text is not in the expected encoding"
        case .fileWriteOutOfSpace: "no space left on the device"
        case .fileWriteVolumeReadOnly: "the file system is read-only"
        default: "file operation failed (Cocoa error \(code.rawValue))"
        }
    }
}
