import Foundation
import UnisonArchive
import UnisonCore
import UnisonDisk
import UnisonSpec

/// Everything one VM disk build needs; `init(spec:…)` fills it from `unison.yaml`.
public struct VMBuildOptions: Sendable {
    public var base: BaseSource
    public var outputDirectory: URL
    public var version: String
    /// `<prefix>-linux-vm-<version>.<format>`: the platform's name (`unisonos`).
    public var artifactPrefix: String
    public var title: String
    public var formats: [DiskFormat]
    /// Virtual disk size; a multiple of 1 MiB.
    public var diskSize: Int64
    /// ESP size; nil picks 256 MiB or more if the boot files need it.
    public var espSize: Int64?
    /// Kernel arguments after root=, rw and the consoles.
    public var kernelArguments: [String]
    public var epoch: Int64
    public var cacheDir: URL
    public var vmdkLevel: Int32
    public var threads: Int
    public var hostBootLoader: URL?
    public var ext4: any Ext4Builder
    /// Ollama model stores of the root (the spec's `models.store`), listed in the SBOM.
    public var modelStores: [String] = []
    /// Write `<artifact>.spdx.json` beside each disk.
    public var writeSBOM = true

    public init(base: BaseSource, outputDirectory: URL, version: String, artifactPrefix: String = "unisonos",
                title: String = "UnisonOS", formats: [DiskFormat] = [.qcow2, .vmdk], diskSize: Int64 = 4 << 30,
                espSize: Int64? = nil, kernelArguments: [String] = [], epoch: Int64 = SourceDateEpoch.current(),
                cacheDir: URL = BaseCache.directory(), vmdkLevel: Int32 = 6,
                threads: Int = ProcessInfo.processInfo.activeProcessorCount,
                hostBootLoader: URL? = URL(fileURLWithPath: VMBootFiles.hostLoaderPath),
                ext4: any Ext4Builder = NativeExt4Builder()) {
        self.base = base
        self.outputDirectory = outputDirectory
        self.version = version
        self.artifactPrefix = artifactPrefix
        self.title = title
        self.formats = formats
        self.diskSize = diskSize
        self.espSize = espSize
        self.kernelArguments = kernelArguments
        self.epoch = epoch
        self.cacheDir = cacheDir
        self.vmdkLevel = vmdkLevel
        self.threads = threads
        self.hostBootLoader = hostBootLoader
        self.ext4 = ext4
    }

    /// Options from the spec's `targets.vm`: its base and formats unless given, `diskSize`
    /// unless given, the platform version and names.
    public init(spec: PlatformSpec, base: BaseSource? = nil, outputDirectory: URL, version: String? = nil,
                formats: [DiskFormat]? = nil, diskSize: Int64? = nil, epoch: Int64 = SourceDateEpoch.current(),
                cacheDir: URL = BaseCache.directory()) throws {
        guard let target = spec.targets.vm else { throw VMError.noVMTarget }
        let chosen: BaseSource
        if let base {
            chosen = base
        } else if let named = spec.base(named: target.base) {
            chosen = .named(named)
        } else {
            throw BaseError.notFound(target.base, hint: "targets.vm.base names no entry of bases:")
        }
        let specFormats = target.formats.compactMap { DiskFormat(rawValue: $0.lowercased()) }
        self.init(base: chosen, outputDirectory: outputDirectory, version: version ?? spec.platform.version.description,
                  artifactPrefix: spec.platform.name, title: spec.platform.displayName,
                  formats: formats ?? (specFormats.isEmpty ? [.qcow2, .vmdk] : specFormats),
                  diskSize: diskSize ?? target.diskSize.bytes, epoch: epoch, cacheDir: cacheDir)
        modelStores = [spec.models.store]
    }

    public func artifactName(_ format: DiskFormat) -> String { "\(artifactPrefix)-linux-vm-\(version).\(format.fileExtension)" }
}

public struct VMArtifact: Sendable, Codable, Equatable {
    public var name: String
    public var path: String
    public var format: DiskFormat
    public var sha256: String
    public var size: Int64
    /// Its SPDX SBOM, when written.
    public var sbom: String?
}

public struct VMPartitionInfo: Sendable, Codable, Equatable {
    public var name: String
    public var type: GUID
    public var guid: GUID
    public var offset: Int64
    public var size: Int64
    public var filesystem: String
    public var filesystemID: String
}

/// The build's result, printed by `unisonctl image build vm --json`.
public struct VMBuildResult: Sendable, Codable, Equatable {
    public var schema = "unisonctl.image-build.vm/v1"
    public var version: String
    public var base: String
    public var sourceDateEpoch: Int64
    public var diskSize: Int64
    public var diskGUID: GUID
    public var partitions: [VMPartitionInfo]
    public var kernel: String
    public var bootLoader: String
    public var kernelCommandLine: String
    public var entries: Int
    public var contentBytes: Int64
    public var artifacts: [VMArtifact]
}

public enum VMImage {
    static let mib: Int64 = 1 << 20
    static let defaultESPSize: Int64 = 256 << 20

    /// Builds the VM disks: base → overlay → fstab → GPT [ESP (FAT32, systemd-boot, kernel,
    /// initrd) | root (ext4)] → each format in one pass, written atomically. Identifiers are
    /// derived from the content; same inputs and epoch give the same bytes.
    public static func build(_ options: VMBuildOptions, overlay: any RootfsOverlay,
                             status: (@Sendable (String) -> Void)? = nil,
                             reporter: @Sendable (String, Int64?) -> ProgressReporter = { ProgressReporter($0, total: $1) })
        async throws -> VMBuildResult {
        let allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-")
        guard !options.version.isEmpty, !options.version.hasPrefix("."), options.version.unicodeScalars.allSatisfy(allowed.contains) else {
            throw VMError.badVersion(options.version)
        }
        guard !options.formats.isEmpty else { throw VMError.noFormats }
        for format in options.formats { _ = try ArtifactPath.destination(in: options.outputDirectory, name: options.artifactName(format)) }
        guard options.diskSize % mib == 0 else {
            throw VMError.badDiskSize(options.diskSize, reason: "must be a multiple of 1 MiB")
        }
        let workDir = try RootfsBuilder.makeWorkDir(label: "vm")
        defer { try? FileManager.default.removeItem(at: workDir) }

        var tree = try RootfsBuilder.assemble(base: options.base, overlay: overlay, epoch: options.epoch,
                                              cacheDir: options.cacheDir, workDir: workDir, progress: status)
        let boot = try VMBootFiles.find(in: tree, hostLoader: options.hostBootLoader)
        status?("kernel \(boot.release), boot loader \(boot.loaderSource)")

        // Identifiers from the content and the build's parameters.
        status?("hashing the tree for disk identifiers")
        let seed = TreeDigest.combine(try TreeDigest.digest(tree), [
            "unisonos-vm/1", options.version, String(options.diskSize), String(options.epoch), options.kernelArguments.joined(separator: " "),
        ])
        let diskGUID = GUID.derived(from: seed, label: "disk")
        let espGUID = GUID.derived(from: seed, label: "esp-partition")
        let rootGUID = GUID.derived(from: seed, label: "root-partition")
        let fsUUID = GUID.derived(from: seed, label: "root-filesystem")
        let volumeID = TreeDigest.derived32(from: seed, label: "esp-volume")

        // Partition plan: ESP at 1 MiB, root after it up to the last whole MiB before the backup GPT.
        let commandLine = VMBootConfig.kernelCommandLine(rootPartition: rootGUID, extra: options.kernelArguments)
        let esp = try VMBootConfig.espTree(boot: boot, title: "\(options.title) \(options.version)", commandLine: commandLine,
                                           mtime: options.epoch)
        let bootBytes = esp.contentSize
        let espSize = options.espSize ?? max(defaultESPSize, roundUp(bootBytes * 3 / 2 + 64 * mib, mib))
        let sectors = UInt64(options.diskSize / 512)
        let espFirst: UInt64 = 2048
        let espLast = espFirst + UInt64(espSize / 512) - 1
        let rootFirst = espLast + 1
        let rootEnd = ((sectors - 34) / 2048) * 2048  // exclusive, MiB-aligned
        let rootNeeded = roundUp(tree.contentSize + tree.contentSize / 8 + Int64(tree.count) * 4096 + 96 * mib, mib)
        guard rootEnd > rootFirst, Int64(rootEnd - rootFirst) * 512 >= rootNeeded else {
            throw DiskError.doesNotFit(what: "the disk (\(tree.count) entries and \(ProgressReporter.formatBytes(tree.contentSize)) of files in the root, a \(ProgressReporter.formatBytes(espSize)) ESP; raise targets.vm.diskSize or pass --disk-size)",
                                       needed: rootNeeded + espSize + 2 * mib, available: options.diskSize)
        }
        let gpt = GPT(diskSectors: sectors, diskGUID: diskGUID, partitions: [
            GPTPartition(type: PartitionType.efiSystem, guid: espGUID, name: "EFI System", firstLBA: espFirst, lastLBA: espLast),
            GPTPartition(type: PartitionType.linuxRootX86_64, guid: rootGUID, name: "\(options.title) root",
                         firstLBA: rootFirst, lastLBA: rootEnd - 1),
        ])
        try gpt.validate()

        try VMBootConfig.applyFstab(&tree, root: rootGUID, esp: espGUID, mtime: options.epoch)

        status?("ESP: FAT32, \(ProgressReporter.formatBytes(espSize)), \(ProgressReporter.formatBytes(bootBytes)) of boot files")
        let fat = try FAT32Volume.build(esp, size: espSize, options: .init(label: "ESP", volumeID: volumeID,
                                                                          hiddenSectors: UInt32(espFirst)))
        let rootSize = gpt.partitions[1].size
        status?("root: ext4, \(ProgressReporter.formatBytes(rootSize)), \(tree.count) entries")
        let ext4 = try options.ext4.build(tree, image: workDir.appendingPathComponent("root.ext4"), size: rootSize,
                                          options: .init(uuid: fsUUID, label: "\(options.artifactPrefix)-root", epoch: options.epoch,
                                                         workDir: workDir))

        var layout = DiskLayout(size: options.diskSize)
        try layout.add(.bytes(gpt.primaryRegion()), at: 0)
        try layout.add(fat.extents, at: gpt.partitions[0].offset)
        try layout.add(ext4.extents(at: gpt.partitions[1].offset), at: 0)
        try layout.add(.bytes(gpt.backupRegion()), at: gpt.backupRegionOffset)

        var artifacts: [VMArtifact] = []
        for format in options.formats {
            let destination = try ArtifactPath.destination(in: options.outputDirectory, name: options.artifactName(format))
            let encoder: any DiskEncoder = switch format {
            case .raw: RawEncoder()
            case .qcow2: Qcow2Encoder()
            case .vmdk: VMDKEncoder(fileName: destination.lastPathComponent, level: options.vmdkLevel, concurrency: options.threads)
            }
            status?("writing \(destination.path)")
            let progress = reporter("writing \(destination.lastPathComponent)", layout.mappedBytes)
            try await writeAtomically(destination) { tmp in
                try await encoder.encode(layout, to: tmp) { progress.set($0) }
            }
            progress.finish()
            let (hex, size) = try SHA256Hex.file(destination)
            artifacts.append(VMArtifact(name: destination.lastPathComponent, path: destination.path, format: format, sha256: hex, size: size))
        }
        if options.writeSBOM {
            let sboms = try ImageSBOM.write(tree: tree, artifacts: artifacts.map { (URL(fileURLWithPath: $0.path), $0.sha256) }, version: options.version,
                                            base: options.base, cacheDir: options.cacheDir, modelStores: options.modelStores,
                                            epoch: options.epoch, status: status)
            for i in artifacts.indices { artifacts[i].sbom = sboms[i] }
        }
        return VMBuildResult(
            version: options.version, base: options.base.description, sourceDateEpoch: options.epoch, diskSize: options.diskSize,
            diskGUID: diskGUID,
            partitions: [
                VMPartitionInfo(name: gpt.partitions[0].name, type: PartitionType.efiSystem, guid: espGUID, offset: gpt.partitions[0].offset,
                                size: espSize, filesystem: "fat32", filesystemID: String(format: "%04X-%04X", volumeID >> 16, volumeID & 0xFFFF)),
                VMPartitionInfo(name: gpt.partitions[1].name, type: PartitionType.linuxRootX86_64, guid: rootGUID,
                                offset: gpt.partitions[1].offset, size: rootSize, filesystem: "ext4", filesystemID: fsUUID.text(uppercase: false)),
            ],
            kernel: boot.release, bootLoader: boot.loaderSource, kernelCommandLine: commandLine,
            entries: tree.count, contentBytes: tree.contentSize, artifacts: artifacts)
    }

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
