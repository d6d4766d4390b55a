import Foundation
import Testing
import UnisonArchive
import UnisonCore
import UnisonDisk
import UnisonTestSupport

@testable import UnisonImage

/// The VM boot files' kernel order. The disk pipeline end to end (which also runs `unisonctl
/// image inspect` and `qa boot`) is VMImageCLITests in UnisonCLITests.
@Suite("VM disk image", .serialized, .tags(.boot))
struct VMImageTests {
    @Test(
        "kernel releases order numerically",
        arguments: [
            (["6.1.0-9-amd64", "6.1.0-50-amd64", "6.1.0-10-amd64"], "6.1.0-50-amd64"),
            (["5.10.0-28-amd64", "6.1.0-1-amd64"], "6.1.0-1-amd64"),
        ])
    func kernelOrder(releases: [String], newest: String) {
        #expect(releases.sorted(by: VMBootFiles.versionOrder).last == newest)
    }
}
