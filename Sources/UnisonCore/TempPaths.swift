import FoundationEssentials
import Glibc

#if canImport(Glibc)
import Glibc
#endif

/// Temporary files and directories that must not outlive the process: partial blobs
/// (`.<name>.tmp-<pid>-…`, registered by `AtomicFile.temporaryURL`), build work directories
/// and scratch space. Normal exits remove them where they are made (`defer`); on SIGINT or
/// SIGTERM, once `installSignalHandlers()` has run, every path still registered is removed
/// before the process exits with 128 + the signal number.
///
/// The signal handler itself only writes the signal number to a pipe (async-signal-safe); a
/// thread waiting on that pipe does the removal with ordinary file APIs. Once it has started,
/// no thread registers anything new (it waits for the exit), and a file made by
/// `createFile(_:mode:)` exists before the sweep or not at all, so nothing appears behind it.
package enum TempPaths {
    private static let lock = Lock()
    nonisolated(unsafe) private static var paths: Set<String> = []
    nonisolated(unsafe) private static var installed = false
    nonisolated(unsafe) private static var terminating = false

    /// Adds `url` to what a signal removes (recursively for a directory).
    package static func register(_ url: URL) {
        lock.lock()
        guard !terminating else { lock.unlock(); parkUntilExit() }
        paths.insert(url.path)
        lock.unlock()
    }

    /// Registers `url` and creates it as a new file with `mode` (`O_EXCL`, no symlink followed)
    /// under the lock the signal cleanup takes: the file is swept if a signal comes at any
    /// point after this returns. Returns the open descriptor (close-on-exec).
    package static func createFile(_ url: URL, mode: mode_t) throws -> Int32 {
        lock.lock()
        guard !terminating else { lock.unlock(); parkUntilExit() }
        let fd = open(url.path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        let code = errno
        if fd >= 0 { paths.insert(url.path) }
        lock.unlock()
        guard fd >= 0 else {
            throw FileIOError.system(operation: "create", path: url.path, errno: code)
        }
        return fd
    }

    /// Called before a normal exit: once a signal's cleanup has begun, the run ends with the
    /// signal's status (128 + n) from the cleanup thread, not with an error its sweep caused.
    package static func yieldToSignalCleanup() {
        if lock.withLock({ terminating }) { parkUntilExit() }
    }

    /// A thread that would make a temporary path after a signal waits here for `_exit`.
    private static func parkUntilExit() -> Never {
        while true { sleep(60) }
    }

    /// Forgets `url` (it was renamed into place or removed).
    package static func unregister(_ url: URL) {
        lock.withLock { _ = paths.remove(url.path) }
    }

    /// What is registered now, sorted (for tests and diagnostics).
    package static var registered: [String] { lock.withLock { paths.sorted() } }

    /// A new private directory `<tmp>/<prefix>-<random>` (mode 0700), registered.
    package static func makeDirectory(prefix: String) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        register(dir)
        return dir
    }

    /// Removes every registered path now (and forgets them unless `forget` is false).
    package static func removeAll(forget: Bool = true) {
        let list = lock.withLock { () -> [String] in
            let l = paths.sorted()
            if forget { paths.removeAll() }
            return l
        }
        // Deepest first, so a file inside a registered directory goes before the directory.
        for path in list.sorted(by: { $0.count > $1.count }) { try? FileManager.default.removeItem(atPath: path) }
    }

    /// Installs the SIGINT/SIGTERM handling once per process (the CLI does this at start).
    package static func installSignalHandlers() {
        let already = lock.withLock { () -> Bool in
            defer { installed = true }
            return installed
        }
        guard !already else { return }
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { return }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        signalPipe = fds[1]
        let reader = fds[0]
        Threads.detach {
            var byte: UInt8 = 0
            while true {
                let n = read(reader, &byte, 1)
                if n == 1 { break }
                if n < 0, errno == EINTR { continue }
                return
            }
            lock.withLock { terminating = true }
            removeAll(forget: false)
            // A path registered just before the signal may be created by its writer only now
            // (writers that make the file themselves, such as a copy): sweep once more.
            usleep(200_000)
            removeAll(forget: false)
            _exit(128 + Int32(byte))
        }
        for sig in [SIGINT, SIGTERM] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { sig in
                var b = UInt8(truncatingIfNeeded: sig)
                _ = write(signalPipe, &b, 1)
            }
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_RESTART
            sigaction(sig, &action, nil)
        }
        // A parent may start us with these blocked (test runners do); they must arrive.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }
}

nonisolated(unsafe) private var signalPipe: Int32 = -1
