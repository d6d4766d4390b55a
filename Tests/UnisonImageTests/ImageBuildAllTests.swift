import Foundation
import Testing
import UnisonCore
import UnisonDisk
import UnisonTestSupport

@testable import UnisonImage

/// Several targets in one run (`image build all`): the base is read once, targets of one head
/// share a root and the VM disk, and every artifact has the bytes its own build gives.
@Suite("Image build: several targets in one run", .serialized, .tags(.interop))
struct ImageBuildAllTests {
    static let epoch: Int64 = 1_700_000_000

    /// Status lines of a build, collected across tasks.
    final class Lines: @unchecked Sendable {
        private let lock = NSLock()
        private var lines: [String] = []
        func add(_ line: String) { lock.withLock { lines.append(line) } }
        var all: [String] { lock.withLock { lines } }
    }

    /// WSL with an overlay of its own (a head of its own), the VM (qcow2 + raw) and the ISO
    /// carrying a raw VM disk of the same settings (one head).
    static func requests(base: URL, out: URL, cache: URL) -> [ImageBuildRequest] {
        func request(_ target: any ImageTarget, overlay: (any RootfsOverlay)? = nil) -> ImageBuildRequest {
            ImageBuildRequest(
                base: .directory(base), outputDirectory: out, version: "0.0.2-all", epoch: epoch, cacheDir: cache,
                threads: 2, overlay: overlay, targets: [target])
        }
        let wslOverlay = ClosureOverlay { tree in
            try tree.addFile("etc/unisonos-wsl", "wsl only\n", mtime: ImageBuildAllTests.epoch)
            // WSL needs a root account (the busybox base has none).
            try tree.addFile("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n", mtime: ImageBuildAllTests.epoch)
        }
        let vm = VMImage(formats: [.qcow2, .raw], diskSize: 192 << 20, espSize: 48 << 20)
        let isoDisk = VMImage(formats: [.raw], diskSize: 192 << 20, espSize: 48 << 20)
        return [
            request(WSLImage(distribution: WSLDistribution(defaultName: "UnisonOS", defaultUser: "unison")), overlay: wslOverlay),
            request(vm), request(ISOImage(payload: .build(isoDisk), splitAbove: 4 << 20)),
        ]
    }

    /// sha256 of every file in `dir`, by name (sha256sum, not our hasher).
    static func sums(_ dir: URL) throws -> [String: String] {
        let out = try ImageTool.shell("cd '\(dir.path)' && sha256sum -- *").stdoutString
        var sums: [String: String] = [:]
        for line in out.split(separator: "\n") {
            let fields = line.split(separator: " ", maxSplits: 1)
            sums[String(fields[1].drop { $0 == " " || $0 == "*" })] = String(fields[0])
        }
        return sums
    }

    @Test("WSL, VM and ISO together: the same bytes as three separate builds, the base read once, the VM disk laid out once")
    func togetherEqualsSeparate() async throws {
        let scratch = try ImageScratch("image-all")
        defer { scratch.cleanup() }
        let base = try ISOTestBase.make(in: scratch)
        let out = scratch.path("out")
        let cache = scratch.path("cache")
        let silent: ImagePipeline.Reporter = { ProgressReporter($0, total: $1, style: .silent) }

        for request in Self.requests(base: base, out: out, cache: cache) {
            let results = try await ImagePipeline.build(request, reporter: silent)
            #expect(results.count == 1)
        }
        let separate = try Self.sums(out)
        try FileManager.default.removeItem(at: out)

        let lines = Lines()
        let results = try await ImagePipeline.build(
            Self.requests(base: base, out: out, cache: cache), status: { lines.add($0) }, reporter: silent)
        let together = try Self.sums(out)

        #expect(results.count == 3)
        #expect(results[0] is WSLBuildResult && results[1] is VMBuildResult && results[2] is ISOBuildResult)
        let names = together.keys.sorted()
        for expected in [
            "unisonos-wsl2-0.0.2-all.tar.gz", "unisonos-wsl2-0.0.2-all.wsl", "unisonos-linux-vm-0.0.2-all.qcow2",
            "unisonos-linux-vm-0.0.2-all.raw", "unisonos-baremetal-0.0.2-all.iso", "unisonos-baremetal-0.0.2-all.iso.sha256",
        ] {
            #expect(names.contains(expected), "\(expected) in \(names)")
        }
        #expect(names == separate.keys.sorted(), "the same files")
        for name in names { #expect(together[name] == separate[name], "\(name): the same bytes together and separately") }

        let status = lines.all
        #expect(status.filter { $0.hasPrefix("base: ") && $0.contains(" entries,") }.count == 1, "the base is read once: \(status)")
        #expect(status.contains { $0.contains("already read in this run") }, "\(status)")
        #expect(status.contains("payload: the VM disk built in this run"), "the ISO reuses the VM's disk: \(status)")
        #expect(!status.contains("building the VM disk for the payload"), "\(status)")
        // The ISO carries exactly the VM's raw disk.
        let iso = try #require(results[2] as? ISOBuildResult)
        #expect(iso.payload.sha256 == together["unisonos-linux-vm-0.0.2-all.raw"])
    }

    @Test("a target that fails ends the run naming it; the targets before it wrote their artifacts")
    func failureNamesTheTarget() async throws {
        let scratch = try ImageScratch("image-all-bad")
        defer { scratch.cleanup() }
        let base = try ISOTestBase.make(in: scratch)
        let out = scratch.path("out")
        var requests = Self.requests(base: base, out: out, cache: scratch.path("cache"))
        // The ISO's kernel comes from the root: an overlay that removes /boot fails the ISO alone.
        requests[2].overlay = ClosureOverlay { tree in tree.removeChildren(of: "boot") }
        await #expect {
            _ = try await ImagePipeline.build(requests, reporter: { ProgressReporter($0, total: $1, style: .silent) })
        } throws: { error in
            guard let failure = error as? ImageTargetFailure else { return false }
            return failure.target == "iso" && failure.description.hasPrefix("image target 'iso' failed: ")
        }
        let left = try FileManager.default.contentsOfDirectory(atPath: out.path)
        #expect(left.contains("unisonos-linux-vm-0.0.2-all.qcow2") && left.contains("unisonos-wsl2-0.0.2-all.tar.gz"), "\(left)")
        #expect(!left.contains { $0.hasPrefix("unisonos-baremetal") }, "\(left)")
    }
}
