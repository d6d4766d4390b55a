// A staged-update artifact shaped as unison-updates writes it, and a temporary root, for
// UnisonOpsTests/StagedUpdateTests.swift and UnisonCLITests/StagedUpdateCLITests.swift.
import Foundation
import Testing
import UnisonCore
import UnisonOps
import UnisonSpec

package enum StagedUpdateFixture {
    package static let digest = "sha256:" + String(repeating: "ab", count: 32)

    package static func artifact(services: [String: [String: String]], job: String = "job-0123456789ab") throws -> Data {
        try JSONSerialization.data(
            withJSONObject: [
                "schema_version": "unison.updates.compose.override.v1", "artifact_kind": "apply", "job_id": job,
                "plan_id": "plan-ba9876543210", "generated_at": "2026-12-03T12:00:00Z",
                "execution_plan": ["executor": "compose-dry-run", "mode": "no-op", "steps": []],
                "services": services,
            ] as [String: Any], options: [.sortedKeys])
    }

    package static func root() throws -> (URL, StagedUpdate) {
        let root = try OpsFixture.tempDir("staged")
        return (root, StagedUpdate(spec: try OpsFixture.repoSpec(), root: root))
    }
}
