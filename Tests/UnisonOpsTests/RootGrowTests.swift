import Foundation
import Testing
import UnisonCore
import UnisonTestSupport

@testable import UnisonOps

/// A runner that answers from a script and records what was asked.
final class GrowRunner: ProcessRunner, @unchecked Sendable {
    private let lock = NSLock()
    private var calls: [[String]] = []
    let answer: @Sendable ([String]) -> ProcessResult

    init(answer: @escaping @Sendable ([String]) -> ProcessResult) { self.answer = answer }

    var commands: [[String]] { lock.withLock { calls } }

    func run(_ arguments: [String], environment: [String: String]?, input: Data?, workingDirectory: URL?) throws -> ProcessResult {
        lock.withLock { calls.append(arguments) }
        return answer(arguments)
    }
}

/// A fake /sys and mountinfo, laid out as the kernel does.
struct FakeSysfs {
    let root: URL
    var sys: URL { root.appendingPathComponent("sys") }
    var mountinfo: URL { root.appendingPathComponent("mountinfo") }

    init(_ label: String) throws { root = try OpsFixture.tempDir(label) }

    /// `devices/…/block/<disk>[/<part>]` with its `partition` file, and the `dev/block/<mm>` link.
    func addDevice(majorMinor: String, disk: String, partition: (name: String, number: Int)?) throws {
        var path = "devices/pci0000:00/0000:00:04.0/virtio1/block/\(disk)"
        if let partition { path += "/\(partition.name)" }
        let dir = sys.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        if let partition { try Data("\(partition.number)\n".utf8).write(to: dir.appendingPathComponent("partition")) }
        let links = sys.appendingPathComponent("dev/block")
        try FileManager.default.createDirectory(at: links, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: links.appendingPathComponent(majorMinor).path, withDestinationPath: "../../" + path)
    }

    func writeMountinfo(_ text: String) throws { try Data(text.utf8).write(to: mountinfo) }

    func grow(runner: any ProcessRunner, devDir: String = "/dev", bytes: Int64? = 21_000_000_000) -> RootGrow {
        RootGrow(sysfs: sys, mountinfo: mountinfo, devDir: devDir, runner: runner, filesystemBytes: { _ in bytes })
    }
}

@Suite("first boot: root grow, discovery and steps", .tags(.unit))
struct RootGrowTests {
    static let mountinfo = """
        22 1 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
        1 0 254:1 / / ro,relatime - ext4 /dev/vda1 ro
        25 1 254:2 / / rw,relatime shared:1 - ext4 /dev/vda2 rw,errors=remount-ro
        26 25 0:23 / /run rw,nosuid,nodev shared:12 - tmpfs tmpfs rw,size=401620k,mode=755
        30 25 259:3 / /data rw,relatime shared:14 master:2 - ext4 /dev/nvme0n1p3 rw

        """

    @Test(
        "the root's partition and disk come from mountinfo (the last mount at /) and sysfs",
        arguments: [
            ("254:2", "vda", ("vda2", 2), "/", RootDevice(partition: "/dev/vda2", disk: "/dev/vda", number: 2, fsType: "ext4")),
            (
                "259:3", "nvme0n1", ("nvme0n1p3", 3), "/data",
                RootDevice(partition: "/dev/nvme0n1p3", disk: "/dev/nvme0n1", number: 3, fsType: "ext4")
            ),
        ])
    func discovery(mm: String, disk: String, part: (String, Int), mountPoint: String, expected: RootDevice) throws {
        let fake = try FakeSysfs("grow-find")
        defer { try? FileManager.default.removeItem(at: fake.root) }
        try fake.writeMountinfo(Self.mountinfo)
        // A decoy: the overmounted first root, on another partition.
        try fake.addDevice(majorMinor: "254:1", disk: "vda", partition: ("vda1", 1))
        try fake.addDevice(majorMinor: mm, disk: disk, partition: (name: part.0, number: part.1))
        var grow = fake.grow(runner: GrowRunner { _ in ProcessResult(status: 0, stdout: Data(), stderr: Data()) })
        grow.mountPoint = mountPoint
        #expect(try grow.findRoot() == expected)
    }

    @Test("a root on a whole disk, an unknown device, no root mount, a broken line: each a clear error")
    func discoveryErrors() throws {
        let fake = try FakeSysfs("grow-errors")
        defer { try? FileManager.default.removeItem(at: fake.root) }
        let runner = GrowRunner { _ in ProcessResult(status: 0, stdout: Data(), stderr: Data()) }
        try fake.addDevice(majorMinor: "254:0", disk: "vda", partition: nil)
        try fake.writeMountinfo("25 1 254:0 / / rw - ext4 /dev/vda rw\n")
        #expect(throws: RootGrowError.notAPartition(device: "/dev/vda")) { try fake.grow(runner: runner).findRoot() }
        try fake.writeMountinfo("25 1 0:31 / / rw - overlay overlay rw,lowerdir=/x\n")
        #expect(throws: RootGrowError.notABlockDevice(source: "overlay", majorMinor: "0:31", sysfs: fake.sys.path)) {
            try fake.grow(runner: runner).findRoot()
        }
        try fake.writeMountinfo("26 25 0:23 / /run rw shared:12 - tmpfs tmpfs rw\n")
        #expect(throws: RootGrowError.noRootMount(mountinfo: fake.mountinfo.path)) { try fake.grow(runner: runner).findRoot() }
        try fake.writeMountinfo("26 25 0:23 / /run rw shared:12 - tmpfs tmpfs rw\ngarbage\n")
        #expect(throws: RootGrowError.badMountinfo(mountinfo: fake.mountinfo.path, line: 2)) { try fake.grow(runner: runner).findRoot() }
        // Never fatal: run() reports it, still measures the root, runs nothing.
        let report = fake.grow(runner: runner).run()
        #expect(report.skipped && report.problem != nil && report.bytes == 21_000_000_000)
        #expect(report.consoleLine == "firstboot: root filesystem: / 21000000000 bytes")
        #expect(runner.commands.isEmpty)
    }

    @Test(
        "growpart's answer decides: grown, NOCHANGE (resize2fs still runs), failure (nothing more)",
        arguments: [
            (Int32(0), "CHANGED: partition=2 start=18432", true, nil as String?, 2),
            (1, "NOCHANGE: partition 2 is size 243679. it cannot be grown", false, nil, 2),
            (2, "FAILED: failed to resize", false, "'growpart /dev/vda 2' exited with status 2: FAILED: failed to resize", 1),
        ])
    func steps(status: Int32, stdout: String, grew: Bool, problem: String?, commands: Int) throws {
        let fake = try FakeSysfs("grow-steps")
        defer { try? FileManager.default.removeItem(at: fake.root) }
        try fake.writeMountinfo(Self.mountinfo)
        try fake.addDevice(majorMinor: "254:2", disk: "vda", partition: ("vda2", 2))
        let runner = GrowRunner { args in
            args[0] == "growpart"
                ? ProcessResult(status: status, stdout: Data(stdout.utf8), stderr: Data())
                : ProcessResult(status: 0, stdout: Data(), stderr: Data("resize2fs 1.47.2\n".utf8))
        }
        let report = fake.grow(runner: runner).run()
        #expect(report.grewPartition == grew)
        #expect(report.problem == problem)
        #expect(runner.commands == Array([["growpart", "/dev/vda", "2"], ["resize2fs", "/dev/vda2"]].prefix(commands)))
        #expect(runner.commands.count == commands)
        #expect(report.consoleLine == "firstboot: root filesystem: /dev/vda2 21000000000 bytes")
    }

    @Test("a root filesystem resize2fs cannot grow online is left alone, and said so")
    func otherFilesystem() throws {
        let fake = try FakeSysfs("grow-btrfs")
        defer { try? FileManager.default.removeItem(at: fake.root) }
        try fake.writeMountinfo("25 1 254:2 / / rw - xfs /dev/vda2 rw\n")
        try fake.addDevice(majorMinor: "254:2", disk: "vda", partition: ("vda2", 2))
        let runner = GrowRunner { _ in ProcessResult(status: 0, stdout: Data(), stderr: Data()) }
        let report = fake.grow(runner: runner).run()
        #expect(report.skipped && report.problem?.contains("xfs") == true && runner.commands.isEmpty)
    }
}

/// The real tools on a disk image file made bigger with truncate: growpart moves the backup GPT
/// and grows partition 2, resize2fs grows the ext4 in it (extracted, as no loop device is
/// available without privileges), sgdisk -v and e2fsck -fn find nothing wrong.
@Suite("first boot: root grow on a disk image", .tags(.interop))
struct RootGrowImageTests {
    /// Runs the real tools; `resize2fs <partition>` runs on the partition copied out of the disk
    /// image at the offset the (grown) partition table gives, then copied back.
    struct ImageFileRunner: ProcessRunner {
        let disk: URL
        let partitionDevice: String
        let scratch: URL
        let real = SystemProcessRunner()

        func run(_ arguments: [String], environment: [String: String]?, input: Data?, workingDirectory: URL?) throws -> ProcessResult {
            guard arguments == ["resize2fs", partitionDevice] else {
                return try real.run(arguments, environment: environment, input: input, workingDirectory: workingDirectory)
            }
            let (start, sectors) = try RootGrowImageTests.partition(2, of: disk)
            try real.check(["dd", "if=\(disk.path)", "of=\(scratch.path)", "bs=512", "skip=\(start)", "count=\(sectors)", "status=none"])
            let result = try real.run(["resize2fs", scratch.path])
            try real.check(["dd", "if=\(scratch.path)", "of=\(disk.path)", "bs=512", "seek=\(start)", "conv=notrunc", "status=none"])
            return result
        }
    }

    /// Start and size in sectors of partition `n`, read by sfdisk (an independent reader).
    static func partition(_ n: Int, of disk: URL) throws -> (start: Int, sectors: Int) {
        let out = try SystemProcessRunner().check(["sfdisk", "--json", disk.path]).stdout
        let table = (try JSONSerialization.jsonObject(with: out) as? [String: Any])?["partitiontable"] as? [String: Any]
        let parts = table?["partitions"] as? [[String: Any]] ?? []
        guard parts.count >= n, let start = parts[n - 1]["start"] as? Int, let size = parts[n - 1]["size"] as? Int else {
            throw ProcessError.failed(command: ["sfdisk", "--json"], status: 0, stderr: "no partition \(n)")
        }
        return (start, size)
    }

    /// Block count × block size of the ext4 in `image` (dumpe2fs -h).
    static func ext4Bytes(_ image: URL) throws -> Int64 {
        let text = try SystemProcessRunner().check(["dumpe2fs", "-h", image.path]).stdoutString
        func field(_ name: String) -> Int64? {
            text.split(separator: "\n").first { $0.hasPrefix(name + ":") }
                .flatMap { Int64($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) }
        }
        return (field("Block count") ?? 0) * (field("Block size") ?? 0)
    }

    @Test("a 64 MiB disk truncated to 256 MiB: GPT, partition and ext4 fill it; a second run changes nothing")
    func growsImage() throws {
        let fake = try FakeSysfs("grow-image")
        defer { try? FileManager.default.removeItem(at: fake.root) }
        let dev = fake.root.appendingPathComponent("dev")
        try FileManager.default.createDirectory(at: dev, withIntermediateDirectories: true)
        let disk = dev.appendingPathComponent("vda")
        let part = fake.root.appendingPathComponent("part.img")
        let sh = SystemProcessRunner()
        try sh.check(["truncate", "-s", "64M", disk.path])
        try sh.check(["sgdisk", "-n", "1:2048:+8M", "-t", "1:ef00", "-n", "2:0:0", "-t", "2:8304", disk.path])
        let (start, sectors) = try Self.partition(2, of: disk)
        try sh.check(["truncate", "-s", "\(sectors * 512)", part.path])
        try sh.check(["mke2fs", "-q", "-F", "-t", "ext4", "-b", "4096", part.path])
        try sh.check(["dd", "if=\(part.path)", "of=\(disk.path)", "bs=512", "seek=\(start)", "conv=notrunc", "status=none"])
        let before = try Self.ext4Bytes(part)
        try sh.check(["truncate", "-s", "256M", disk.path])
        // The bigger disk's backup GPT is not at its end yet: sgdisk says so.
        #expect(try sh.run(["sgdisk", "-v", disk.path]).stdoutString.contains("Problem"))

        try fake.writeMountinfo("25 1 254:2 / / rw,relatime shared:1 - ext4 /dev/vda2 rw\n")
        try fake.addDevice(majorMinor: "254:2", disk: "vda", partition: ("vda2", 2))
        let runner = ImageFileRunner(disk: disk, partitionDevice: dev.path + "/vda2", scratch: part)
        let grow = RootGrow(
            sysfs: fake.sys, mountinfo: fake.mountinfo, devDir: dev.path, runner: runner,
            filesystemBytes: { _ in try? RootGrowImageTests.ext4Bytes(part) })
        let report = grow.run()
        #expect(report.problem == nil && report.grewPartition, "\(report)")

        let verify = try sh.run(["sgdisk", "-v", disk.path]).stdoutString
        #expect(verify.contains("No problems found"), "\(verify)")
        let (_, grown) = try Self.partition(2, of: disk)
        let diskSectors = 256 * 1024 * 1024 / 512
        #expect(start + grown >= diskSectors - 33 - 2048, "partition 2 ends at \(start + grown) of \(diskSectors) sectors")
        let after = try Self.ext4Bytes(part)
        #expect(after > before * 3 && after <= Int64(grown) * 512 && Int64(grown) * 512 - after < 4096)
        #expect(report.consoleLine == "firstboot: root filesystem: \(dev.path)/vda2 \(after) bytes")
        let fsck = try sh.run(["e2fsck", "-fn", part.path])
        #expect(fsck.status == 0, "\(fsck.stdoutString)\(fsck.stderrString)")

        let again = grow.run()
        #expect(again.problem == nil && !again.grewPartition && again.bytes == after, "\(again)")
    }
}
