import CSpawn
import FoundationEssentials
import Glibc
import Synchronization

/// A child process started with `posix_spawn`, in place of full Foundation's `Process`. Its
/// standard streams are file descriptors the caller opened (or /dev/null); the child gets them as
/// 0, 1 and 2 and inherits nothing else. Our own descriptors are O_CLOEXEC, and the child also
/// closes every descriptor from 3 up before it runs the program, so one a library or another
/// thread opened without O_CLOEXEC (a registry credential file, a script being written) never
/// leaks into a long-lived child such as QEMU (where a script's write descriptor would make
/// every later exec of it fail with ETXTBSY).
package final class ChildProcess: @unchecked Sendable {
    package let pid: pid_t
    private let termination = Mutex<Termination?>(nil)

    /// Starts `executable` with `arguments` (argv[0] is the executable's path). `environment`
    /// replaces the whole environment when given; `workingDirectory` is entered in the child.
    package init(
        executable: String, arguments: [String], environment: [String: String]? = nil,
        workingDirectory: String? = nil, stdin: Int32? = nil, stdout: Int32? = nil, stderr: Int32? = nil
    ) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (fd, target) in [(stdin, STDIN_FILENO), (stdout, STDOUT_FILENO), (stderr, STDERR_FILENO)] {
            if let fd {
                posix_spawn_file_actions_adddup2(&actions, fd, target)
            } else {
                posix_spawn_file_actions_addopen(&actions, target, "/dev/null", target == STDIN_FILENO ? O_RDONLY : O_WRONLY, 0)
            }
        }
        // After the dup2s, which read their sources from the descriptors it closes.
        unison_spawn_file_actions_addclosefrom(&actions, 3)
        if let workingDirectory { unison_spawn_file_actions_addchdir(&actions, workingDirectory) }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // The child starts with default signal handling and an empty mask, whatever ours are.
        var all = sigset_t()
        sigfillset(&all)
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let env = environment ?? ProcessInfo.processInfo.environment
        let envp = env.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { envp.forEach { free($0) } }

        var child: pid_t = 0
        let rc = posix_spawn(&child, executable, &actions, &attributes, argv, envp)
        guard rc == 0 else { throw FileIOError.system(operation: "spawn", path: executable, errno: rc) }
        pid = child
    }

    /// How a finished child ended.
    package enum Termination: Sendable, Equatable {
        case exited(Int32)
        case signalled(Int32)

        /// The exit status, or the signal number that ended it (what Foundation's
        /// `terminationStatus` reported).
        package var status: Int32 {
            switch self {
            case .exited(let code), .signalled(let code): code
            }
        }

        /// The exit status, or 128 + the signal number (a shell's `$?`).
        package var shellStatus: Int32 {
            switch self {
            case .exited(let code): code
            case .signalled(let signal): 128 + signal
            }
        }
    }

    /// Waits for the child and returns its exit status, or the signal number that ended it.
    @discardableResult
    package func wait() -> Int32 { waitForTermination().status }

    /// Waits for the child and returns how it ended.
    package func waitForTermination() -> Termination {
        if let known = termination.withLock({ $0 }) { return known }
        var raw: Int32 = 0
        while waitpid(pid, &raw, 0) < 0 && errno == EINTR {}
        let result = Self.decode(raw)
        return termination.withLock {
            $0 = $0 ?? result; return $0!
        }
    }

    /// The exit status if the child has ended, without waiting.
    package func poll() -> Int32? { pollTermination()?.status }

    /// How the child ended, if it has, without waiting.
    package func pollTermination() -> Termination? {
        if let known = termination.withLock({ $0 }) { return known }
        var raw: Int32 = 0
        guard waitpid(pid, &raw, WNOHANG) == pid else { return termination.withLock { $0 } }
        let result = Self.decode(raw)
        return termination.withLock {
            $0 = $0 ?? result; return $0
        }
    }

    package var isRunning: Bool { poll() == nil }

    package func signal(_ number: Int32) {
        if termination.withLock({ $0 }) == nil { kill(pid, number) }
    }

    private static func decode(_ raw: Int32) -> Termination {
        let signal = raw & 0x7F
        return signal == 0 ? .exited((raw >> 8) & 0xFF) : .signalled(signal)
    }
}
