// Starts the python3 fault proxy (`FaultProxy+Script.swift`) on 127.0.0.1 in front of a
// registry and reads its counters.
import Foundation

#if canImport(Glibc)
import Glibc
import UnisonTestSupport
#endif

final class FaultProxy: @unchecked Sendable {
    struct Fault: Encodable {
        enum Action: String, Encodable { case status, drop_before, drop_after_forward, drop_mid_body, corrupt_body }
        var method: String
        var path_contains: String = ""
        /// Which matching requests (1-based) get the fault.
        var nth: [Int]
        var action: Action
        var status: Int?
    }

    struct TokenAuth: Encodable {
        var user: String
        var password: String
        /// Requests a token may authorize before it "expires" (401 again).
        var max_uses: Int
    }

    struct Config: Encodable {
        var upstream: String
        var enforce_content_range = true
        var faults: [Fault] = []
        var token_auth: TokenAuth?
        var redirect_blob_gets = false
    }

    struct Stats: Decodable {
        var blob_upload_bytes: Int64
        var patch_bytes: Int64
        var put_blob_bytes: Int64
        var manifest_put_bytes: Int64
        var requests: [String]
        var faults_fired: Int
        var auth_on_redirect: Int
        var redirected: Int
        var range_rejections: Int
        var tokens_issued: Int
    }

    let port: Int
    private let process: Process
    private let dir: URL
    private let lock = NSLock()
    private var stopped = false

    var host: String { "127.0.0.1:\(port)" }

    init(_ config: Config) throws {
        dir = try TempDir.create("proxy")
        let script = dir.appendingPathComponent("fault_proxy.py")
        try Data(FaultProxyScript.source.utf8).write(to: script)
        let configURL = dir.appendingPathComponent("config.json")
        try JSONEncoder().encode(config).write(to: configURL)
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, configURL.path]
        let out = Pipe()
        process.standardOutput = out
        let log = dir.appendingPathComponent("proxy.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: log)
        try process.run()
        // The first line is "PORT <n>".
        var line = Data()
        let handle = out.fileHandleForReading
        while !line.contains(UInt8(ascii: "\n")) {
            let byte = handle.readData(ofLength: 1)
            if byte.isEmpty { break }
            line.append(byte)
        }
        let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.hasPrefix("PORT "), let port = Int(text.dropFirst(5)) else {
            process.terminate()
            throw TestSupportError("fault proxy did not start: \(text) \((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
        }
        self.port = port
    }

    func stats() throws -> Stats {
        guard let body = TestNetwork.httpBody(port: port, path: "/__stats") else { throw TestSupportError("no stats from the fault proxy") }
        return try JSONDecoder().decode(Stats.self, from: body)
    }

    func stop() {
        lock.lock()
        defer { lock.unlock() }
        guard !stopped else { return }
        stopped = true
        if process.isRunning {
            // SIGKILL: the test runner spawns children with SIGTERM blocked.
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: dir)
    }

    deinit { stop() }
}

extension TestNetwork {
    /// The body of `GET path` (HTTP/1.0, read until the server closes).
    static func httpBody(port: Int, path: String) -> Data? {
        guard let fd = connectLoopback(port: port) else { return nil }
        defer { close(fd) }
        let request = "GET \(path) HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        _ = request.withCString { send(fd, $0, strlen($0), 0) }
        var response = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        var headerEnd: Int?
        var contentLength: Int?
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            response.append(contentsOf: buffer[0..<n])
            if headerEnd == nil, let r = response.range(of: Data("\r\n\r\n".utf8)) {
                headerEnd = r.upperBound
                let head = String(decoding: response[..<r.lowerBound], as: UTF8.self)
                for line in head.split(separator: "\r\n") where line.lowercased().hasPrefix("content-length:") {
                    contentLength = Int(line.split(separator: ":")[1].trimmingCharacters(in: .whitespaces))
                }
            }
            if let headerEnd, let contentLength, response.count >= headerEnd + contentLength { break }
        }
        guard let headerEnd else { return nil }
        return response.subdata(in: headerEnd..<response.count)
    }
}
