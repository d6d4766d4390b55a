// Starts the python3 fault proxy (`FaultProxy+Script.swift`) on 127.0.0.1 in front of a
// registry and reads its counters.
import Foundation

#if canImport(Glibc)
import Glibc
#endif

package final class FaultProxy: @unchecked Sendable {
    package struct Fault: Encodable {
        package enum Action: String, Encodable { case status, drop_before, drop_after_forward, drop_mid_body, corrupt_body }
        package var method: String
        package var path_contains: String = ""
        /// Which matching requests (1-based) get the fault.
        package var nth: [Int]
        package var action: Action
        package var status: Int?

        package init(method: String, path_contains: String = "", nth: [Int], action: Action, status: Int? = nil) {
            self.method = method
            self.path_contains = path_contains
            self.nth = nth
            self.action = action
            self.status = status
        }
    }

    package struct TokenAuth: Encodable {
        package var user: String
        package var password: String
        /// Requests a token may authorize before it "expires" (401 again).
        package var max_uses: Int

        package init(user: String, password: String, max_uses: Int) {
            self.user = user
            self.password = password
            self.max_uses = max_uses
        }
    }

    package struct Config: Encodable {
        package var upstream: String
        package var enforce_content_range = true
        package var faults: [Fault] = []
        package var token_auth: TokenAuth?
        package var redirect_blob_gets = false

        package init(
            upstream: String, enforce_content_range: Bool = true, faults: [Fault] = [], token_auth: TokenAuth? = nil,
            redirect_blob_gets: Bool = false
        ) {
            self.upstream = upstream
            self.enforce_content_range = enforce_content_range
            self.faults = faults
            self.token_auth = token_auth
            self.redirect_blob_gets = redirect_blob_gets
        }
    }

    package struct Stats: Decodable {
        package var blob_upload_bytes: Int64
        package var patch_bytes: Int64
        package var put_blob_bytes: Int64
        package var manifest_put_bytes: Int64
        package var requests: [String]
        package var faults_fired: Int
        package var auth_on_redirect: Int
        package var redirected: Int
        package var range_rejections: Int
        package var tokens_issued: Int
    }

    package let port: Int
    private let process: Process
    private let dir: URL
    private let lock = NSLock()
    private var stopped = false

    package var host: String { "127.0.0.1:\(port)" }

    package init(_ config: Config) throws {
        dir = try TempDir.create("proxy")
        let script = dir.appendingPathComponent("fault_proxy.py")
        try Data(FaultProxyScript.source.utf8).write(to: script)
        let configURL = dir.appendingPathComponent("config.json")
        try JSONEncoder().encode(config).write(to: configURL)
        let log = dir.appendingPathComponent("proxy.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        // The first line is "PORT <n>".
        let text: String
        (process, text) = try TestProcess.startAnnouncing(
            ["python3", script.path, configURL.path], stderr: try FileHandle(forWritingTo: log))
        guard text.hasPrefix("PORT "), let port = Int(text.dropFirst(5)) else {
            process.terminate()
            throw TestSupportError("fault proxy did not start: \(text) \((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
        }
        self.port = port
    }

    package func stats() throws -> Stats {
        guard let body = TestNetwork.httpBody(port: port, path: "/__stats") else { throw TestSupportError("no stats from the fault proxy") }
        return try JSONDecoder().decode(Stats.self, from: body)
    }

    package func stop() {
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
    package static func httpBody(port: Int, path: String) -> Data? {
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
