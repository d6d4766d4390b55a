import Foundation
import UnisonArchive
import UnisonAttest
import UnisonCore
import UnisonDisk
import UnisonSpec

/// What the ISO carries: a VM disk built in-process by the VM pipeline, or an existing one.
public enum ISOPayloadSource: Sendable {
    /// Build the raw VM disk from these options (their formats and output directory are
    /// ignored: the disk goes to the build's work directory) with this overlay.
    case build(VMBuildOptions, overlay: any RootfsOverlay)
    /// A raw, qcow2 or VMDK disk image (`unisonctl image build vm`'s output).
    case image(URL)
}

/// Everything one ISO build needs; `init(spec:…)` fills it from `unison.yaml`.
public struct ISOBuildOptions: Sendable {
    /// Where the installer's kernel and drivers come from (the payload's base).
    public var base: BaseSource
    public var payload: ISOPayloadSource
    public var outputDirectory: URL
    public var version: String
    public var artifactPrefix: String
    public var title: String
    public var firmware: [ISOFirmware]
    /// Payload files larger than this are split (ISO 9660 keeps a file's size in 32 bits).
    public var splitAbove: Int64
    public var kernelArguments: [String]
    public var epoch: Int64
    public var cacheDir: URL
    public var gzipLevel: Int32
    public var threads: Int
    /// systemd-boot for the EFI image (the tree's copy wins).
    public var hostBootLoader: URL
    public var isolinuxDir: URL
    public var syslinuxModules: URL
    public var busybox: URL
    public var runner: any ProcessRunner

    public init(base: BaseSource, payload: ISOPayloadSource, outputDirectory: URL, version: String, artifactPrefix: String = "unisonos",
                title: String = "UnisonOS", firmware: [ISOFirmware] = [.bios, .uefi], splitAbove: Int64 = 2 << 30,
                kernelArguments: [String] = [], epoch: Int64 = SourceDateEpoch.current(), cacheDir: URL = BaseCache.directory(),
                gzipLevel: Int32 = 6, threads: Int = ProcessInfo.processInfo.activeProcessorCount,
                hostBootLoader: URL = URL(fileURLWithPath: VMBootFiles.hostLoaderPath),
                isolinuxDir: URL = URL(fileURLWithPath: "/usr/lib/ISOLINUX"),
                syslinuxModules: URL = URL(fileURLWithPath: "/usr/lib/syslinux/modules/bios"),
                busybox: URL = URL(fileURLWithPath: "/bin/busybox"), runner: any ProcessRunner = SystemProcessRunner()) {
        self.base = base
        self.payload = payload
        self.outputDirectory = outputDirectory
        self.version = version
        self.artifactPrefix = artifactPrefix
        self.title = title
        self.firmware = firmware
        self.splitAbove = splitAbove
        self.kernelArguments = kernelArguments
        self.epoch = epoch
        self.cacheDir = cacheDir
        self.gzipLevel = gzipLevel
        self.threads = threads
        self.hostBootLoader = hostBootLoader
        self.isolinuxDir = isolinuxDir
        self.syslinuxModules = syslinuxModules
        self.busybox = busybox
        self.runner = runner
    }

    /// Options from the spec's `targets.iso` (base, firmware, splitAbove) and, for a payload
    /// built in-process, `targets.vm` (disk size). `payloadImage` skips the VM build.
    public init(spec: PlatformSpec, base: BaseSource? = nil, payloadImage: URL?, overlay: any RootfsOverlay,
                outputDirectory: URL, version: String? = nil, epoch: Int64 = SourceDateEpoch.current(),
                cacheDir: URL = BaseCache.directory()) throws {
        guard let target = spec.targets.iso else { throw ISOError.noISOTarget }
        let chosen: BaseSource
        if let base {
            chosen = base
        } else if let named = spec.base(named: target.base) {
            chosen = .named(named)
        } else {
            throw BaseError.notFound(target.base, hint: "targets.iso.base names no entry of bases:")
        }
        var firmware: [ISOFirmware] = []
        for name in target.firmware {
            guard let f = ISOFirmware(rawValue: name.lowercased()) else { throw ISOError.unknownFirmware(name) }
            if !firmware.contains(f) { firmware.append(f) }
        }
        let version = version ?? spec.platform.version.description
        let payload: ISOPayloadSource
        if let payloadImage {
            payload = .image(payloadImage)
        } else {
            var vm = VMBuildOptions(base: chosen, outputDirectory: outputDirectory, version: version, artifactPrefix: spec.platform.name,
                                    title: spec.platform.displayName, formats: [.raw], epoch: epoch, cacheDir: cacheDir)
            if let vmTarget = spec.targets.vm { vm.diskSize = vmTarget.diskSize.bytes }
            payload = .build(vm, overlay: overlay)
        }
        self.init(base: chosen, payload: payload, outputDirectory: outputDirectory, version: version,
                  artifactPrefix: spec.platform.name, title: spec.platform.displayName, firmware: firmware,
                  splitAbove: target.splitAbove.bytes, epoch: epoch, cacheDir: cacheDir)
    }

    public var artifactName: String { "\(artifactPrefix)-baremetal-\(version).iso" }
}

public struct ISOArtifact: Sendable, Codable, Equatable {
    public var name: String
    public var path: String
    public var sha256: String
    public var size: Int64
    /// `<name>.sha256`, in sha256sum's format.
    public var checksumFile: String
    /// Its SPDX SBOM: the payload disk's, retargeted to the ISO (nil when the payload had none).
    public var sbom: String?
}

/// The build's result, printed by `unisonctl image build iso --json`.
public struct ISOBuildResult: Sendable, Codable, Equatable {
    public var schema = "unisonctl.image-build.iso/v1"
    public var version: String
    public var base: String
    public var sourceDateEpoch: Int64
    public var firmware: [ISOFirmware]
    public var volumeID: String
    /// Ties the installer to its medium: /init only installs from an ISO carrying this ID.
    public var installID: String
    public var kernel: String
    public var kernelCommandLine: String
    public var bootLoaders: [String]
    public var modules: [String]
    public var initramfsBytes: Int64
    public var efiImageBytes: Int64?
    public var payload: ISOPayloadInfo
    public var artifact: ISOArtifact
}

public enum ISOImage {
    /// Builds the installer ISO: payload (VM disk, raw) → gzip parts + checksums; installer
    /// (image kernel + our initramfs); isolinux and a FAT32 EFI image with systemd-boot;
    /// `xorriso -as mkisofs` assembles a hybrid ISO, renamed into place with its `.sha256`.
    public static func build(_ options: ISOBuildOptions, status: (@Sendable (String) -> Void)? = nil,
                             reporter: @Sendable (String, Int64?) -> ProgressReporter = { ProgressReporter($0, total: $1) })
        async throws -> ISOBuildResult {
        let allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-")
        guard !options.version.isEmpty, !options.version.hasPrefix("."), options.version.unicodeScalars.allSatisfy(allowed.contains) else {
            throw VMError.badVersion(options.version)
        }
        guard !options.firmware.isEmpty else { throw ISOError.noFirmware }
        _ = try ArtifactPath.destination(in: options.outputDirectory, name: options.artifactName)
        guard options.splitAbove >= 1 << 20, options.splitAbove < 1 << 32 else { throw ISOError.badSplitSize(options.splitAbove) }
        let fm = FileManager.default
        let isohybridMBR = options.isolinuxDir.appendingPathComponent("isohdpfx.bin")
        var hostFiles: [(String, URL, String)] = [("busybox (static)", options.busybox, "busybox-static")]
        if options.firmware.contains(.bios) {
            hostFiles += [("isolinux", options.isolinuxDir.appendingPathComponent("isolinux.bin"), "isolinux"),
                          ("isohybrid MBR", isohybridMBR, "isolinux"),
                          ("syslinux ldlinux.c32", options.syslinuxModules.appendingPathComponent("ldlinux.c32"), "syslinux-common")]
        }
        for (what, url, package) in hostFiles where !fm.isReadableFile(atPath: url.path) {
            throw ISOError.missingHostFile(what: what, path: url.path, package: package)
        }
        if case let .image(url) = options.payload, !fm.isReadableFile(atPath: url.path) {
            throw ISOError.badPayload(path: url.path, detail: "does not exist or cannot be read")
        }

        let workDir = try RootfsBuilder.makeWorkDir(label: "iso")
        defer { try? fm.removeItem(at: workDir) }
        let staging = workDir.appendingPathComponent("iso")
        let payloadDir = staging.appendingPathComponent(ISOInstaller.isoDir)
        try fm.createDirectory(at: payloadDir, withIntermediateDirectories: true)

        // The installer's kernel and drivers: from the base (the overlay adds none).
        let tree = try RootfsBuilder.assemble(base: options.base, overlay: ClosureOverlay { _ in }, epoch: options.epoch,
                                              cacheDir: options.cacheDir, workDir: workDir, progress: status)
        let (release, kernel) = try ISOInstaller.kernel(in: tree)
        let loader: FileTree.Content?
        if options.firmware.contains(.uefi) {
            if let inTree = VMBootFiles.regularContent(tree, VMBootFiles.treeLoaderPath) {
                loader = inTree
            } else if fm.isReadableFile(atPath: options.hostBootLoader.path) {
                loader = .file(options.hostBootLoader)
            } else {
                throw ISOError.missingHostFile(what: "systemd-boot (UEFI boot loader)", path: options.hostBootLoader.path,
                                               package: "systemd-boot-efi")
            }
        } else {
            loader = nil
        }
        let modules = try ISOInstaller.modules(in: tree, release: release, wanted: ISOInstaller.moduleNames, workDir: workDir)
        status?("installer: kernel \(release), \(modules.count) driver modules")

        // The payload: a raw disk, compressed and split.
        let raw: URL, payloadName: String, source: String, sourceFormat: DiskFormat
        var payloadSBOM: URL?
        switch options.payload {
        case let .build(vmOptions, overlay):
            var vm = vmOptions
            vm.outputDirectory = workDir.appendingPathComponent("vm")
            vm.formats = [.raw]
            vm.epoch = options.epoch
            vm.version = options.version
            status?("building the VM disk for the payload")
            let built = try await VMImage.build(vm, overlay: overlay, status: status, reporter: reporter)
            raw = URL(fileURLWithPath: built.artifacts[0].path)
            payloadName = built.artifacts[0].name
            payloadSBOM = built.artifacts[0].sbom.map { URL(fileURLWithPath: $0) }
            source = "built"
            sourceFormat = .raw
        case let .image(url):
            let (converted, format) = try ISOPayload.raw(from: url, workDir: workDir, runner: options.runner)
            let beside = SBOMFile.url(for: url)
            payloadSBOM = fm.fileExists(atPath: beside.path) ? beside : nil
            raw = converted
            // The name is read by the installer's shell: letters, digits and . _ + - only.
            let stem = url.deletingPathExtension().lastPathComponent.unicodeScalars
                .map { allowed.contains($0) ? Character($0) : "_" }
            let cleaned = String(stem).trimmingCharacters(in: CharacterSet(charactersIn: "."))
            payloadName = (cleaned.isEmpty ? "payload" : cleaned) + ".raw"
            source = url.path
            sourceFormat = format
        }
        let rawSize = (try fm.attributesOfItem(atPath: raw.path)[.size] as? NSNumber)?.int64Value ?? 0
        let progress = reporter("compressing \(payloadName)", rawSize)
        let payload = try ISOPayload.pack(raw: raw, name: payloadName, source: source, sourceFormat: sourceFormat, into: payloadDir,
                                          splitAbove: options.splitAbove, level: options.gzipLevel, threads: options.threads,
                                          progress: progress)
        progress.finish()
        status?("payload: \(payload.parts.count) part(s), \(ProgressReporter.formatBytes(payload.compressedBytes)) for \(ProgressReporter.formatBytes(payload.size))")

        // Identity: from the payload, the kernel and the build's parameters.
        let installID = String(SHA256Hex.hex(Data(["unisonos-iso/1", payload.sha256, release, options.version, String(options.epoch),
                                                   options.kernelArguments.joined(separator: " ")].joined(separator: "\n").utf8)).prefix(16))
        let volumeID = ISOBoot.volumeID(prefix: options.artifactPrefix, version: options.version)
        let commandLine = ISOBoot.commandLine(options.kernelArguments)

        // Installer files.
        let initramfs = try ISOInstaller.initramfs(try ISOInstaller.initramfsTree(
            busybox: options.busybox, modules: modules, installID: installID, version: options.version, title: options.title,
            mtime: options.epoch))
        try kernel.data().write(to: payloadDir.appendingPathComponent(ISOBoot.kernelName))
        try initramfs.write(to: payloadDir.appendingPathComponent(ISOBoot.initrdName))
        try Data("""
            # Written by unisonctl image build iso; read by the installer's /init.
            # Sourced as root: every value is one single-quoted word (data, never code).
            UNISONOS_ID=\(installID)
            PAYLOAD_NAME=\(ShellQuote.quote(payload.name))
            PAYLOAD_BYTES=\(payload.size)
            PAYLOAD_SHA256=\(ShellQuote.quote(payload.sha256))
            PAYLOAD_COMPRESSION=gzip
            PAYLOAD_PARTS=\(ShellQuote.quote(payload.parts.map(\.name).joined(separator: " ")))

            """.utf8).write(to: payloadDir.appendingPathComponent("install.conf"))
        try Data(payload.parts.map { "\($0.sha256)  \($0.name)\n" }.joined().utf8)
            .write(to: payloadDir.appendingPathComponent("SHA256SUMS"))
        try Data("\(payload.sha256)  \(payload.name)\n".utf8).write(to: payloadDir.appendingPathComponent(payload.name + ".sha256"))

        var bootLoaders: [String] = []
        if options.firmware.contains(.bios) {
            let dir = staging.appendingPathComponent("isolinux")
            try fm.createDirectory(at: dir, withIntermediateDirectories: true)
            try fm.copyItem(at: options.isolinuxDir.appendingPathComponent("isolinux.bin"), to: dir.appendingPathComponent("isolinux.bin"))
            try fm.copyItem(at: options.syslinuxModules.appendingPathComponent("ldlinux.c32"), to: dir.appendingPathComponent("ldlinux.c32"))
            try Data(ISOBoot.isolinuxConfig(title: "\(options.title) \(options.version)", commandLine: commandLine).utf8)
                .write(to: dir.appendingPathComponent("isolinux.cfg"))
            bootLoaders.append("bios: isolinux (\(options.isolinuxDir.path))")
        }
        var efiBytes: Int64?
        if let loader {
            try fm.createDirectory(at: staging.appendingPathComponent("boot"), withIntermediateDirectories: true)
            let efiTree = try ISOBoot.efiTree(loader: loader, kernel: kernel, initramfs: initramfs,
                                              title: "\(options.title) \(options.version) installer", commandLine: commandLine,
                                              mtime: options.epoch)
            let volume = UInt32(strtoul(String(installID.prefix(8)), nil, 16))
            efiBytes = try await ISOBoot.writeEFIImage(efiTree, to: staging.appendingPathComponent(ISOBoot.efiImagePath), volumeID: volume)
            bootLoaders.append("uefi: systemd-boot in a FAT32 El Torito image")
        }
        try normalizeTimes(staging, epoch: options.epoch)

        // Assemble.
        let destination = try ArtifactPath.destination(in: options.outputDirectory, name: options.artifactName)
        status?("xorriso: writing \(destination.path)")
        try await VMImage.writeAtomically(destination) { tmp in
            let args = ISOBoot.xorrisoArguments(staging: staging, output: tmp, volumeID: volumeID, firmware: options.firmware,
                                                isohybridMBR: isohybridMBR, epoch: options.epoch)
            var env = ProcessInfo.processInfo.environment
            env["SOURCE_DATE_EPOCH"] = String(options.epoch)
            env["TZ"] = "UTC"
            try options.runner.check(args, environment: env)
        }
        let (isoHex, isoSize) = try SHA256Hex.file(destination)
        let checksum = destination.appendingPathExtension("sha256")
        do {
            try AtomicFile.write(Data("\(isoHex)  \(destination.lastPathComponent)\n".utf8), to: checksum, permissions: 0o644)
        } catch {
            try? fm.removeItem(at: destination)
            throw error
        }
        // The ISO installs the payload disk: its SBOM is the disk's, naming the ISO.
        var sbom: String?
        if let payloadSBOM {
            let doc = try SBOM.retarget(try SPDXDocument.decode(try Data(contentsOf: payloadSBOM), path: payloadSBOM.path), to: destination)
            let url = SBOMFile.url(for: destination)
            try AtomicFile.write(try doc.encoded(), to: url, permissions: 0o644)
            sbom = url.path
        } else {
            status?("no SBOM: the payload \(source) has none beside it (\(SBOMFile.suffix))")
        }
        return ISOBuildResult(
            version: options.version, base: options.base.description, sourceDateEpoch: options.epoch, firmware: options.firmware,
            volumeID: volumeID, installID: installID, kernel: release, kernelCommandLine: commandLine, bootLoaders: bootLoaders,
            modules: modules.map(\.name), initramfsBytes: Int64(initramfs.count), efiImageBytes: efiBytes, payload: payload,
            artifact: ISOArtifact(name: destination.lastPathComponent, path: destination.path, sha256: isoHex, size: isoSize,
                                  checksumFile: checksum.path, sbom: sbom))
    }

    /// Every file and directory of the staging tree at the epoch (xorriso records mtimes).
    static func normalizeTimes(_ root: URL, epoch: Int64) throws {
        let fm = FileManager.default
        let date = Date(timeIntervalSince1970: TimeInterval(epoch))
        var paths = [root.path]
        if let e = fm.enumerator(atPath: root.path) {
            while let p = e.nextObject() as? String { paths.append(root.appendingPathComponent(p).path) }
        }
        for p in paths {
            try fm.setAttributes([.modificationDate: date], ofItemAtPath: p)
        }
    }
}
