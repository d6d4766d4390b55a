// `unisonctl health` against the health-check servers on 127.0.0.1: moved whole from
// UnisonOpsTests/HealthTests.swift.
import Foundation
import Testing
import UnisonCore
import UnisonTestSupport

@Suite("health against real HTTP servers on 127.0.0.1 (unisonctl)", .serialized, .tags(.interop))
struct HealthCLITests {
    @Test("unisonctl health --json: schema, states and exit codes 1 and 0")
    func cli() throws {
        let servers = try HealthServers(["ok", "fail"])
        defer { servers.stop() }
        let dir = try OpsFixture.tempDir("health-cli")
        defer { try? FileManager.default.removeItem(at: dir) }
        let specURL = dir.appendingPathComponent("unison.yaml")
        try Data(
            OpsFixture.specText(services: [
                ("good", servers.ports["ok"]!, "/health", nil),
                ("bad", servers.ports["fail"]!, "/health", nil),
            ]).utf8
        ).write(to: specURL)
        let r = try OpsCLI.run(["health", "--spec", specURL.path, "--json", "--request-timeout", "10"])
        #expect(r.status == 1, "\(r.stderrString)")
        let json = try #require(try JSONSerialization.jsonObject(with: r.stdout) as? [String: Any])
        #expect(json["schema"] as? String == "unisonctl.health/v1")
        let states = (json["services"] as? [[String: Any]])?.reduce(into: [String: String]()) { $0[$1["name"] as! String] = $1["state"] as? String }
        #expect(states == ["good": "healthy", "bad": "unhealthy"])

        try Data(OpsFixture.specText(services: [("good", servers.ports["ok"]!, "/health", nil)]).utf8).write(to: specURL)
        let ok = try OpsCLI.run(["health", "--spec", specURL.path])
        #expect(ok.status == 0)
        #expect(ok.stdoutString.contains("all 1 services healthy"))
    }
}
