import Foundation
import Testing
import UnisonCore
import UnisonInstall
import UnisonSpec
import UnisonTestSupport

@testable import UnisonImage

@Suite("Service images preloaded into one OCI layout", .serialized, .tags(.interop))
struct ServiceImagePreloadTests {
    @Test("verifyStore on the store the preload wrote: intact, then a flipped layer, a cut-short config, a missing blob, each named")
    func verifyStore() async throws {
        let scratch = try ImageScratch("preload-verify")
        defer { scratch.cleanup() }
        let registry = try StackRegistry(scratch: scratch)
        defer { registry.stop() }
        let (store, _) = try await registry.pulled(scratch)
        let dir = store.directory
        let blobsDir = dir.appendingPathComponent("blobs/sha256")
        let files = try FileManager.default.contentsOfDirectory(atPath: blobsDir.path).filter { !$0.hasPrefix(".") }
        let intact = ServiceImagePreload.verifyStore(at: dir)
        #expect(intact.ok && intact.problems.isEmpty, "\(intact.problems)")
        #expect(intact.images == 2)
        #expect(intact.blobs == files.count, "every blob of the layout is checked once")
        #expect(intact.bytes == store.report.bytes)

        func sums(_ n: Int) throws -> String {
            try String(contentsOf: dir.appendingPathComponent("docker/\(n).sha256"), encoding: .utf8)
        }
        // A layer only the Ollama stand-in has, one byte flipped: only that image is named.
        let own = try #require(try files.first { try sums(1).contains($0) && !sums(0).contains($0) })
        let ownURL = blobsDir.appendingPathComponent(own)
        let original = try Data(contentsOf: ownURL)
        var bytes = original
        bytes[bytes.count / 2] ^= 0x01
        try bytes.write(to: ownURL)
        var check = ServiceImagePreload.verifyStore(at: dir)
        #expect(!check.ok)
        #expect(
            check.problems.map(\.description) == [
                "ollama: image docker.io/unisontest/ollama-standin:1: blob sha256:\(own): does not match its digest (the file hashes to sha256:"
                    + (try ImageTool.run(["sha256sum", ownURL.path]).stdoutString.prefix(64)) + ")"
            ])
        try original.write(to: ownURL)

        // A blob both images share, cut short: both named, with the sizes.
        let shared = try #require(try files.first { try sums(1).contains($0) && sums(0).contains($0) })
        let sharedURL = blobsDir.appendingPathComponent(shared)
        let sharedData = try Data(contentsOf: sharedURL)
        try sharedData.prefix(100).write(to: sharedURL)
        check = ServiceImagePreload.verifyStore(at: dir)
        #expect(check.problems.map(\.image) == ["docker.io/unisontest/http:1", "docker.io/unisontest/ollama-standin:1"])
        #expect(check.problems.allSatisfy { $0.digest == "sha256:\(shared)" && $0.reason == "is 100 bytes, its descriptor says \(sharedData.count)" })
        #expect(check.problems.first?.services == ["web", "api"])

        // Missing.
        try FileManager.default.removeItem(at: sharedURL)
        check = ServiceImagePreload.verifyStore(at: dir)
        #expect(check.problems.first?.description == "web: image docker.io/unisontest/http:1: blob sha256:\(shared): is missing")
        try sharedData.write(to: sharedURL)
        #expect(ServiceImagePreload.verifyStore(at: dir).ok)
    }
}
