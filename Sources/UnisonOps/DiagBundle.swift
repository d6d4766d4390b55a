// A support bundle, `unison-diag-<host>-<UTC time>.tar.gz`: one top directory named like the
// file, holding what the collectors gathered plus
//
//   manifest.json   schema "unisonctl.diag/v1": every other file with size and SHA-256, and
//                   each collector's outcome (ok, missing tool, failed, timed out, truncated)
//   SHA256SUMS      `<hex>  <path>` lines for every file but itself, for `sha256sum -c`
//                   run inside the extracted directory
//
// Secrets never enter it (DiagRedaction). Each collector runs on its own thread with a
// deadline and a size cap; one that fails or hangs is recorded and the bundle goes on.
import Dispatch
import FoundationEssentials
import Glibc
import Synchronization
import UnisonArchive
import UnisonCore
import UnisonInstall
import UnisonSpec

package struct DiagOptions: Sendable {
    /// The bundle file, or a directory to put the default-named bundle in (default: the current directory).
    package var output: URL?
    /// The spec file in use (copied in, scrubbed); nil: the installed copy when there is one.
    package var specFile: URL?
    package var collectorTimeout: TimeInterval
    package var maxBytesPerFile: Int
    package var hostName: String?
    package var memInfoPath: String
    package var osReleasePath: String?

    package init(
        output: URL? = nil, specFile: URL? = nil, collectorTimeout: TimeInterval = 20, maxBytesPerFile: Int = 2 << 20,
        hostName: String? = nil, memInfoPath: String = "/proc/meminfo", osReleasePath: String? = nil
    ) {
        self.output = output
        self.specFile = specFile
        self.collectorTimeout = collectorTimeout
        self.maxBytesPerFile = maxBytesPerFile
        self.hostName = hostName
        self.memInfoPath = memInfoPath
        self.osReleasePath = osReleasePath
    }
}

/// How one collector went.
package struct DiagCollectorResult: Sendable, Codable, Equatable {
    package enum Status: String, Sendable, Codable { case ok, missing, failed, timeout }
    package var name: String
    package var status: Status
    package var detail: String?
    package var files: [String]
    package var truncated: Bool
    package var milliseconds: Int
}

package struct DiagManifest: Sendable, Codable, Equatable {
    package struct File: Sendable, Codable, Equatable {
        package var path: String
        package var size: Int
        package var sha256: String
    }

    package var schema = "unisonctl.diag/v1"
    package var name: String
    package var created: String
    package var host: String
    package var unisonctl: String
    package var root: String
    package var files: [File]
    package var collectors: [DiagCollectorResult]
}

/// What `diag` wrote, for the CLI.
package struct DiagResult: Sendable, Codable, Equatable {
    package var schema = "unisonctl.diag-result/v1"
    package var bundle: String
    package var bytes: Int64
    package var sha256: String
    package var files: Int
    package var collectors: [DiagCollectorResult]
}

package enum DiagError: Error, CustomStringConvertible, Sendable, ExitCoded {
    case badOutput(path: String, reason: String)
    case writeFailed(path: String, reason: String)

    package var exitStatus: ExitStatus {
        switch self {
        case .badOutput: return .badInput
        case .writeFailed: return .checkFailed
        }
    }

    package var description: String {
        switch self {
        case let .badOutput(path, reason): return "--output '\(path)': \(reason)"
        case let .writeFailed(path, reason): return "cannot write the bundle '\(path)': \(reason)"
        }
    }
}

package struct DiagBundle: Sendable {
    package var control: StackControl
    package var options: DiagOptions
    package var clock: any WallClock

    package init(control: StackControl, options: DiagOptions = DiagOptions(), clock: any WallClock = SystemClock()) {
        self.control = control
        self.options = options
        self.clock = clock
    }

    /// `[A-Za-z0-9.-]`, at most 63 characters, never empty or dot-leading: safe in a file name.
    package static func safeHostName(_ raw: String) -> String {
        var s = String(raw.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == ".") ? $0 : "-" }.prefix(63))
        while s.hasPrefix(".") || s.hasPrefix("-") { s.removeFirst() }
        return s.isEmpty ? "host" : s
    }

    package static func systemHostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "host" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// `unison-diag-<host>-<yyyyMMdd'T'HHmmss'Z'>`.
    package static func bundleName(host: String, date: Date) -> String {
        let t = UTCTime(date)
        let stamp = "\(t.digits(t.year, 4))\(t.digits(t.month))\(t.digits(t.day))T\(t.digits(t.hour))\(t.digits(t.minute))\(t.digits(t.second))Z"
        return "unison-diag-\(safeHostName(host))-\(stamp)"
    }

    /// Where the bundle goes: `--output` as a file, or the default name inside a directory.
    func destination(name: String) throws -> URL {
        let fm = FileManager.default
        guard let output = options.output else {
            return URL(fileURLWithPath: fm.currentDirectoryPath).appendingPathComponent(name + ".tar.gz")
        }
        var isDir = false
        if fm.fileExists(atPath: output.path, isDirectory: &isDir), isDir {
            return output.appendingPathComponent(name + ".tar.gz")
        }
        if output.hasDirectoryPath { throw DiagError.badOutput(path: output.path, reason: "the directory does not exist") }
        let parent = output.deletingLastPathComponent()
        guard fm.fileExists(atPath: parent.path, isDirectory: &isDir), isDir else {
            throw DiagError.badOutput(path: output.path, reason: "its directory \(parent.path) does not exist")
        }
        return output
    }

    /// Gathers everything, writes the bundle atomically (mode 0600) and returns where it is.
    package func write() throws -> DiagResult {
        let now = clock.now()
        let name = Self.bundleName(host: options.hostName ?? Self.systemHostName(), date: now)
        let url = try destination(name: name)

        var redaction = DiagRedaction(spec: control.spec)
        if case let .text(env) = DiagCollectors.readFile(root: control.root, hostPath: control.hostPath(control.layout.envFile)) {
            redaction.learn(envText: env)
        }
        let collectors = DiagCollectors(control: control, options: options, redaction: redaction)
        var files: [(path: String, data: Data)] = []
        var results: [DiagCollectorResult] = []
        for collector in collectors.all() {
            let (result, produced) = run(collector, redaction: redaction)
            results.append(result)
            files += produced
        }

        files.sort { $0.path < $1.path }
        let manifest = DiagManifest(
            name: name, created: UTCTime(now).internetDateTime, host: Self.safeHostName(options.hostName ?? Self.systemHostName()),
            unisonctl: ToolVersion.current, root: control.root.path,
            files: files.map { .init(path: $0.path, size: $0.data.count, sha256: SHA256Hex.hex($0.data)) },
            collectors: results)
        let manifestData = try JSONOutput.encoder().encode(manifest) + Data("\n".utf8)
        files.append(("manifest.json", manifestData))
        files.sort { $0.path < $1.path }
        let sums = files.map { "\(SHA256Hex.hex($0.data))  \($0.path)\n" }.joined()
        files.append(("SHA256SUMS", Data(sums.utf8)))

        var tree = FileTree(rootMtime: Int64(now.timeIntervalSince1970))
        let mtime = Int64(now.timeIntervalSince1970)
        do {
            try tree.addDirectory(name, mode: 0o755, mtime: mtime)
            for file in files {
                let path = name + "/" + file.path
                var dir = PathText.parent(path)
                var missing: [String] = []
                while !dir.isEmpty, dir != name, !tree.contains(dir) { missing.append(dir); dir = PathText.parent(dir) }
                for d in missing.reversed() { try tree.addDirectory(d, mode: 0o755, mtime: mtime) }
                try tree.addFile(path, file.data, mode: 0o644, mtime: mtime)
            }
            try AtomicFile.write(to: url, permissions: 0o600) { tmp in
                let sink = try ParallelGzipSink(FileSink(tmp))
                try tree.writeTar(to: sink)
            }
        } catch {
            throw DiagError.writeFailed(path: url.path, reason: "\(error)")
        }
        let (hex, size) = try SHA256Hex.file(url)
        return DiagResult(bundle: url.path, bytes: size, sha256: hex, files: files.count, collectors: results)
    }

    /// Runs one collector on its own thread, bounded by the deadline and the size cap.
    func run(_ collector: DiagCollector, redaction: DiagRedaction) -> (DiagCollectorResult, [(path: String, data: Data)]) {
        let started = Date()
        let box = CollectorBox()
        let done = DispatchSemaphore(value: 0)
        let body = collector.body
        Threads.detach {
            box.set(body())
            done.signal()
        }
        let ms = { Int(Date().timeIntervalSince(started) * 1000) }
        guard done.wait(timeout: .now() + options.collectorTimeout) == .success, let output = box.value else {
            let note = "collector '\(collector.name)' did not finish within \(Int(options.collectorTimeout)) s; its output is left out\n"
            return (
                DiagCollectorResult(
                    name: collector.name, status: .timeout, detail: "gave up after \(Int(options.collectorTimeout)) s",
                    files: ["errors/\(collector.name).txt"], truncated: false, milliseconds: ms()),
                [("errors/\(collector.name).txt", Data(note.utf8))]
            )
        }
        var truncated = false
        var files: [(String, Data)] = []
        for (path, data) in output.files {
            // Whatever a collector gathered, a secret value from the env file never passes.
            var d = redaction.scrub(data)
            if d.count > options.maxBytesPerFile {
                truncated = true
                let cut = d.count - options.maxBytesPerFile
                // Logs matter most at their end: keep the tail.
                d = Data("[unisonctl diag: first \(cut) bytes cut; \(options.maxBytesPerFile) bytes kept]\n".utf8) + d.suffix(options.maxBytesPerFile)
            }
            files.append((path, d))
        }
        return (
            DiagCollectorResult(
                name: collector.name, status: output.status, detail: output.detail.map { String($0.prefix(500)) },
                files: files.map(\.0), truncated: truncated, milliseconds: ms()), files
        )
    }
}

/// A named collector: produces files (paths relative to the bundle directory) and a status.
struct DiagCollector: Sendable {
    struct Output: Sendable {
        var status: DiagCollectorResult.Status
        var detail: String?
        var files: [(String, Data)]
    }

    var name: String
    var body: @Sendable () -> Output
}

private final class CollectorBox: Sendable {
    private let stored = Mutex<DiagCollector.Output?>(nil)
    func set(_ v: DiagCollector.Output) { stored.withLock { $0 = v } }
    var value: DiagCollector.Output? { stored.withLock { $0 } }
}
