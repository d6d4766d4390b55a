import Foundation
import Testing
import UnisonCore
import UnisonSpec
import UnisonTestSupport

@testable import UnisonOps

/// Staged updates through a temporary root, with an artifact shaped as unison-updates writes
/// it (`<job>-apply-override.json` in its data dir) and a stand-in unison-updates that records
/// the `updates.record_applied` call.
@Suite(.serialized, .tags(.unit))
struct StagedUpdateTests {
    @Test func stageShowClear() throws {
        let (root, staged) = try StagedUpdateFixture.root()
        defer { try? FileManager.default.removeItem(at: root) }
        #expect(try staged.staged() == nil)
        // unison-updates reports the path inside its container; the file is in its data dir.
        let store = root.appendingPathComponent("var/lib/unison/updates/artifacts")
        try FileManager.default.createDirectory(at: store, withIntermediateDirectories: true)
        let auth = "ghcr.io/project-unisonos/unison-auth:v0.5.0-alpha.1@\(StagedUpdateFixture.digest)"
        try StagedUpdateFixture.artifact(services: [
            "auth": ["image": auth, "action": "switch-image"],
            "storage": ["image": "", "action": "remove-image"],
            "policy": ["image": "ghcr.io/project-unisonos/unison-policy:v0.5.0-alpha.1", "action": "hold"],
        ]).write(to: store.appendingPathComponent("job-0123456789ab-apply-override.json"))

        let meta = try staged.stage(artifact: "/var/lib/unison/updates/artifacts/job-0123456789ab-apply-override.json")
        #expect(meta.jobID == "job-0123456789ab")
        #expect(meta.overridePath == "/opt/unison-platform/staged/compose.next-boot.override.yaml")
        let overrideURL = root.appendingPathComponent("opt/unison-platform/staged/compose.next-boot.override.yaml")
        let text = try String(contentsOf: overrideURL, encoding: .utf8)
        #expect(text.contains("services:\n  auth:\n    image: \"\(auth)\"\n  policy:\n"))
        #expect(!text.contains("storage"))
        // The override is YAML another parser reads as we mean it.
        let parsed = try SystemProcessRunner().check([
            "python3", "-c", "import sys, yaml, json; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))", overrideURL.path,
        ])
        let object = try #require(try JSONSerialization.jsonObject(with: parsed.stdout) as? [String: [String: [String: String]]])
        #expect(object["services"]?["auth"]?["image"] == auth)
        // The metadata has the keys the platform's finalize script reads.
        let metadata = try #require(
            try JSONSerialization.jsonObject(
                with: Data(
                    contentsOf: root.appendingPathComponent(
                        "opt/unison-platform/staged/compose.next-boot.metadata.json"))) as? [String: Any])
        #expect(metadata["job_id"] as? String == "job-0123456789ab")
        #expect(metadata["plan_id"] as? String == "plan-ba9876543210")
        #expect(metadata["artifact_kind"] as? String == "apply")
        #expect(try staged.staged()?.jobID == "job-0123456789ab")

        // While staged, every compose command of the stack adds the override.
        let control = StackControl(spec: staged.spec, root: root)
        #expect(control.compose.contains(overrideURL.path))
        #expect(try staged.clear())
        #expect(!control.compose.contains(overrideURL.path))
        #expect(try staged.staged() == nil)
        #expect(try !staged.clear())
    }

    @Test func hostileOrMismatchedArtifactsAreRefusedAndNothingIsStaged() throws {
        let (root, staged) = try StagedUpdateFixture.root()
        defer { try? FileManager.default.removeItem(at: root) }
        let file = root.appendingPathComponent("a.json")
        let cases: [(Data, String)] = [
            (try StagedUpdateFixture.artifact(services: ["auth": ["image": "x\"\n  evil: {}", "action": "switch-image"]]), "image reference"),
            (try StagedUpdateFixture.artifact(services: ["not-a-service": ["image": "a/b:c", "action": "switch-image"]]), "not a service"),
            (try StagedUpdateFixture.artifact(services: ["auth\nx": ["image": "a/b:c", "action": "switch-image"]]), "not a service"),
            (try StagedUpdateFixture.artifact(services: [:], job: "../../etc/passwd"), "job_id"),
            (Data(#"{"schema_version": "other", "job_id": "j", "services": {}}"#.utf8), "schema_version"),
            (Data("[]".utf8), "not a JSON object"),
        ]
        for (data, reason) in cases {
            try data.write(to: file)
            let error = #expect(throws: StagedUpdate.Failure.self) { try staged.stage(artifact: file.path) }
            #expect(error?.description.contains(reason) == true, "\(error?.description ?? "")")
        }
        #expect(throws: StagedUpdate.Failure.self) { try staged.stage(artifact: "/nope.json") }

        // An image the release manifest does not pin for that service.
        let manifest = root.appendingPathComponent("unisonos-manifest-v0.5.0-alpha.1.json")
        try JSONSerialization.data(withJSONObject: [
            "schema_version": "unison.platform.release.manifest.v1",
            "compose": ["images_pinned": ["auth": "ghcr.io/project-unisonos/unison-auth:v0.5.0-alpha.1@\(StagedUpdateFixture.digest)"]],
        ])
        .write(to: manifest)
        try StagedUpdateFixture.artifact(services: ["auth": ["image": "ghcr.io/project-unisonos/unison-auth:edge-main", "action": "switch-image"]])
            .write(to: file)
        #expect(throws: StagedUpdate.Failure.self) { try staged.stage(artifact: file.path, manifest: manifest) }
        #expect(try staged.staged() == nil)
        #expect(
            !FileManager.default.fileExists(atPath: root.appendingPathComponent("opt/unison-platform/staged/compose.next-boot.override.yaml").path))
        try StagedUpdateFixture.artifact(services: [
            "auth": ["image": "ghcr.io/project-unisonos/unison-auth:v0.5.0-alpha.1@\(StagedUpdateFixture.digest)", "action": "switch-image"]
        ]).write(to: file)
        try staged.stage(artifact: file.path, manifest: manifest)
    }

    /// A stand-in unison-updates: answers record_applied with `status` and logs each body.
    final class UpdatesStandIn {
        let process = Process()
        let port: Int
        let log: URL

        init(dir: URL, status: Int) throws {
            log = dir.appendingPathComponent("requests.log")
            let ready = dir.appendingPathComponent("port")
            let script = """
                import http.server, sys
                class H(http.server.BaseHTTPRequestHandler):
                    def do_POST(self):
                        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                        with open(sys.argv[2], "ab") as f: f.write(self.path.encode() + b" " + body + b"\\n")
                        self.send_response(int(sys.argv[3])); self.send_header("Content-Type", "application/json"); self.end_headers()
                        self.wfile.write(b'{"ok": true}')
                    def log_message(self, *a): pass
                s = http.server.HTTPServer(("127.0.0.1", 0), H)
                with open(sys.argv[1] + ".tmp", "w") as f: f.write(str(s.server_address[1]))
                import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
                s.serve_forever()
                """
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", "-c", script, ready.path, log.path, String(status)]
            try process.run()
            var found: Int?
            for _ in 0..<200 where found == nil {
                found = (try? String(contentsOf: ready, encoding: .utf8)).flatMap { Int($0) }
                if found == nil { usleep(50_000) }
            }
            guard let found else { kill(process.processIdentifier, SIGKILL); throw CocoaError(.fileReadNoSuchFile) }
            port = found
        }

        /// SIGKILL: the test runner's signal mask, inherited, can leave SIGTERM blocked.
        func stop() { if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() } }
    }

    @Test func finalizeRecordsWithUnisonUpdatesAndArchives() throws {
        let (root, staged) = try StagedUpdateFixture.root()
        defer { try? FileManager.default.removeItem(at: root) }
        let file = root.appendingPathComponent("job-0123456789ab-apply-override.json")
        try StagedUpdateFixture.artifact(services: [
            "auth": ["image": "ghcr.io/project-unisonos/unison-auth:v1@\(StagedUpdateFixture.digest)", "action": "switch-image"]
        ]).write(
            to: file)
        #expect(throws: StagedUpdate.Failure.self) { _ = try staged.finalize(updatesHost: "127.0.0.1", updatesPort: 9) }
        try staged.stage(artifact: file.path)

        // unison-updates failing: the staged files stay.
        let failing = try UpdatesStandIn(dir: try OpsFixture.tempDir("updates500"), status: 500)
        #expect(throws: StagedUpdate.Failure.self) { _ = try staged.finalize(updatesHost: "127.0.0.1", updatesPort: failing.port) }
        failing.stop()
        #expect(try staged.staged() != nil)

        let updates = try UpdatesStandIn(dir: try OpsFixture.tempDir("updates"), status: 200)
        defer { updates.stop() }
        let archived = try staged.finalize(updatesHost: "127.0.0.1", updatesPort: updates.port)
        #expect(
            archived == [
                "/opt/unison-platform/staged/archive/job-0123456789ab.next-boot.override.yaml",
                "/opt/unison-platform/staged/archive/job-0123456789ab.next-boot.metadata.json",
            ])
        let request = try String(contentsOf: updates.log, encoding: .utf8)
        #expect(request == "/v1/tools/updates.record_applied {\"arguments\":{\"job_id\":\"job-0123456789ab\"}}\n")
        #expect(try staged.staged() == nil)
        #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent(String(archived[0].dropFirst())).path))
    }
}
