import Foundation
import Testing
import UnisonCore
import UnisonSpec
import UnisonTestSupport

@testable import UnisonOps

@Suite("First boot's stack gate", .tags(.unit))
struct StackGateTests {
    @Test("the loader's note names the service and the image; the gate fails at once with it and writes its status")
    func loadFailure() throws {
        let root = try OpsFixture.tempDir("stack-gate")
        defer { try? FileManager.default.removeItem(at: root) }
        let spec = try OpsFixture.spec(OpsFixture.specText(services: [(name: "web", port: 1, health: "/health", healthCommand: nil)]))
        let store = root.appendingPathComponent("var/lib/unison/images")
        try FileManager.default.createDirectory(at: store, withIntermediateDirectories: true)
        try Data("ollama: image docker.io/x/y:1: blob sha256:ab is missing or does not match its digest\n".utf8)
            .write(to: store.appendingPathComponent("load-failed"))
        let gate = StackGate(spec: spec, root: root, timeout: 30, interval: 1)
        let started = Date()
        let report = gate.run()
        #expect(Date().timeIntervalSince(started) < 25, "a failed load must not wait for the timeout")
        #expect(!report.ok)
        #expect(report.finalLine == "UNISONOS-STACK-FAILED: ollama: image docker.io/x/y:1: blob sha256:ab is missing or does not match its digest")
        let status =
            try JSONSerialization.jsonObject(with: Data(contentsOf: root.appendingPathComponent("var/lib/unison/stack-status.json")))
            as? [String: Any]
        #expect(status?["schema"] as? String == "unisonctl.stack-status/v1")
        #expect(status?["service"] as? String == "ollama")
    }

    @Test(
        "healthy services pass; the first unhealthy one is named with its state",
        arguments: [
            ([ServiceHealth(name: "a", url: nil, state: .healthy, status: 200, detail: "")], nil as String?),
            (
                [
                    ServiceHealth(name: "a", url: nil, state: .healthy, status: 200, detail: ""),
                    ServiceHealth(name: "b", url: nil, state: .refused, status: nil, detail: "connection refused"),
                ], "b: refused: connection refused"
            ),
            ([], "stack: no service to check"),
        ])
    func firstFailure(services: [ServiceHealth], expected: String?) {
        let failure = StackGate.firstFailure(HealthReport(services: services, attempts: 1))
        #expect(failure.map { "\($0.service): \($0.reason)" } == expected)
    }
}
