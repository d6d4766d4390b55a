import Foundation
import Testing

/// Generated workflows are read back by actionlint and zizmor, neither of them ours.
@Suite struct CIWorkflowCLITests {
    static let services = ["orchestrator", "auth", "io-speech", "updates"]

    @Test(arguments: services)
    func serviceWorkflowPassesActionlintAndZizmor(service: String) throws {
        let dir = try CLI.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let workflows = dir.appendingPathComponent(".github/workflows")
        let file = workflows.appendingPathComponent("publish.yml")
        let r = try CLI.run(["ci", "workflow", "--service", service, "--output", file.path])
        #expect(r.status == 0, "\(r.stderr)")
        let text = try String(contentsOf: file, encoding: .utf8)
        #expect(text.contains("unisonctl release tags --service \(service)"))
        #expect(text.contains("packages: write"))
        #expect(text.contains("\"release/*\""))
        let lint = try run(["actionlint", "-no-color", file.path], cwd: dir)
        #expect(lint.status == 0, "actionlint: \(lint.output)")
        let audit = try run(["zizmor", "--offline", "--no-progress", file.path], cwd: dir)
        #expect(audit.status == 0, "zizmor: \(audit.output)")
    }

    @Test func unknownServiceIsBadInput() throws {
        let r = try CLI.run(["ci", "workflow", "--service", "no-such-service"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("unknown service 'no-such-service'"))
    }

    private func run(_ args: [String], cwd: URL) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = args
        p.currentDirectoryURL = cwd
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
