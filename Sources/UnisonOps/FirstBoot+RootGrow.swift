import FoundationEssentials
import Glibc
import UnisonCore
import UnisonInstall

/// The partition the root filesystem is mounted from, found the kernel's way: the root mount's
/// `major:minor` in mountinfo (proc(5)), then `/sys/dev/block/<major:minor>`, a link to the
/// partition's sysfs directory whose `partition` file holds its number and whose parent
/// directory is the disk (sysfs-block ABI). Never a fixed `/dev/vda2`.
package struct RootDevice: Sendable, Equatable, Codable {
    /// `/dev/vda2`, `/dev/nvme0n1p2`, …
    package var partition: String
    /// `/dev/vda`, `/dev/nvme0n1`, …
    package var disk: String
    package var number: Int
    package var fsType: String
}

/// Why the root's device could not be found (reported; first boot goes on).
package enum RootGrowError: Error, CustomStringConvertible, Sendable, Equatable {
    case noRootMount(mountinfo: String)
    case badMountinfo(mountinfo: String, line: Int)
    case notABlockDevice(source: String, majorMinor: String, sysfs: String)
    case notAPartition(device: String)

    package var description: String {
        switch self {
        case let .noRootMount(path): return "\(path) lists no mount at /"
        case let .badMountinfo(path, line): return "\(path):\(line): not a mountinfo line"
        case let .notABlockDevice(source, mm, sysfs):
            return "the root filesystem (\(source), device \(mm)) has no block device in \(sysfs)/dev/block"
        case let .notAPartition(device): return "the root filesystem is on \(device), which is not a partition of a disk"
        }
    }
}

/// What the root grow step did, for the report and the console.
package struct RootGrowReport: Sendable, Equatable, Codable {
    package var device: String?
    package var disk: String?
    /// The partition was grown now (false: it already filled the disk).
    package var grewPartition: Bool
    /// The root filesystem's size after the step (statvfs f_blocks × f_frsize).
    package var bytes: Int64?
    /// Why the step failed or was skipped; nil when the root fills its disk.
    package var problem: String?
    package var skipped: Bool

    /// The one console line the boot QA parses: `firstboot: root filesystem: <device> <bytes> bytes`.
    package var consoleLine: String? {
        bytes.map { "firstboot: root filesystem: \(device ?? "/") \($0) bytes" }
    }
}

/// Grows the root partition to the end of its disk and the ext4 on it, online, at first boot:
/// `growpart` (cloud-guest-utils) moves the backup GPT to the disk's end, grows the partition
/// and tells the kernel (partx); `resize2fs` grows the mounted filesystem. Idempotent: growpart
/// answers NOCHANGE when the partition already ends at the disk's end, and resize2fs does
/// nothing when the filesystem fills its partition. Never fatal: every failure is a `problem`.
package struct RootGrow: Sendable {
    package var sysfs: URL
    package var mountinfo: URL
    package var devDir: String
    package var mountPoint: String
    package var runner: any ProcessRunner
    /// The size of the filesystem mounted at a path (statvfs); replaceable in tests.
    package var filesystemBytes: @Sendable (String) -> Int64?

    package init(
        sysfs: URL = URL(fileURLWithPath: "/sys"), mountinfo: URL = URL(fileURLWithPath: "/proc/self/mountinfo"),
        devDir: String = "/dev", mountPoint: String = "/", runner: any ProcessRunner = SystemProcessRunner(),
        filesystemBytes: @escaping @Sendable (String) -> Int64? = RootGrow.statvfsSize
    ) {
        self.sysfs = sysfs
        self.mountinfo = mountinfo
        self.devDir = devDir
        self.mountPoint = mountPoint
        self.runner = runner
        self.filesystemBytes = filesystemBytes
    }

    /// Filesystem types resize2fs grows while mounted.
    static let growable: Set<String> = ["ext4", "ext3"]

    /// `f_blocks × f_frsize` of the filesystem at `path`.
    package static func statvfsSize(_ path: String) -> Int64? {
        var st = statvfs()
        guard statvfs(path, &st) == 0 else { return nil }
        return Int64(st.f_blocks) * Int64(st.f_frsize)
    }

    /// The last mount at `mountPoint` in a mountinfo text (later lines mount over earlier
    /// ones): its `major:minor`, filesystem type and source.
    static func mount(at mountPoint: String, in text: String, path: String) throws -> (majorMinor: String, fsType: String, source: String) {
        var found: (String, String, String)?
        for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where !line.isEmpty {
            let fields = line.split(separator: " ").map(String.init)
            // id parent major:minor root mount-point options [optional…] - fstype source super-options
            guard fields.count >= 10, let dash = fields.firstIndex(of: "-"), dash >= 6, dash + 2 < fields.count,
                fields[2].split(separator: ":").count == 2
            else { throw RootGrowError.badMountinfo(mountinfo: path, line: n + 1) }
            if fields[4] == mountPoint { found = (fields[2], fields[dash + 1], fields[dash + 2]) }
        }
        guard let found else { throw RootGrowError.noRootMount(mountinfo: path) }
        return found
    }

    /// The root's partition and disk, from mountinfo and sysfs.
    package func findRoot() throws -> RootDevice {
        let text = try String(contentsOf: mountinfo, encoding: .utf8)
        let (mm, fsType, source) = try Self.mount(at: mountPoint, in: text, path: mountinfo.path)
        let link = sysfs.appendingPathComponent("dev/block/\(mm)")
        guard FileManager.default.fileExists(atPath: link.path) else {
            throw RootGrowError.notABlockDevice(source: source, majorMinor: mm, sysfs: sysfs.path)
        }
        let dir = link.resolvingSymlinksInPath()
        let name = dir.lastPathComponent
        guard let numberText = try? String(contentsOf: dir.appendingPathComponent("partition"), encoding: .utf8),
            let number = Int(numberText.trimming(.whitespacesAndNewlines)), number > 0
        else { throw RootGrowError.notAPartition(device: devDir + "/" + name) }
        let disk = dir.deletingLastPathComponent().lastPathComponent
        return RootDevice(partition: devDir + "/" + name, disk: devDir + "/" + disk, number: number, fsType: fsType)
    }

    /// Finds the root, grows partition and filesystem, measures the result.
    package func run() -> RootGrowReport {
        var report = RootGrowReport(device: nil, disk: nil, grewPartition: false, bytes: nil, problem: nil, skipped: false)
        grow(&report)
        report.bytes = filesystemBytes(mountPoint)
        return report
    }

    func grow(_ report: inout RootGrowReport) {
        let root: RootDevice
        do { root = try findRoot() } catch {
            report.problem = "\(error)"
            report.skipped = true
            return
        }
        report.device = root.partition
        report.disk = root.disk
        guard Self.growable.contains(root.fsType) else {
            report.problem = "the root filesystem is \(root.fsType), which is not grown here (only ext4 and ext3)"
            report.skipped = true
            return
        }
        do {
            let grow = try runner.run(["growpart", root.disk, String(root.number)])
            // growpart: 0 grown, 1 with NOCHANGE nothing to do, anything else a failure.
            if grow.status == 0 {
                report.grewPartition = true
            } else if !(grow.status == 1 && grow.stdoutString.contains("NOCHANGE")) {
                report.problem = Self.failure("growpart \(root.disk) \(root.number)", grow)
                return
            }
            // Always: a power loss between the two steps leaves a grown partition and a small filesystem.
            let resize = try runner.run(["resize2fs", root.partition])
            if resize.status != 0 { report.problem = Self.failure("resize2fs \(root.partition)", resize) }
        } catch {
            report.problem = "\(error)"
        }
    }

    static func failure(_ command: String, _ result: ProcessResult) -> String {
        let text = (result.stderrString + "\n" + result.stdoutString).split(separator: "\n")
            .map { $0.trimming(.whitespaces) }.filter { !$0.isEmpty }.suffix(2).joined(separator: " / ")
        return "'\(command)' exited with status \(result.status)" + (text.isEmpty ? "" : ": \(text)")
    }
}

extension FirstBoot {
    /// Where a grow that ran ahead of first boot (`growRootAhead`) is recorded.
    package var rootGrowRecord: String { layout.dataDir + "/root-grow.json" }

    /// Grows the root ahead of first boot, once: the platform unit runs it before the preloaded
    /// images are loaded onto the root. Prints the console line, records the report for first
    /// boot (which then does not grow or print again); does nothing when first boot already
    /// completed or the grow is recorded. Never fails.
    @discardableResult
    package func growRootAhead() -> RootGrowReport? {
        let fm = FileManager.default
        guard let rootGrow, !fm.fileExists(atPath: hostPath(stateFile)), !fm.fileExists(atPath: hostPath(rootGrowRecord)) else {
            return nil
        }
        let grown = rootGrow.run()
        if let line = grown.consoleLine { announce(line) }
        if let problem = grown.problem { announce("firstboot: root: not grown: \(problem)") }
        do {
            let url = URL(fileURLWithPath: hostPath(rootGrowRecord))
            try fm.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try AtomicFile.write(try JSONOutput.encoder().encode(grown), to: url, permissions: 0o644)
        } catch {
            log("cannot record the root grow in \(rootGrowRecord): \(error)")
        }
        return grown
    }

    /// First boot's grow step: the report recorded ahead of it, else a grow now (printing its line).
    func growRootStep() -> RootGrowReport? {
        if let data = FileManager.default.contents(atPath: hostPath(rootGrowRecord)),
            let earlier = try? JSONDecoder().decode(RootGrowReport.self, from: data)
        {
            return earlier
        }
        guard let rootGrow else { return nil }
        let grown = rootGrow.run()
        if let line = grown.consoleLine { announce(line) }
        return grown
    }
}
