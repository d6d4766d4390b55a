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

    @Test func platformReleaseWorkflowPassesActionlintAndZizmor() throws {
        let dir = try CLI.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent(".github/workflows/release.yml")
        let r = try CLI.run(["ci", "workflow", "--platform", "--output", file.path])
        #expect(r.status == 0, "\(r.stderr)")
        let text = try String(contentsOf: file, encoding: .utf8)
        // Every channel's tag pattern triggers it; the README's commands build and check.
        #expect(text.contains("tags: [\"v*.*.*-beta.*\", \"v*.*.*\"]"))
        #expect(text.contains("scripts/build.sh") && text.contains("scripts/check-artifacts.sh"))
        #expect(text.contains("release promote --version"))
        #expect(text.contains("--matrix unison-docs/dev/compatibility-matrix.md --resolve-digests"))
        #expect(text.contains("oci push-artifact \"ghcr.io/project-unisonos/unison-platform:$VERSION\""))
        #expect(!text.contains("run: ${{"), "no expression is expanded inside a script")
        let lint = try run(["actionlint", "-no-color", file.path], cwd: dir)
        #expect(lint.status == 0, "actionlint: \(lint.output)")
        let audit = try run(["zizmor", "--offline", "--no-progress", file.path], cwd: dir)
        #expect(audit.status == 0, "zizmor: \(audit.output)")
    }

    @Test func serviceOrPlatformButNotBoth() throws {
        #expect(try CLI.run(["ci", "workflow"]).status == 2)
        let both = try CLI.run(["ci", "workflow", "--platform", "--service", "auth"])
        #expect(both.status == 2)
        #expect(both.stderr.contains("either --service NAME or --platform"))
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
