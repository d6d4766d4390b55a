import Foundation
import Testing
import UnisonTestSupport

/// Help of the release attestation commands (docs/verify.md), as snapshots.
@Suite(.tags(.unit)) struct ReleaseAttestCLIGoldenTests {
    @Test(arguments: ["attest", "verify", "attach"])
    func helpIsGolden(_ command: String) throws {
        let r = try CLI.run(["release", command, "--help"])
        #expect(r.status == 0)
        try CLI.expectGolden(r.stdout, "release-\(command)-help.txt")
    }
}
