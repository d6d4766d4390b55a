// The test stack's registry of the service-image preload tests (UnisonImageTests and the image
// CLI tests in UnisonCLITests).
import Foundation
import Testing
import UnisonImage
import UnisonSpec

/// The test stack's images (scripts/test-stack-images.sh: busybox-static httpd images built
/// here) in a real `docker-registry` on 127.0.0.1, preloaded into one OCI layout.
package final class StackRegistry: Sendable {
    package let registry: TestRegistry
    package var host: String { registry.host }

    package init(scratch: ImageScratch) throws {
        registry = try TestRegistry.start()
        try ImageTool.run([ImageRepo.root.appendingPathComponent("scripts/test-stack-images.sh").path, scratch.path("images").path, host])
    }

    package func stop() { registry.stop() }

    /// The test stack's images pulled from this registry into one OCI layout under `scratch`.
    package func pulled(_ scratch: ImageScratch) async throws -> (ServiceImagePreload.Store, PlatformSpec) {
        let spec = try SpecLoader.load(text: try StackRegistry.spec(), file: "stack.yaml")
        let platform = ImagePlatform(
            spec: spec, specText: nil, mode: .image, modelPack: try #require(spec.modelPack(named: "light")),
            modelRegistry: spec.models.registry, releaseManifest: nil, unisonctl: ImageRepo.unisonctl, ollama: .container)
        let plan = try PlatformOverlay.plan(platform, version: "9.9.9", epoch: 0)
        let store = try await ServiceImagePreload.pull(
            plan: plan, spec: spec, ollama: .container,
            request: .init(registry: host), workDir: scratch.url)
        return (store, spec)
    }

    /// Flips a byte in the registry's stored copy of the blob (the registry serves it unchecked).
    package func corrupt(_ digestHex: String) throws {
        let data = registry.storedBlob(digestHex)
        var bytes = try Data(contentsOf: data)
        bytes[bytes.count / 2] ^= 0xff
        try bytes.write(to: data)
    }

    /// The spec of the test stack (the shared fixture stack/stack.yaml, which
    /// scripts/check-stack-boot.sh can read too), with the shipped base entry verbatim, so
    /// that the cached base tarball is the one it names.
    package static func spec() throws -> String {
        let shipped = try String(contentsOf: ImageRepo.spec, encoding: .utf8)
        let start = shipped.range(of: "  - name: debian-trixie\n")!
        let end = shipped.range(of: "  - name: debian-bookworm\n")!
        return try TestFixtures.stackSpec(base: String(shipped[start.lowerBound..<end.lowerBound]))
    }
}
