import FoundationEssentials
import Glibc
import UnisonArchive
import UnisonCore
import UnisonDisk
import UnisonSpec

/// The VM target: a GPT disk [ESP (FAT32: systemd-boot, kernel, initrd) | root (ext4)], written
/// as each format in one pass.
package struct VMImage: ImageTarget {
    package var name: String { "vm" }
    package var formats: [DiskFormat]
    /// Virtual disk size; a multiple of 1 MiB.
    package var diskSize: Int64
    /// ESP size; nil picks 256 MiB or more if the boot files need it.
    package var espSize: Int64?
    /// Kernel arguments after root=, rw and the consoles.
    package var kernelArguments: [String]
    package var vmdkLevel: Int32
    package var hostBootLoader: URL?
    package var ext4: any Ext4Builder

    package init(
        formats: [DiskFormat] = [.qcow2, .vmdk], diskSize: Int64 = 4 << 30, espSize: Int64? = nil,
        kernelArguments: [String] = [], vmdkLevel: Int32 = 6,
        hostBootLoader: URL? = URL(fileURLWithPath: VMBootFiles.hostLoaderPath),
        ext4: any Ext4Builder = NativeExt4Builder()
    ) {
        self.formats = formats
        self.diskSize = diskSize
        self.espSize = espSize
        self.kernelArguments = kernelArguments
        self.vmdkLevel = vmdkLevel
        self.hostBootLoader = hostBootLoader
        self.ext4 = ext4
    }

    package static func artifactURL(_ format: DiskFormat, _ request: ImageBuildRequest) throws -> URL {
        try request.artifactURL("linux-vm", format.fileExtension)
    }

    package func check(_ request: ImageBuildRequest) throws {
        guard !formats.isEmpty else { throw VMError.noFormats }
        for format in formats { _ = try Self.artifactURL(format, request) }
        guard diskSize % Self.mib == 0 else {
            throw VMError.badDiskSize(diskSize, reason: "must be a multiple of 1 MiB")
        }
    }

    /// Root → fstab → the disk laid out once (or the run's disk with the same settings) → each
    /// format written atomically. Identifiers are derived from the content; same inputs and
    /// epoch give the same bytes.
    package func build(_ root: ImageRoot, run: inout ImageRun) async throws -> VMBuildResult {
        let label = run.disksLaidOut
        let disk = try await run.disk(diskKey) { try Self.layOut(root, settings: self, label: label) }
        var artifacts: [ImageArtifact] = []
        for format in formats {
            artifacts.append(try await disk.write(format, to: try Self.artifactURL(format, root.request), settings: self, root: root))
        }
        try ImageSBOM.attach(to: &artifacts, tree: disk.tree, root: root)
        return disk.result(artifacts: artifacts, request: root.request)
    }

    /// What makes two disks of one root the same bytes.
    struct DiskKey: Hashable, Sendable {
        var diskSize: Int64
        var espSize: Int64?
        var kernelArguments: [String]
        var hostBootLoader: URL?
        var ext4: String
    }

    var diskKey: DiskKey {
        DiskKey(
            diskSize: diskSize, espSize: espSize, kernelArguments: kernelArguments, hostBootLoader: hostBootLoader,
            ext4: String(reflecting: type(of: ext4)))
    }

    /// A disk laid out from the root: every byte planned, ready for any format.
    struct Disk: Sendable {
        var tree: FileTree
        var layout: DiskLayout
        var info: VMBuildResult

        func write(_ format: DiskFormat, to destination: URL, settings: VMImage, root: ImageRoot) async throws -> ImageArtifact {
            try await encode(format, to: destination, settings: settings, root: root)
            return try ImageArtifact.file(destination, format: format)
        }

        /// Writes the disk in `format` to `destination` (atomically), without hashing the result:
        /// for a raw disk that another pass reads anyway (the ISO's payload hashes it as it packs,
        /// holes from memory, where reading 4 GiB of mostly holes back costs far longer).
        func encode(_ format: DiskFormat, to destination: URL, settings: VMImage, root: ImageRoot) async throws {
            let encoder: any DiskEncoder =
                switch format {
                case .raw: RawEncoder()
                case .qcow2: Qcow2Encoder()
                case .vmdk: VMDKEncoder(fileName: destination.lastPathComponent, level: settings.vmdkLevel, concurrency: root.request.threads)
                }
            root.status?("writing \(destination.path)")
            let progress = root.reporter("writing \(destination.lastPathComponent)", layout.mappedBytes)
            try await VMImage.writeAtomically(destination) { tmp in
                try await encoder.encode(layout, to: tmp) { progress.set($0) }
            }
            progress.finish()
        }

        func result(artifacts: [ImageArtifact], request: ImageBuildRequest) -> VMBuildResult {
            var result = info
            result.artifacts = artifacts
            return result
        }
    }

    static let mib: Int64 = 1 << 20
    static let defaultESPSize: Int64 = 256 << 20

    /// Lays the disk out: fstab into the tree, GPT, the ESP and the ext4 root (built in the
    /// run's work directory, which outlives every target of the run).
    static func layOut(_ root: ImageRoot, settings: VMImage, label: Int) throws -> Disk {
        let request = root.request
        var tree = root.tree
        let workDir = root.workDir.appendingPathComponent("disk-\(label)")
        try FileManager.default.createDirectory(at: workDir, withIntermediateDirectories: true)
        let boot = try VMBootFiles.find(in: root.tree, hostLoader: settings.hostBootLoader)
        root.status?("kernel \(boot.release), boot loader \(boot.loaderSource)")

        // Identifiers from the content and the build's parameters.
        root.status?("hashing the tree for disk identifiers")
        let seed = TreeDigest.combine(
            try TreeDigest.digest(tree),
            [
                "unisonos-vm/1", request.version.text, String(settings.diskSize), String(request.epoch),
                settings.kernelArguments.joined(separator: " "),
            ])
        let diskGUID = GUID.derived(from: seed, label: "disk")
        let espGUID = GUID.derived(from: seed, label: "esp-partition")
        let rootGUID = GUID.derived(from: seed, label: "root-partition")
        let fsUUID = GUID.derived(from: seed, label: "root-filesystem")
        let volumeID = TreeDigest.derived32(from: seed, label: "esp-volume")

        // Partition plan: ESP at 1 MiB, root after it up to the last whole MiB before the backup GPT.
        let commandLine = VMBootConfig.kernelCommandLine(rootPartition: rootGUID, extra: settings.kernelArguments)
        let esp = try VMBootConfig.espTree(
            boot: boot, title: "\(request.title) \(request.version.text)", commandLine: commandLine,
            mtime: request.epoch)
        let bootBytes = esp.contentSize
        let espSize = settings.espSize ?? max(defaultESPSize, roundUp(bootBytes * 3 / 2 + 64 * mib, mib))
        let sectors = UInt64(settings.diskSize / 512)
        let espFirst: UInt64 = 2048
        let espLast = espFirst + UInt64(espSize / 512) - 1
        let rootFirst = espLast + 1
        let rootEnd = ((sectors - 34) / 2048) * 2048  // exclusive, MiB-aligned
        let rootNeeded = roundUp(tree.contentSize + tree.contentSize / 8 + Int64(tree.count) * 4096 + 96 * mib, mib)
        guard rootEnd > rootFirst, Int64(rootEnd - rootFirst) * 512 >= rootNeeded else {
            throw DiskError.doesNotFit(
                what:
                    "the disk (\(tree.count) entries and \(ProgressReporter.formatBytes(tree.contentSize)) of files in the root, a \(ProgressReporter.formatBytes(espSize)) ESP; raise targets.vm.diskSize or pass --disk-size)",
                needed: rootNeeded + espSize + 2 * mib, available: settings.diskSize)
        }
        let gpt = GPT(
            diskSectors: sectors, diskGUID: diskGUID,
            partitions: [
                GPTPartition(type: PartitionType.efiSystem, guid: espGUID, name: "EFI System", firstLBA: espFirst, lastLBA: espLast),
                GPTPartition(
                    type: PartitionType.linuxRootX86_64, guid: rootGUID, name: "\(request.title) root",
                    firstLBA: rootFirst, lastLBA: rootEnd - 1),
            ])
        try gpt.validate()

        try VMBootConfig.applyFstab(&tree, root: rootGUID, esp: espGUID, mtime: request.epoch)

        root.status?("ESP: FAT32, \(ProgressReporter.formatBytes(espSize)), \(ProgressReporter.formatBytes(bootBytes)) of boot files")
        let fat = try FAT32Volume.build(
            esp, size: espSize,
            options: .init(
                label: "ESP", volumeID: volumeID,
                hiddenSectors: UInt32(espFirst)))
        let rootSize = gpt.partitions[1].size
        root.status?("root: ext4, \(ProgressReporter.formatBytes(rootSize)), \(tree.count) entries")
        let ext4 = try settings.ext4.build(
            tree, image: workDir.appendingPathComponent("root.ext4"), size: rootSize,
            options: .init(
                uuid: fsUUID, label: "\(request.artifactPrefix)-root", epoch: request.epoch,
                workDir: workDir))

        var layout = DiskLayout(size: settings.diskSize)
        try layout.add(.bytes(gpt.primaryRegion()), at: 0)
        try layout.add(fat.extents, at: gpt.partitions[0].offset)
        try layout.add(ext4.extents(at: gpt.partitions[1].offset), at: 0)
        try layout.add(.bytes(gpt.backupRegion()), at: gpt.backupRegionOffset)

        // The FAT volume serial as blkid prints it: XXXX-XXXX.
        let espSerial = [volumeID >> 16, volumeID & 0xFFFF].map { NumberText.hex($0, width: 4, uppercase: true) }.joined(separator: "-")
        let info = VMBuildResult(
            version: request.version.text, base: request.base.description, sourceDateEpoch: request.epoch, diskSize: settings.diskSize,
            diskGUID: diskGUID,
            partitions: [
                VMPartitionInfo(
                    name: gpt.partitions[0].name, type: PartitionType.efiSystem, guid: espGUID, offset: gpt.partitions[0].offset,
                    size: espSize, filesystem: "fat32", filesystemID: espSerial),
                VMPartitionInfo(
                    name: gpt.partitions[1].name, type: PartitionType.linuxRootX86_64, guid: rootGUID,
                    offset: gpt.partitions[1].offset, size: rootSize, filesystem: "ext4", filesystemID: fsUUID.text(uppercase: false)),
            ],
            kernel: boot.release, bootLoader: boot.loaderSource, kernelCommandLine: commandLine,
            entries: tree.count, contentBytes: tree.contentSize, artifacts: [])
        return Disk(tree: tree, layout: layout, info: info)
    }
}

package struct VMPartitionInfo: Sendable, Codable, Equatable {
    package var name: String
    package var type: GUID
    package var guid: GUID
    package var offset: Int64
    package var size: Int64
    package var filesystem: String
    package var filesystemID: String
}

/// The build's result, printed by `unisonctl image build vm --json`.
package struct VMBuildResult: ImageBuildResult, Codable, Equatable {
    package var schema = "unisonctl.image-build.vm/v1"
    package var version: String
    package var base: String
    package var sourceDateEpoch: Int64
    package var diskSize: Int64
    package var diskGUID: GUID
    package var partitions: [VMPartitionInfo]
    package var kernel: String
    package var bootLoader: String
    package var kernelCommandLine: String
    package var entries: Int
    package var contentBytes: Int64
    package var artifacts: [ImageArtifact]

    package var summary: [String] { artifacts.map(\.line) }
}

extension VMImage {
    static func roundUp(_ n: Int64, _ unit: Int64) -> Int64 { (n + unit - 1) / unit * unit }

    /// AtomicFile's contract for an async writer: a temporary name beside the destination,
    /// renamed into place on success, removed on failure.
    static func writeAtomically(_ destination: URL, _ body: (URL) async throws -> Void) async throws {
        let fm = FileManager.default
        try fm.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
        let tmp = AtomicFile.temporaryURL(for: destination)
        do {
            try await body(tmp)
            try fm.setAttributes([.posixPermissions: 0o644], ofItemAtPath: tmp.path)
            if rename(tmp.path, destination.path) != 0 {
                throw DiskError.io(path: destination.path, operation: "rename into place", errno: errno)
            }
        } catch {
            try? fm.removeItem(at: tmp)
            throw error
        }
    }
}
