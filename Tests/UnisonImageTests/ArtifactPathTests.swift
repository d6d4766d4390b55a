import Foundation
import Testing
import UnisonCore
import UnisonTestSupport

@testable import UnisonImage

/// Artifacts are written only directly inside --out, whatever platform.name or --version say.
@Suite("artifacts stay inside --out", .tags(.unit))
struct ArtifactPathTests {
    @Test(
        "a name that is not one plain component is refused",
        arguments: [
            "../escape-wsl2-1.0.0.tar.gz", "a/b.tar.gz", "..", ".", "", ".hidden", "x\n.tar.gz", "a/../../b",
        ])
    func refused(name: String) {
        let out = URL(fileURLWithPath: "/tmp/out")
        #expect(throws: ArtifactPath.OutsideOutput.self) { try ArtifactPath.destination(in: out, name: name) }
    }

    @Test("a plain name lands in --out")
    func accepted() throws {
        let out = URL(fileURLWithPath: "/tmp/out")
        #expect(try ArtifactPath.destination(in: out, name: "unisonos-wsl2-1.0.0.tar.gz").path == "/tmp/out/unisonos-wsl2-1.0.0.tar.gz")
    }

    @Test("image build wsl with platform.name '../escape' writes nothing anywhere, before reading the base")
    func wslBuildRefused() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("artifact-path-\(UUID().uuidString.prefix(8))")
        let out = dir.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let request = ImageBuildRequest(
            base: .directory(dir.appendingPathComponent("no-such-base")), outputDirectory: out, version: "1.0.0",
            artifactPrefix: "../escape")
        await #expect(throws: ArtifactPath.OutsideOutput.self) {
            _ = try await ImagePipeline.build(
                request, target: WSLImage(distribution: WSLDistribution(defaultName: "UnisonOS", defaultUser: "unison")),
                reporter: { ProgressReporter($0, total: $1, style: .silent) })
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["out"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: out.path).isEmpty)
    }
}
