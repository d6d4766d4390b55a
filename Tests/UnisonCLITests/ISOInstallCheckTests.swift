import Foundation
import Testing
import UnisonCore
import UnisonTestSupport

@testable import UnisonQA

/// The install check against a real installer ISO, built by `unisonctl image build iso` from the
/// host's kernel and storage drivers with a small payload: a disk large enough is filled and
/// matches the payload (qemu-img compare); one too small fails with the installer's reason.
@Suite("qa install: installer ISO on a target disk", .serialized, .tags(.boot))
struct ISOInstallCheckTests {
    static let repo = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Kernel and drivers only: with --payload the ISO build needs nothing else from the base.
    static func makeISO(in dir: URL) throws -> (iso: URL, payload: URL) {
        let fm = FileManager.default
        let base = dir.appendingPathComponent("base")
        let kernels = try fm.contentsOfDirectory(atPath: "/boot").filter { $0.hasPrefix("vmlinuz-") }.sorted()
        let kernel = try #require(kernels.last, "the host needs a kernel in /boot")
        let release = String(kernel.dropFirst("vmlinuz-".count))
        let modules = base.appendingPathComponent("lib/modules/\(release)")
        try fm.createDirectory(at: modules, withIntermediateDirectories: true)
        try fm.createDirectory(at: base.appendingPathComponent("boot"), withIntermediateDirectories: true)
        try fm.copyItem(atPath: "/boot/\(kernel)", toPath: base.appendingPathComponent("boot/\(kernel)").path)
        try fm.copyItem(atPath: "/lib/modules/\(release)/modules.dep", toPath: modules.appendingPathComponent("modules.dep").path)
        let runner = SystemProcessRunner()
        var files: Set<String> = []
        for name in ["virtio_pci", "virtio_blk", "ahci", "sr_mod", "isofs"] {
            let out = try runner.check(["modprobe", "-S", release, "--show-depends", name]).stdoutString
            for line in out.split(separator: "\n") where line.hasPrefix("insmod ") { files.insert(String(line.split(separator: " ")[1])) }
        }
        for file in files {
            let dest = modules.appendingPathComponent(String(file.dropFirst("/lib/modules/\(release)/".count)))
            try fm.createDirectory(at: dest.deletingLastPathComponent(), withIntermediateDirectories: true)
            try fm.copyItem(atPath: file, toPath: dest.path)
        }
        let payload = dir.appendingPathComponent("disk.raw")
        var bytes = Data(count: 8 << 20)
        for i in stride(from: 0, to: 1 << 20, by: 4) { bytes[i] = UInt8(truncatingIfNeeded: i >> 2); bytes[i + 1] = 0x5A }
        try bytes.write(to: payload)
        let out = dir.appendingPathComponent("out")
        let build = try runner.run(
            [
                QACLI.unisonctl.path, "image", "build", "iso", "--spec", repo.appendingPathComponent("unison.yaml").path,
                "--base", base.path, "--payload", payload.path, "--out", out.path, "--version", "0.0.3-qa",
            ],
            environment: ["UNISONCTL_QUIET": "1", "SOURCE_DATE_EPOCH": "1700000000"])
        #expect(build.status == 0, "\(build.stderrString)")
        return (out.appendingPathComponent("unisonos-baremetal-0.0.3-qa.iso"), payload)
    }

    @Test("installs under SeaBIOS from the CD onto a disk it creates; a too small disk fails with the installer's reason")
    func install() async throws {
        let dir = URL(fileURLWithPath: "/tmp/unison-qa-install-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let (iso, payload) = try Self.makeISO(in: dir)

        let target = dir.appendingPathComponent("target.qcow2")
        let result = try await ISOInstallCheck.run(
            ISOInstallOptions(
                iso: iso, target: target, targetSize: 16 << 20, firmware: .bios,
                timeout: 240, accelerator: .tcg))
        #expect(result.installed && result.poweredOff && result.okMarkerSeen, "\(result.reason): \(result.consoleTail.suffix(10))")
        #expect(result.schema == "unisonctl.qa-install/v1" && result.targetFormat == "qcow2")
        #expect(result.failure == nil)
        try result.check()
        let compare = try SystemProcessRunner().run(["qemu-img", "compare", "-f", "raw", "-F", "qcow2", payload.path, target.path])
        #expect(compare.status == 0, "\(compare.stdoutString)")

        // Through the CLI: a disk too small is refused by the installer; exit 1 with its reason.
        let small = dir.appendingPathComponent("small.qcow2")
        let cli = try SystemProcessRunner().run(
            [
                QACLI.unisonctl.path, "qa", "install", iso.path, "--target", small.path,
                "--target-size", "4MiB", "--firmware", "bios", "--accel", "tcg",
                "--timeout", "240", "--json",
            ], environment: ["UNISONCTL_QUIET": "1"])
        #expect(cli.status == 1, "\(cli.stderrString)")
        let refused = try #require(try JSONSerialization.jsonObject(with: Data(cli.stdoutString.utf8)) as? [String: Any])
        #expect(refused["schema"] as? String == "unisonctl.qa-install/v1")
        #expect(refused["installed"] as? Bool == false && refused["poweredOff"] as? Bool == false)
        #expect(
            refused["failure"] as? String == "target disk /dev/vda is too small: 4194304 bytes (4 MiB), the image needs 8388608 bytes (8 MiB)",
            "\(cli.stdoutString)")
        let notISO = try SystemProcessRunner().run(
            [QACLI.unisonctl.path, "qa", "install", payload.path, "--target", small.path],
            environment: ["UNISONCTL_QUIET": "1"])
        #expect(notISO.status == 2, "\(notISO.stderrString)")
        #expect(notISO.stderrString.contains(payload.path))

        // Bad input: not an ISO, a missing target without a size.
        await #expect(throws: ISOInstallError.notAnISO(path: payload.path)) {
            _ = try await ISOInstallCheck.run(ISOInstallOptions(iso: payload, target: target))
        }
        await #expect(throws: QAError.self) {
            _ = try await ISOInstallCheck.run(ISOInstallOptions(iso: iso, target: dir.appendingPathComponent("none.qcow2")))
        }
    }
}
