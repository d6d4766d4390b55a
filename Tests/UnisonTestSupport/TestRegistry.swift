// A real docker-registry (distribution 2.8, Debian's package) started by a test on a free
// 127.0.0.1 port with temporary storage, optionally behind htpasswd Basic auth or serving TLS
// (with client certificates required when given their CA), and killed when the test is done. Reusable by any test target that needs a registry.
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

package final class TestRegistry: @unchecked Sendable {
    package let root: URL
    package let storage: URL
    package let port: Int
    private let process: Process
    private let stopped = Mutex(false)

    /// `127.0.0.1:<port>`.
    package var host: String { "127.0.0.1:\(port)" }

    /// PEM files for a registry that serves HTTPS: its certificate and key, and the CA a
    /// client certificate must come from (none: no client certificate asked for).
    package struct TLS: Sendable {
        package var certificate: String
        package var key: String
        package var clientCA: String?
        package init(certificate: String, key: String, clientCA: String? = nil) {
            self.certificate = certificate
            self.key = key
            self.clientCA = clientCA
        }
    }

    /// Starts `docker-registry serve` with a config written for this test; waits until /v2/
    /// answers. `basicAuth` puts it behind htpasswd (bcrypt, made with `htpasswd -Bbn`); `tls`
    /// makes it serve HTTPS only.
    package static func start(basicAuth: (user: String, password: String)? = nil, tls: TLS? = nil) throws -> TestRegistry {
        var lastError: Error?
        for _ in 0..<5 {
            do { return try TestRegistry(basicAuth: basicAuth, tls: tls) } catch { lastError = error }
        }
        throw lastError!
    }

    private init(basicAuth: (user: String, password: String)?, tls: TLS?) throws {
        let fm = FileManager.default
        root = fm.temporaryDirectory.appendingPathComponent("unisonoci-registry-\(UUID().uuidString)")
        storage = root.appendingPathComponent("storage")
        try fm.createDirectory(at: storage, withIntermediateDirectories: true)
        port = try TestNetwork.freePort()
        var config = """
            version: 0.1
            log:
              level: error
              accesslog:
                disabled: true
            storage:
              filesystem:
                rootdirectory: \(storage.path)
              delete:
                enabled: true
            http:
              addr: 127.0.0.1:\(port)
            """
        if let tls {
            config += """

                  tls:
                    certificate: \(tls.certificate)
                    key: \(tls.key)
                """
            if let clientCA = tls.clientCA {
                config += """

                        clientcas:
                          - \(clientCA)
                    """
            }
        }
        if let basicAuth {
            let htpasswd = try TestProcess.run(["htpasswd", "-Bbn", basicAuth.user, basicAuth.password])
            let file = root.appendingPathComponent("htpasswd")
            try Data(htpasswd.utf8).write(to: file)
            config += """

                auth:
                  htpasswd:
                    realm: unisonctl-test
                    path: \(file.path)
                """
        }
        config += "\n"
        let configURL = root.appendingPathComponent("config.yml")
        try Data(config.utf8).write(to: configURL)

        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/docker-registry")
        process.arguments = ["serve", configURL.path]
        let log = root.appendingPathComponent("registry.log")
        _ = fm.createFile(atPath: log.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: log)
        process.standardError = try FileHandle(forWritingTo: log)
        try process.run()
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            if !process.isRunning {
                let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
                throw TestSupportError("docker-registry exited: \(text.suffix(500))")
            }
            // A TLS listener answers a plain-HTTP request with 400 ("an HTTP request to an HTTPS server").
            if let status = TestNetwork.httpStatus(port: port, path: "/v2/"), status == 200 || status == 401 || (tls != nil && status == 400) {
                return
            }
            usleep(50_000)
        }
        stop()
        throw TestSupportError("docker-registry did not answer on 127.0.0.1:\(port)")
    }

    /// The blob file inside the registry's storage (for corrupting content on purpose).
    package func storedBlob(_ hex: String) -> URL {
        storage.appendingPathComponent("docker/registry/v2/blobs/sha256/\(hex.prefix(2))/\(hex)/data")
    }

    package func stop() {
        let first = stopped.withLock { stopped in
            defer { stopped = true }
            return !stopped
        }
        guard first else { return }
        process.killAndWait()
        try? FileManager.default.removeItem(at: root)
    }

    deinit { stop() }
}

package struct TestSupportError: Error, CustomStringConvertible {
    package let description: String
    package init(_ description: String) { self.description = description }
}

package enum TestNetwork {
    /// A port nobody listens on right now (bound to 127.0.0.1:0, then released).
    package static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestSupportError("socket() failed") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        guard bound == 0 else { throw TestSupportError("bind() failed") }
        let named = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        guard named == 0 else { throw TestSupportError("getsockname() failed") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    /// A TCP socket connected to 127.0.0.1:port (the caller closes it), nil when nothing listens.
    package static func connectLoopback(port: Int) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            return nil
        }
        return fd
    }

    /// The status code of `GET path` on 127.0.0.1:port, nil when nothing answers.
    package static func httpStatus(port: Int, path: String) -> Int? {
        guard let fd = connectLoopback(port: port) else { return nil }
        defer { close(fd) }
        let request = "GET \(path) HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n"
        _ = request.withCString { send(fd, $0, strlen($0), 0) }
        var buffer = [UInt8](repeating: 0, count: 64)
        let n = recv(fd, &buffer, buffer.count, 0)
        guard n > 12 else { return nil }
        let line = String(decoding: buffer[0..<n], as: UTF8.self)
        let parts = line.split(separator: " ")
        return parts.count > 1 ? Int(parts[1]) : nil
    }
}

/// Runs a tool and returns its stdout, failing the test on a non-zero exit.
package enum TestProcess {
    /// Starts a helper server (`arguments`, stderr to `stderr`) and returns it with the first
    /// line it prints on stdout (how our Python stand-ins announce their ports), without the
    /// newline; empty when it exits first. The caller parses the line and stops the process.
    package static func startAnnouncing(_ arguments: [String], stderr: FileHandle = .nullDevice) throws -> (Process, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = stderr
        try process.run()
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let byte = out.fileHandleForReading.readData(ofLength: 1)
            if byte.isEmpty { break }
            line.append(byte)
        }
        return (process, String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    @discardableResult
    package static func run(_ arguments: [String], environment: [String: String] = [:], input: Data? = nil, cwd: URL? = nil) throws -> String {
        let result = try runStatus(arguments, environment: environment, input: input, cwd: cwd)
        guard result.status == 0 else {
            throw TestSupportError("\(arguments.joined(separator: " ")) exited \(result.status): \(result.stderr.suffix(2000))")
        }
        return result.stdout
    }

    package static func runStatus(
        _ arguments: [String], environment: [String: String] = [:], input: Data? = nil,
        cwd: URL? = nil
    ) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["NO_COLOR"] = "1"
        env["UNISONCTL_QUIET"] = "1"
        for (k, v) in environment { env[k] = v }
        process.environment = env
        if let cwd { process.currentDirectoryURL = cwd }
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("unisonoci-proc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: tmp) }
        let out = tmp.appendingPathComponent("out"), err = tmp.appendingPathComponent("err")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        if let input {
            let inFile = tmp.appendingPathComponent("in")
            try input.write(to: inFile)
            process.standardInput = try FileHandle(forReadingFrom: inFile)
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        try process.run()
        process.waitUntilExit()
        return (
            process.terminationStatus, String(decoding: try Data(contentsOf: out), as: UTF8.self),
            String(decoding: try Data(contentsOf: err), as: UTF8.self)
        )
    }

    /// Runs a tool with stdout and stderr in one stream (the order a terminal shows), in the
    /// test's own environment; for tools whose messages a test only prints or searches.
    package static func runMerged(_ arguments: [String], cwd: URL? = nil) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        if let cwd { process.currentDirectoryURL = cwd }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
