import Foundation
import Testing
import UnisonCore
import UnisonOCI
import UnisonPublish
import UnisonSpec
import UnisonTestSupport

/// Which repositories a release publishes to, and which tags a promotion sets, from the
/// shipped spec. (Promotion and digest resolution against a real registry: PromoteTests and
/// ReleaseDigestsCLITests.)
@Suite(.tags(.unit))
struct ServiceImagesTests {
    static func spec() throws -> PlatformSpec {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return try SpecLoader.load(file: root.appendingPathComponent("unison.yaml"))
    }

    @Test func everyPlatformImageOnceOnTheSpecsRegistry() throws {
        let spec = try Self.spec()
        let repos = try ServiceImages.platformRepositories(spec: spec, override: nil)
        let platform = spec.services.filter { $0.kind == .platform }
        #expect(repos.count == Set(platform.map { try! ImageReference(parsing: $0.image).repositoryReference }).count)
        #expect(repos.count < platform.count, "two services share an image in the shipped spec (comms and its worker)")
        #expect(Set(repos).count == repos.count)
        #expect(repos.allSatisfy { $0.registry == spec.platform.registry.lowercased() && $0.tag == nil && $0.digest == nil })
        #expect(ServiceImages.registry(spec: spec, override: nil) == (spec.platform.registry.lowercased(), false))
    }

    @Test func aStandInRegistryTakesTheSpecsImagesOnly() throws {
        let spec = try Self.spec()
        let override = try RegistryEndpoint(parsing: "http://127.0.0.1:5000")
        let repos = try ServiceImages.platformRepositories(spec: spec, override: override)
        #expect(repos.allSatisfy { $0.registry == "127.0.0.1:5000" })
        #expect(ServiceImages.registry(spec: spec, override: override) == ("127.0.0.1:5000", true))
        // An image on another registry (Docker Hub) is not moved.
        let postgres = try #require(spec.allServices.first { $0.image.hasPrefix("docker.io/library/postgres") })
        #expect(try ServiceImages.repository(postgres, spec: spec, override: override).registry == "docker.io")
    }

    @Test(
        "promotion tags: the release policy's unless given",
        arguments: [
            ("v0.5.0", [String](), ["v0.5.0", "v0.5", "v0", "latest"]),
            ("v0.6.0-beta.1", [], ["v0.6.0-beta.1"]),
            ("v0.5.0", ["stable", "v0.5.0"], ["stable", "v0.5.0"]),
        ])
    func promotionTags(version: String, explicit: [String], expected: [String]) throws {
        let request = PromotionRequest(
            version: try #require(SemVer(version)), sourceTag: try #require(Tag("edge-main")),
            tags: explicit.compactMap(Tag.init))
        #expect(request.releaseTags.map(\.value) == expected)
    }
}
