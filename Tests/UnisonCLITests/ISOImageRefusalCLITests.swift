import Foundation
import Testing
import UnisonCore
import UnisonDisk
import UnisonTestSupport

@testable import UnisonImage

/// Bad input for the ISO build (nothing at the final path) and the installer refusing a disk
/// smaller than its payload; the CLI with an existing qcow2 payload and UEFI only.
@Suite("Installer ISO: payloads and refusals", .serialized, .tags(.boot))
struct ISOImageRefusalCLITests {
    static let epoch: Int64 = 1_700_000_000

    /// A small raw disk with recognizable content, and the same as qcow2.
    static func payload(in scratch: ImageScratch) throws -> (raw: URL, qcow2: URL) {
        let raw = scratch.path("payload.raw")
        var bytes = Data(count: 32 << 20)
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        for i in stride(from: 0, to: 4 << 20, by: 8) {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            withUnsafeBytes(of: state) { bytes.replaceSubrange(i..<(i + 8), with: $0) }
        }
        bytes.replaceSubrange((31 << 20)..<((31 << 20) + 13), with: Data("end-of-disk\n\0".utf8))
        try bytes.write(to: raw)
        let qcow2 = scratch.path("payload.qcow2")
        try ImageTool.run(["qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw.path, qcow2.path])
        return (raw, qcow2)
    }

    @Test("no kernel, a bad version, split size or payload, no firmware or isolinux: refused, nothing written")
    func refused() async throws {
        let scratch = try ImageScratch("iso-bad")
        defer { scratch.cleanup() }
        let base = try ISOTestBase.make(in: scratch)
        let (raw, _) = try Self.payload(in: scratch)
        let out = scratch.path("out")
        func options(_ payload: URL, base: URL = base) -> ISOCase {
            ISOCase(
                request: ImageBuildRequest(
                    base: .directory(base), outputDirectory: out, version: "1.0.0", epoch: Self.epoch,
                    cacheDir: scratch.path("cache")),
                target: ISOImage(payload: .image(payload)))
        }
        let quiet: @Sendable (String, Int64?) -> ProgressReporter = { ProgressReporter($0, total: $1, style: .silent) }

        // No kernel in the base.
        let noKernel = scratch.path("no-kernel")
        try ImageTool.run(["cp", "-a", base.path, noKernel.path])
        for name in try FileManager.default.contentsOfDirectory(atPath: noKernel.appendingPathComponent("boot").path) where name.hasPrefix("vmlinuz-")
        {
            try FileManager.default.removeItem(at: noKernel.appendingPathComponent("boot/\(name)"))
        }
        await #expect(throws: DiskError.missingBootFile(what: "kernel for the installer", looked: ["/boot/vmlinuz-* in the image tree"])) {
            _ = try await ISOCase.build(options(raw, base: noKernel), reporter: quiet)
        }
        // Modules without modules.dep: the installer would see no disk.
        let noDep = scratch.path("no-modules-dep")
        try ImageTool.run(["cp", "-a", base.path, noDep.path])
        let (release, _) = try BusyboxBase.hostKernel()
        try FileManager.default.removeItem(at: noDep.appendingPathComponent("usr/lib/modules/\(release)/modules.dep"))
        do {
            _ = try await ISOCase.build(options(raw, base: noDep), reporter: quiet)
            Issue.record("a module directory without modules.dep was accepted")
        } catch let error as DiskError {
            #expect("\(error)".contains("modules.dep for kernel \(release)"), "\(error)")
        }
        var o = options(raw)
        o.request.version = "../evil"
        await #expect(throws: VMError.badVersion("../evil")) { _ = try await ISOCase.build(o, reporter: quiet) }
        o = options(raw)
        o.target.splitAbove = 1000
        await #expect(throws: ISOError.badSplitSize(1000)) { _ = try await ISOCase.build(o, reporter: quiet) }
        o = options(raw)
        o.target.firmware = []
        await #expect(throws: ISOError.noFirmware) { _ = try await ISOCase.build(o, reporter: quiet) }
        o = options(raw)
        o.target.isolinuxDir = scratch.path("no-isolinux")
        await #expect(throws: ISOError.missingHostFile(what: "isolinux", path: scratch.path("no-isolinux/isolinux.bin").path, package: "isolinux")) {
            _ = try await ISOCase.build(o, reporter: quiet)
        }

        // Payloads that are not disk images.
        let missing = scratch.path("missing.qcow2")
        await #expect(throws: ISOError.badPayload(path: missing.path, detail: "does not exist or cannot be read")) {
            _ = try await ISOCase.build(options(missing), reporter: quiet)
        }
        let odd = scratch.path("odd.raw")
        try Data(repeating: 7, count: 1000).write(to: odd)
        do {
            _ = try await ISOCase.build(options(odd), reporter: quiet)
            Issue.record("a 1000-byte payload was accepted")
        } catch let ISOError.badPayload(path, detail) {
            #expect(path == odd.path)
            #expect(detail.contains("1000") || detail.contains("not a disk image"), "\(detail)")
        }
        let broken = scratch.path("broken.qcow2")
        var header = try Data(contentsOf: scratch.path("payload.qcow2")).prefix(4096)
        header.replaceSubrange(24..<32, with: Data([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]))  // virtual size
        try header.write(to: broken)
        do {
            _ = try await ISOCase.build(options(broken), reporter: quiet)
            Issue.record("a truncated qcow2 payload was accepted")
        } catch let error as ISOError {
            #expect("\(error)".contains(broken.path), "\(error)")
        } catch let error as ProcessError {
            #expect("\(error)".contains(broken.path), "\(error)")
        }
        let left = (try? FileManager.default.contentsOfDirectory(atPath: out.path)) ?? []
        #expect(left.isEmpty, "nothing is written when the build is refused: \(left)")

        // A payload name the installer's shell must not see as code is made safe.
        let oddName = scratch.path("odd name;$(x).raw")
        try FileManager.default.copyItem(at: raw, to: oddName)
        var odd2 = options(oddName)
        odd2.request.outputDirectory = scratch.path("odd-out")
        odd2.target.firmware = [.uefi]
        let oddResult = try await ISOCase.build(odd2, reporter: quiet)
        #expect(oddResult.payload.name == "odd_name___x_.raw")
        #expect(oddResult.payload.parts.map(\.name) == ["odd_name___x_.raw.data.gz"])
        try ImageTool.run([
            "xorriso", "-osirrox", "on", "-indev", oddResult.artifact.path, "-extract",
            "/unisonos/install.conf", scratch.path("odd-install.conf").path,
        ])
        let text = try String(contentsOf: scratch.path("odd-install.conf"), encoding: .utf8)
        #expect(text.contains("PAYLOAD_NAME='odd_name___x_.raw'\n") && text.contains("PAYLOAD_PARTS='odd_name___x_.raw.data.gz'"), "\(text)")

        // The same through the CLI: exit 2 and a sentence naming the problem.
        let common = ["image", "build", "iso", "--spec", Repo.spec.path, "--base", base.path, "--out", out.path, "--version", "1.0.0"]
        let gone = try Repo.cli(common + ["--payload", missing.path])
        #expect(gone.status == 2)
        #expect(gone.stderr.contains(missing.path) && gone.stderr.contains("cannot be read"), "\(gone.stderr)")
        let bogus = try Repo.cli(common + ["--payload", raw.path, "--firmware", "bios,coreboot"])
        #expect(bogus.status == 2)
        #expect(bogus.stderr.contains("unknown firmware coreboot"), "\(bogus.stderr)")
        let tiny = try Repo.cli(common + ["--payload", raw.path, "--split-above", "1KiB"])
        #expect(tiny.status == 2)
        #expect(tiny.stderr.contains("--split-above"), "\(tiny.stderr)")
        let kernelless = try Repo.cli([
            "image", "build", "iso", "--spec", Repo.spec.path, "--base", noKernel.path, "--out", out.path,
            "--payload", raw.path,
        ])
        #expect(kernelless.status == 2)
        #expect(kernelless.stderr.contains("/boot/vmlinuz-*"), "\(kernelless.stderr)")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: out.path)) ?? []).isEmpty)
    }

    @Test("a qcow2 payload through the CLI, UEFI only: the installer refuses a smaller disk and fills a larger one")
    func qcow2PayloadAndSmallDisk() async throws {
        let scratch = try ImageScratch("iso-cli")
        defer { scratch.cleanup() }
        let base = try ISOTestBase.make(in: scratch)
        let (raw, qcow2) = try Self.payload(in: scratch)
        let out = scratch.path("out")
        let run = try Repo.cli(
            [
                "image", "build", "iso", "--spec", Repo.spec.path, "--base", base.path, "--out", out.path,
                "--version", "0.0.2-test", "--payload", qcow2.path, "--firmware", "uefi", "--json",
            ],
            environment: ["SOURCE_DATE_EPOCH": String(Self.epoch)])
        #expect(run.status == 0, "\(run.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect(json["schema"] as? String == "unisonctl.image-build.iso/v1")
        #expect(json["firmware"] as? [String] == ["uefi"])
        #expect(json["sourceDateEpoch"] as? Int == Int(Self.epoch))
        let payload = try #require(json["payload"] as? [String: Any])
        #expect(payload["sourceFormat"] as? String == "qcow2")
        #expect(payload["name"] as? String == "payload.raw")
        #expect(payload["sha256"] as? String == (try SHA256Hex.file(raw).hex))
        #expect((payload["parts"] as? [[String: Any]])?.map { $0["name"] as? String } == ["payload.raw.data.gz"], "below splitAbove: one file")
        let iso = out.appendingPathComponent("unisonos-baremetal-0.0.2-test.iso")
        let torito = try ImageTool.run(["xorriso", "-indev", iso.path, "-report_el_torito", "plain"])
        let report = torito.stdoutString + torito.stderrString
        #expect(report.contains("UEFI") && !report.contains("BIOS"), "\(report)")

        // 16 MiB < 32 MiB: refused with the FAILED marker, the disk left as it was.
        let small = scratch.path("small.raw")
        try ImageTool.run(["truncate", "-s", "16M", small.path])
        let refused = try InstallBoot.run(iso: iso, target: small, firmware: .uefi, medium: .cdrom, scratch: scratch)
        let tail = refused.console.split(separator: "\n").suffix(12).joined(separator: "\n")
        #expect(refused.failed && !refused.installed, "\(tail)")
        #expect(
            refused.console.contains(
                "\(ISOInstaller.failedMarker): target disk /dev/vda is too small: 16777216 bytes (16 MiB), the image needs 33554432 bytes (32 MiB)"),
            "\(tail)")
        #expect(try ImageTool.status(["cmp", "-s", "-n", String(16 << 20), small.path, "/dev/zero"]).status == 0, "the small disk was not written")

        let large = scratch.path("large.raw")
        try ImageTool.run(["truncate", "-s", "64M", large.path])
        let done = try InstallBoot.run(iso: iso, target: large, firmware: .uefi, medium: .cdrom, scratch: scratch)
        #expect(done.installed && done.poweredOff, "\(done.console.split(separator: "\n").suffix(12).joined(separator: "\n"))")
        let compare = try ImageTool.status(["qemu-img", "compare", "-f", "raw", "-F", "raw", raw.path, large.path])
        #expect(compare.status == 0, "\(compare.stdoutString)")
    }
}

/// A request and its ISO target, edited field by field by the refusal cases.
struct ISOCase {
    var request: ImageBuildRequest
    var target: ISOImage

    static func build(_ c: ISOCase, reporter: @escaping ImagePipeline.Reporter) async throws -> ISOBuildResult {
        try await ImagePipeline.build(c.request, target: c.target, reporter: reporter)
    }
}
