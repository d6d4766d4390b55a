import Foundation

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

/// Runs programs with Foundation's `Process`, resolving the executable on `PATH`.
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
        let process = Process()
        process.executableURL = executable
        process.arguments = Array(arguments.dropFirst())
        if let environment {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        if let workingDirectory { process.currentDirectoryURL = workingDirectory }

        // Output goes to temporary files rather than pipes: a tool that writes more than a pipe
        // buffer to both streams would otherwise deadlock against a sequential reader.
        let tmp = FileManager.default.temporaryDirectory
        let outURL = tmp.appendingPathComponent("unisonctl-\(UUID().uuidString).out")
        let errURL = tmp.appendingPathComponent("unisonctl-\(UUID().uuidString).err")
        guard FileManager.default.createFile(atPath: outURL.path, contents: nil),
            FileManager.default.createFile(atPath: errURL.path, contents: nil)
        else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: tmp.path])
        }
        defer {
            try? FileManager.default.removeItem(at: outURL)
            try? FileManager.default.removeItem(at: errURL)
        }
        let outHandle = try FileHandle(forWritingTo: outURL)
        let errHandle = try FileHandle(forWritingTo: errURL)
        process.standardOutput = outHandle
        process.standardError = errHandle
        let inputPipe = Pipe()
        process.standardInput = input == nil ? FileHandle.nullDevice : inputPipe
        try process.run()
        if let input {
            let writer = inputPipe.fileHandleForWriting
            DispatchQueue.global().async {
                try? writer.write(contentsOf: input)
                try? writer.close()
            }
        }
        process.waitUntilExit()
        try outHandle.close()
        try errHandle.close()
        return ProcessResult(
            status: process.terminationStatus,
            stdout: (try? Data(contentsOf: outURL)) ?? Data(),
            stderr: (try? Data(contentsOf: errURL)) ?? Data())
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
