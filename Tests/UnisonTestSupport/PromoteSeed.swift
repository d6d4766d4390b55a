// The registry state the promotion tests start from (UnisonOCITests/PromoteTests.swift and
// UnisonCLITests/PromoteCLITests.swift).
import Foundation
import UnisonCore
import UnisonOCI

package enum PromoteSeed {
    /// Seeds `<host>/project-unisonos/<repo>:edge-main` for every repo (a shared base layer and
    /// one layer of its own), returning each manifest digest.
    package static func seed(_ repos: [String], host: String, tmp: TempDir) async throws -> [String: String] {
        let client = testClient()
        var digests: [String: String] = [:]
        let base = ["usr/lib/os-release": Data("ID=unisonos\n".utf8), "usr/lib/libbase.so": TestImage.noise(80_000, seed: 99)]
        for (i, repo) in repos.enumerated() {
            let image = try TestImage.make(
                layout: tmp.path("seed-\(repo)"), tag: "edge-main",
                layerFiles: [base, ["srv/\(repo)/app.py": Data("print('\(repo)')\n".utf8) + TestImage.noise(5_000, seed: UInt64(i))]])
            _ = try await client.copy(
                from: .layout(LayoutReference(directory: image.layout, tag: Tag("edge-main"))),
                to: .registry(try ImageReference(parsing: "\(host)/project-unisonos/\(repo):edge-main")))
            digests[repo] = image.manifestDigest
        }
        return digests
    }
}
