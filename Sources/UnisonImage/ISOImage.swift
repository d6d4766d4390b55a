import FoundationEssentials
import Glibc
import UnisonArchive
import UnisonAttest
import UnisonCore
import UnisonDisk
import UnisonSpec

/// What the ISO carries: the VM target's disk of the same root, or an existing disk image.
package enum ISOPayloadSource: Sendable {
    /// The raw VM disk of these settings (their formats are ignored: the disk goes to the
    /// build's work directory), laid out from the build's root, or taken from a VM target
    /// that ran before in the same build.
    case build(VMImage)
    /// A raw, qcow2 or VMDK disk image (`unisonctl image build vm`'s output).
    case image(URL)
}

/// The build's result, printed by `unisonctl image build iso --json`.
package struct ISOBuildResult: ImageBuildResult, Codable, Equatable {
    package var schema = "unisonctl.image-build.iso/v1"
    package var version: String
    package var base: String
    package var sourceDateEpoch: Int64
    package var firmware: [ISOFirmware]
    package var volumeID: String
    /// Ties the installer to its medium: /init only installs from an ISO carrying this ID.
    package var installID: String
    package var kernel: String
    package var kernelCommandLine: String
    package var bootLoaders: [String]
    package var modules: [String]
    package var initramfsBytes: Int64
    package var efiImageBytes: Int64?
    package var payload: ISOPayloadInfo
    /// The ISO; its `checksumFile` is `<name>.sha256`, its SBOM the payload disk's, retargeted
    /// to the ISO (nil when the payload had none).
    package var artifact: ImageArtifact

    package var summary: [String] {
        [
            artifact.line,
            "payload \(payload.name): \(ProgressReporter.formatBytes(payload.size)), \(payload.parts.count) part(s), sha256:\(payload.sha256)",
        ]
    }
}

/// The ISO target: a hybrid installer ISO whose installer writes the payload disk.
package struct ISOImage: ImageTarget {
    package var name: String { "iso" }
    package var payload: ISOPayloadSource
    package var firmware: [ISOFirmware]
    /// Payload files larger than this are split (ISO 9660 keeps a file's size in 32 bits).
    package var splitAbove: Int64
    package var kernelArguments: [String]
    package var gzipLevel: Int32
    /// systemd-boot for the EFI image (the tree's copy wins).
    package var hostBootLoader: URL
    package var isolinuxDir: URL
    package var syslinuxModules: URL
    package var busybox: URL
    package var runner: any ProcessRunner

    package init(
        payload: ISOPayloadSource, firmware: [ISOFirmware] = [.bios, .uefi], splitAbove: Int64 = 2 << 30,
        kernelArguments: [String] = [], gzipLevel: Int32 = 6,
        hostBootLoader: URL = URL(fileURLWithPath: VMBootFiles.hostLoaderPath),
        isolinuxDir: URL = URL(fileURLWithPath: "/usr/lib/ISOLINUX"),
        syslinuxModules: URL = URL(fileURLWithPath: "/usr/lib/syslinux/modules/bios"),
        busybox: URL = URL(fileURLWithPath: "/bin/busybox"), runner: any ProcessRunner = SystemProcessRunner()
    ) {
        self.payload = payload
        self.firmware = firmware
        self.splitAbove = splitAbove
        self.kernelArguments = kernelArguments
        self.gzipLevel = gzipLevel
        self.hostBootLoader = hostBootLoader
        self.isolinuxDir = isolinuxDir
        self.syslinuxModules = syslinuxModules
        self.busybox = busybox
        self.runner = runner
    }

    package static func artifactURL(_ request: ImageBuildRequest) throws -> URL {
        try request.artifactURL("baremetal", "iso")
    }

    package func check(_ request: ImageBuildRequest) throws {
        let options = self
        guard !options.firmware.isEmpty else { throw ISOError.noFirmware }
        _ = try Self.artifactURL(request)
        guard options.splitAbove >= 1 << 20, options.splitAbove < 1 << 32 else { throw ISOError.badSplitSize(options.splitAbove) }
        let fm = FileManager.default
        var hostFiles: [(String, URL, String)] = [("busybox (static)", options.busybox, "busybox-static")]
        if options.firmware.contains(.bios) {
            hostFiles += [
                ("isolinux", options.isolinuxDir.appendingPathComponent("isolinux.bin"), "isolinux"),
                ("isohybrid MBR", options.isolinuxDir.appendingPathComponent("isohdpfx.bin"), "isolinux"),
                ("syslinux ldlinux.c32", options.syslinuxModules.appendingPathComponent("ldlinux.c32"), "syslinux-common"),
            ]
        }
        for (what, url, package) in hostFiles where !fm.isReadableFile(atPath: url.path) {
            throw ISOError.missingHostFile(what: what, path: url.path, package: package)
        }
        switch options.payload {
        case let .build(vm): try vm.check(request)
        case let .image(url) where !fm.isReadableFile(atPath: url.path):
            throw ISOError.badPayload(path: url.path, detail: "does not exist or cannot be read")
        case .image: break
        }
    }

    /// Builds the installer ISO: payload (VM disk, raw) → its data extents as gzip parts, the
    /// extent map, checksums; installer (the root's kernel + our initramfs); isolinux and a
    /// FAT32 EFI image with systemd-boot; `xorriso -as mkisofs` assembles a hybrid ISO,
    /// renamed into place with its `.sha256`.
    package func build(_ root: ImageRoot, run: inout ImageRun) async throws -> ISOBuildResult {
        let options = self, request = root.request, status = root.status, reporter = root.reporter
        let fm = FileManager.default
        let isohybridMBR = options.isolinuxDir.appendingPathComponent("isohdpfx.bin")
        let allowed = ScalarSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-")
        let workDir = root.workDir
        let staging = workDir.appendingPathComponent("iso")
        let payloadDir = staging.appendingPathComponent(ISOInstaller.isoDir)
        try fm.createDirectory(at: payloadDir, withIntermediateDirectories: true)

        // The installer's kernel and drivers: from the root (the platform adds none).
        let tree = root.tree
        let (release, kernel) = try ISOInstaller.kernel(in: tree)
        let loader: FileTree.Content?
        if options.firmware.contains(.uefi) {
            if let inTree = VMBootFiles.regularContent(tree, VMBootFiles.treeLoaderPath) {
                loader = inTree
            } else if fm.isReadableFile(atPath: options.hostBootLoader.path) {
                loader = .file(options.hostBootLoader)
            } else {
                throw ISOError.missingHostFile(
                    what: "systemd-boot (UEFI boot loader)", path: options.hostBootLoader.path,
                    package: "systemd-boot-efi")
            }
        } else {
            loader = nil
        }
        let modules = try ISOInstaller.modules(in: tree, release: release, wanted: ISOInstaller.moduleNames, workDir: workDir)
        status?("installer: kernel \(release), \(modules.count) driver modules")

        // The payload: the raw disk's data extents, compressed and split, and their map.
        let raw: URL, payloadName: String
        var payloadSBOM: URL?
        // The tree of the VM disk built in this run: its SBOM is written once packing has hashed it.
        var builtTree: FileTree?
        let payload: ISOPayloadInfo
        switch options.payload {
        case let .build(vm):
            let label = run.disksLaidOut
            let disk = try await run.disk(vm.diskKey) {
                status?("building the VM disk for the payload")
                return try VMImage.layOut(root, settings: vm, label: label)
            }
            if run.disksLaidOut == label { status?("payload: the VM disk built in this run") }
            var inWorkDir = request
            inWorkDir.outputDirectory = workDir.appendingPathComponent("vm")
            // Named as the raw disk would be (its SBOM goes beside it), packed from the layout.
            raw = try VMImage.artifactURL(.raw, inWorkDir)
            try fm.createDirectory(at: raw.deletingLastPathComponent(), withIntermediateDirectories: true)
            builtTree = disk.tree
            payloadName = raw.lastPathComponent
            let progress = reporter("packing \(payloadName)", disk.layout.size)
            payload = try ISOPayload.pack(
                layout: disk.layout, name: payloadName, source: "built", into: payloadDir, splitAbove: options.splitAbove,
                level: options.gzipLevel, threads: request.threads, progress: progress)
            progress.finish()
        case let .image(url):
            let (converted, format) = try ISOPayload.raw(from: url, workDir: workDir, runner: options.runner)
            let beside = SBOMFile.url(for: url)
            payloadSBOM = fm.fileExists(atPath: beside.path) ? beside : nil
            raw = converted
            // The name is read by the installer's shell: letters, digits and . _ + - only.
            let stem = url.deletingPathExtension().lastPathComponent.unicodeScalars
                .map { allowed.contains($0) ? Character($0) : "_" }
            let cleaned = String(stem).trimming(ScalarSet(charactersIn: "."))
            payloadName = (cleaned.isEmpty ? "payload" : cleaned) + ".raw"
            let rawSize = (try fm.attributesOfItem(atPath: raw.path)[.size] as? UInt).map(Int64.init) ?? 0
            let progress = reporter("packing \(payloadName)", rawSize)
            payload = try ISOPayload.pack(
                raw: raw, name: payloadName, source: url.path, sourceFormat: format, into: payloadDir,
                splitAbove: options.splitAbove, level: options.gzipLevel, threads: request.threads,
                progress: progress)
            progress.finish()
        }
        if let builtTree {
            var built = [ImageArtifact(name: payloadName, path: raw.path, format: .raw, sha256: payload.sha256, size: payload.size)]
            try ImageSBOM.attach(to: &built, tree: builtTree, root: root)
            payloadSBOM = built[0].sbom.map { URL(fileURLWithPath: $0) }
        }
        status?(
            "payload: \(payload.parts.count) part(s), \(ProgressReporter.formatBytes(payload.compressedBytes)) for \(ProgressReporter.formatBytes(payload.dataBytes)) of data in \(ProgressReporter.formatBytes(payload.size))"
        )

        // Identity: from the payload, the kernel and the build's parameters.
        let installID = String(
            SHA256Hex.hex(
                Data(
                    [
                        "unisonos-iso/1", payload.sha256, release, request.version.text, String(request.epoch),
                        options.kernelArguments.joined(separator: " "),
                    ].joined(separator: "\n").utf8)
            ).prefix(16))
        let volumeID = ISOBoot.volumeID(prefix: request.artifactPrefix, version: request.version.text)
        let commandLine = ISOBoot.commandLine(options.kernelArguments)

        // Installer files.
        let initramfs = try ISOInstaller.initramfs(
            try ISOInstaller.initramfsTree(
                busybox: options.busybox, modules: modules, installID: installID, version: request.version.text, title: request.title,
                mtime: request.epoch))
        try kernel.data().write(to: payloadDir.appendingPathComponent(ISOBoot.kernelName))
        try initramfs.write(to: payloadDir.appendingPathComponent(ISOBoot.initrdName))
        try Data(
            """
            # Written by unisonctl image build iso; read by the installer's /init.
            # Sourced as root: every value is one single-quoted word (data, never code).
            UNISONOS_ID=\(installID)
            PAYLOAD_NAME=\(ShellQuote.quote(payload.name))
            PAYLOAD_BYTES=\(payload.size)
            PAYLOAD_SHA256=\(ShellQuote.quote(payload.sha256))
            PAYLOAD_COMPRESSION=gzip
            PAYLOAD_LAYOUT=\(ShellQuote.quote(payload.layout))
            PAYLOAD_MAP=\(ShellQuote.quote(payload.map))
            PAYLOAD_DATA_BYTES=\(payload.dataBytes)
            PAYLOAD_PARTS=\(ShellQuote.quote(payload.parts.map(\.name).joined(separator: " ")))

            """.utf8
        ).write(to: payloadDir.appendingPathComponent("install.conf"))
        let mapHex = try SHA256Hex.file(payloadDir.appendingPathComponent(payload.map)).hex
        try Data((payload.parts.map { "\($0.sha256)  \($0.name)\n" } + ["\(mapHex)  \(payload.map)\n"]).joined().utf8)
            .write(to: payloadDir.appendingPathComponent("SHA256SUMS"))
        try Data("\(payload.sha256)  \(payload.name)\n".utf8).write(to: payloadDir.appendingPathComponent(payload.name + ".sha256"))

        var bootLoaders: [String] = []
        if options.firmware.contains(.bios) {
            let dir = staging.appendingPathComponent("isolinux")
            try fm.createDirectory(at: dir, withIntermediateDirectories: true)
            try fm.copyItem(at: options.isolinuxDir.appendingPathComponent("isolinux.bin"), to: dir.appendingPathComponent("isolinux.bin"))
            try fm.copyItem(at: options.syslinuxModules.appendingPathComponent("ldlinux.c32"), to: dir.appendingPathComponent("ldlinux.c32"))
            try Data(ISOBoot.isolinuxConfig(title: "\(request.title) \(request.version.text)", commandLine: commandLine).utf8)
                .write(to: dir.appendingPathComponent("isolinux.cfg"))
            bootLoaders.append("bios: isolinux (\(options.isolinuxDir.path))")
        }
        var efiBytes: Int64?
        if let loader {
            try fm.createDirectory(at: staging.appendingPathComponent("boot"), withIntermediateDirectories: true)
            let efiTree = try ISOBoot.efiTree(
                loader: loader, kernel: kernel, initramfs: initramfs,
                title: "\(request.title) \(request.version.text) installer", commandLine: commandLine,
                mtime: request.epoch)
            let volume = UInt32(strtoul(String(installID.prefix(8)), nil, 16))
            efiBytes = try await ISOBoot.writeEFIImage(efiTree, to: staging.appendingPathComponent(ISOBoot.efiImagePath), volumeID: volume)
            bootLoaders.append("uefi: systemd-boot in a FAT32 El Torito image")
        }
        try Self.normalizeTimes(staging, epoch: request.epoch)

        // Assemble.
        let destination = try Self.artifactURL(request)
        status?("xorriso: writing \(destination.path)")
        try await VMImage.writeAtomically(destination) { tmp in
            let args = ISOBoot.xorrisoArguments(
                staging: staging, output: tmp, volumeID: volumeID, firmware: options.firmware,
                isohybridMBR: isohybridMBR, epoch: request.epoch)
            var env = ProcessInfo.processInfo.environment
            env["SOURCE_DATE_EPOCH"] = String(request.epoch)
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
            status?("no SBOM: the payload \(payload.source) has none beside it (\(SBOMFile.suffix))")
        }
        return ISOBuildResult(
            version: request.version.text, base: request.base.description, sourceDateEpoch: request.epoch, firmware: options.firmware,
            volumeID: volumeID, installID: installID, kernel: release, kernelCommandLine: commandLine, bootLoaders: bootLoaders,
            modules: modules.map(\.name), initramfsBytes: Int64(initramfs.count), efiImageBytes: efiBytes, payload: payload,
            artifact: ImageArtifact(
                name: destination.lastPathComponent, path: destination.path, sha256: isoHex, size: isoSize,
                checksumFile: checksum.path, sbom: sbom))
    }

}

extension ISOImage {
    /// Every file and directory of the staging tree at the epoch (xorriso records mtimes).
    static func normalizeTimes(_ root: URL, epoch: Int64) throws {
        let fm = FileManager.default
        let date = Date(timeIntervalSince1970: TimeInterval(epoch))
        let paths = [root.path] + DirectoryWalk.entries(under: root.path).map { root.appendingPathComponent($0.path).path }
        for p in paths {
            try fm.setAttributes([.modificationDate: date], ofItemAtPath: p)
        }
    }
}
