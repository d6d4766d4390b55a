// A re-push of unchanged content sends no blob (#17): the client's own counters. The same check
// run as two fresh `unisonctl` processes behind the counting proxy is in
// UnisonCLITests/RePushCLITests.swift.
import Foundation
import Testing
import UnisonCore
import UnisonTestSupport

@testable import UnisonOCI

@Suite("re-push sends no blob", .tags(.interop))
struct RePushTests {
    @Test("the client's own counters agree: a re-push in one process uploads nothing and mounts nothing")
    func clientCountersOnRePush() async throws {
        let registry = try TestRegistry.start()
        defer { registry.stop() }
        let tmp = try TempDir()
        let image = try TestImage.make(layout: tmp.path("src"), tag: "v1", layerFiles: [["a": TestImage.noise(60_000, seed: 21)]])
        let client = testClient(chunkSize: 16 << 10)
        let target = try ImageReference(parsing: "\(registry.host)/team/counted:v1")
        let source = ImageLocation.layout(LayoutReference(directory: image.layout, tag: Tag("v1")))
        _ = try await client.copy(from: source, to: .registry(target))
        let before = client.stats.snapshot
        #expect(before.blobsUploaded == 2)
        let report = try await client.copy(from: source, to: .registry(target))
        let after = client.stats.snapshot
        #expect(report.blobsSkipped == 2)
        #expect(after.blobsUploaded == before.blobsUploaded)
        #expect(after.blobBytesUploaded == before.blobBytesUploaded)
        #expect(after.blobsMounted == before.blobsMounted)
        #expect(after.blobsSkipped - before.blobsSkipped == 2)
    }
}
