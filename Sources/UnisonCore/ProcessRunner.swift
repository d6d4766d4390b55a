import FoundationEssentials
import Glibc

/// The outcome of one finished child process.
package struct ProcessResult: Sendable {
    package var status: Int32
    package var stdout: Data
    package var stderr: Data

    package init(status: Int32, stdout: Data, stderr: Data) {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
    }

    package var stdoutString: String { String(decoding: stdout, as: UTF8.self) }
    package var stderrString: String { String(decoding: stderr, as: UTF8.self) }
}

/// A failed or unstartable external tool, with the command line that failed.
package enum ProcessError: Error, CustomStringConvertible, Sendable {
    case notFound(tool: String, hint: String?)
    case failed(command: [String], status: Int32, stderr: String)

    package var description: String {
        switch self {
        case let .notFound(tool, hint):
            return "required tool '\(tool)' was not found on PATH" + (hint.map { " (\($0))" } ?? "")
        case let .failed(command, status, stderr):
            let tail = stderr.split(separator: "\n").suffix(8).joined(separator: "\n")
            return "'\(command.joined(separator: " "))' exited with status \(status)"
                + (tail.isEmpty ? "" : ":\n\(tail)")
        }
    }
}

/// Runs external programs. Behind a protocol so logic that shells out can be tested with a fake.
package protocol ProcessRunner: Sendable {
    func run(_ arguments: [String], environment: [String: String]?, input: Data?, workingDirectory: URL?) throws -> ProcessResult
}

extension ProcessRunner {
    package func run(
        _ arguments: [String], environment: [String: String]? = nil, input: Data? = nil,
        workingDirectory: URL? = nil
    ) throws -> ProcessResult {
        try run(arguments, environment: environment, input: input, workingDirectory: workingDirectory)
    }

    /// Runs and throws `ProcessError.failed` on a non-zero exit.
    @discardableResult
    package func check(
        _ arguments: [String], environment: [String: String]? = nil, input: Data? = nil,
        workingDirectory: URL? = nil
    ) throws -> ProcessResult {
        let result = try run(arguments, environment: environment, input: input, workingDirectory: workingDirectory)
        guard result.status == 0 else {
            throw ProcessError.failed(command: arguments, status: result.status, stderr: result.stderrString)
        }
        return result
    }
}

/// Runs programs with `posix_spawn` (ChildProcess), resolving the executable on `PATH`.
package struct SystemProcessRunner: ProcessRunner {
    package init() {}

    package func run(
        _ arguments: [String], environment: [String: String]?, input: Data?,
        workingDirectory: URL?
    ) throws -> ProcessResult {
        precondition(!arguments.isEmpty, "a command needs at least the program name")
        guard let executable = Self.which(arguments[0]) else {
            throw ProcessError.notFound(tool: arguments[0], hint: ToolHints.hint(for: arguments[0]))
        }
        // Output goes to temporary files rather than pipes: a tool that writes more than a pipe
        // buffer to both streams would otherwise deadlock against a sequential reader. Input comes
        // from a temporary file too, so no writer thread is needed.
        let tmp = FileManager.default.temporaryDirectory
        let stem = tmp.appendingPathComponent("unisonctl-\(UUID().uuidString)").path
        let outFD = try Self.createTemporary(stem + ".out")
        defer { close(outFD); unlink(stem + ".out") }
        let errFD = try Self.createTemporary(stem + ".err")
        defer { close(errFD); unlink(stem + ".err") }
        var inFD: Int32?
        if let input {
            let fd = try Self.createTemporary(stem + ".in")
            unlink(stem + ".in")
            inFD = fd
            try FileIO(fileDescriptor: fd).write(contentsOf: input)
            lseek(fd, 0, SEEK_SET)
        }
        defer { if let inFD { close(inFD) } }

        let merged = environment.map { ProcessInfo.processInfo.environment.merging($0) { $1 } }
        let child = try ChildProcess(
            executable: executable.path, arguments: Array(arguments.dropFirst()), environment: merged,
            workingDirectory: workingDirectory?.path, stdin: inFD, stdout: outFD, stderr: errFD)
        let status = child.wait()
        return ProcessResult(
            status: status,
            stdout: (try? Data(contentsOf: URL(fileURLWithPath: stem + ".out"))) ?? Data(),
            stderr: (try? Data(contentsOf: URL(fileURLWithPath: stem + ".err"))) ?? Data())
    }

    /// Creates `path` for reading and writing, owner-only, failing if it exists.
    private static func createTemporary(_ path: String) throws -> Int32 {
        let fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw FileIOError.system(operation: "create", path: path, errno: errno) }
        return fd
    }

    /// The first executable named `name` on `PATH` (plus the sbin directories, which Debian
    /// leaves off a normal user's PATH although mke2fs, sgdisk and friends live there).
    package static func which(_ name: String) -> URL? {
        if name.contains("/") {
            return FileManager.default.isExecutableFile(atPath: name) ? URL(fileURLWithPath: name) : nil
        }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        let dirs = path.split(separator: ":").map(String.init) + ["/usr/local/sbin", "/usr/sbin", "/sbin"]
        for dir in dirs {
            let candidate = URL(fileURLWithPath: dir).appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return nil
    }
}

/// Where each external tool the project calls comes from, for errors and `doctor --build`.
package enum ToolHints {
    package static let packages: [String: String] = [
        "mke2fs": "e2fsprogs", "e2fsck": "e2fsprogs", "debugfs": "e2fsprogs",
        "qemu-img": "qemu-utils", "qemu-system-x86_64": "qemu-system-x86",
        "xorriso": "xorriso", "mmdebstrap": "mmdebstrap", "skopeo": "skopeo",
        "docker-registry": "docker-registry", "sgdisk": "gdisk", "fsck.vfat": "dosfstools",
        "mdir": "mtools", "mcopy": "mtools", "shellcheck": "shellcheck", "bsdtar": "libarchive-tools",
        "systemd-analyze": "systemd", "git": "git", "cpio": "cpio", "busybox": "busybox-static",
        "zstd": "zstd", "xz": "xz-utils", "pigz": "pigz", "htpasswd": "apache2-utils",
    ]

    package static func hint(for tool: String) -> String? {
        packages[tool].map { "install it with: apt-get install \($0)" }
    }
}
