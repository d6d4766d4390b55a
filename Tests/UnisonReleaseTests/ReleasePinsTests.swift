import Foundation
import Testing
import UnisonCore
import UnisonTestSupport

@testable import UnisonRelease

/// The release manifest is one model: what `release manifest` writes is what an install reads
/// its pins from (`ReleasePins`, through `ReleaseManifest`'s own keys), and a manifest with
/// only the fields upstream's generator is sure to write is read as well.
@Suite(.tags(.unit))
struct ReleasePinsTests {
    @Test func whatReleaseWritesInstallReads() throws {
        let tmp = try ReleaseFilesTests.artifacts()
        var request = try ReleaseFilesTests.request(tmp.url)
        request.channel = "stable"
        let manifest = try ReleaseFiles.manifest(request, spec: TestSpec.load())
        let url = try ReleaseFiles.writeManifest(manifest, to: tmp.url)
        let pins = try ReleasePins.parse(Data(contentsOf: url), source: url.path)
        #expect(pins.version == SemVer(manifest.release.version))
        #expect(pins.channel == "stable")
        #expect(pins.pins.mapValues { $0.reference ?? "" } == manifest.compose.imagesPinned)
        #expect(pins.pins.allSatisfy { name, pin in manifest.compose.imagesPinned[name]?.hasSuffix("@" + pin.digest) == true })
        // Infrastructure keeps the image the compose file names; pinned services are not repeated there.
        #expect(pins.infrastructure["postgres"] == manifest.compose.imagesFromCompose["postgres"])
        #expect(pins.infrastructure.keys.allSatisfy { manifest.compose.imagesPinned[$0] == nil })
    }

    @Test func onlyTheFieldsAnInstallNeedsAreRequired() throws {
        let digest = "sha256:" + String(repeating: "ab", count: 32)
        let minimal: [String: Any] = [
            "schema_version": ReleaseManifest.schemaID,
            "release": ["version": "v0.5.0-alpha.1"],
            "compose": ["images_pinned": ["auth": "ghcr.io/project-unisonos/unison-auth:v0.5.0-alpha.1@\(digest)"]],
        ]
        let pins = try ReleasePins.parse(JSONSerialization.data(withJSONObject: minimal), source: "m.json")
        #expect(pins.version == SemVer("0.5.0-alpha.1"))
        #expect(pins.channel == nil)
        #expect(pins.pins["auth"]?.digest == digest)

        var noCompose = minimal
        noCompose["compose"] = nil
        #expect(throws: ReleaseError.badManifest(path: "m.json", reason: "missing 'compose'")) {
            try ReleasePins.parse(JSONSerialization.data(withJSONObject: noCompose), source: "m.json")
        }
        var unpinned = minimal
        unpinned["compose"] = ["images_pinned": ["auth": "ghcr.io/project-unisonos/unison-auth:v0.5.0"]]
        #expect(throws: ReleaseError.self) { try ReleasePins.parse(JSONSerialization.data(withJSONObject: unpinned), source: "m.json") }
    }
}
