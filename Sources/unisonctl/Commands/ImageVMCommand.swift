import ArgumentParser
import FoundationEssentials
import UnisonCore
import UnisonDisk
import UnisonImage
import UnisonSpec

struct ImageInspect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show a disk image's format, virtual size, partitions and filesystems.",
        discussion: "Reads raw, qcow2 and VMDK (sparse and stream-optimized) images; nothing is modified."
    )

    @OptionGroup var jsonOption: JSONOption

    @Argument(help: ArgumentHelp("Disk image (.raw, .qcow2, .vmdk).", valueName: "file"))
    var file: String

    func run() async throws {
        let report = try DiskInspector.inspect(URL(fileURLWithPath: file).standardizedFileURL)
        if jsonOption.json {
            try Output.json(report)
            return
        }
        Output.line(
            "\(report.path): \(report.format.rawValue), virtual size \(report.virtualSize) bytes (\(ProgressReporter.formatBytes(report.virtualSize))), file \(ProgressReporter.formatBytes(report.fileSize))"
        )
        if let vmdk = report.vmdk {
            Output.line("vmdk: version \(vmdk.version), createType \(vmdk.createType), CID \(vmdk.cid)")
        }
        switch report.partitionTable {
        case "gpt":
            Output.line(
                "partition table: GPT, disk GUID \(report.diskGUID?.description ?? "?")\(report.gptValid == true ? "" : " (CHECKSUM OR BACKUP MISMATCH)")"
            )
        default:
            Output.line("partition table: \(report.partitionTable)")
        }
        for p in report.partitions {
            var line =
                "  \(p.index)  \(p.typeName)  \"\(p.name)\"  \(p.guid)  LBA \(p.firstLBA)-\(p.lastLBA)  \(ProgressReporter.formatBytes(p.size))"
            if let fs = p.filesystem { line += "  \(fs.type) label=\"\(fs.label)\" uuid=\(fs.uuid)" }
            Output.line(line)
        }
    }
}

struct ImageBuildVM: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vm",
        abstract: "Build the VM disks: <name>-linux-vm-<version>.qcow2, .vmdk (and .raw).",
        discussion: """
            A GPT disk with an EFI System Partition (FAT32: systemd-boot, the base's kernel and
            initrd) and an ext4 root, written in one pass as each format. The base is
            targets.vm.base unless --base is given (a rootfs tarball, a directory, oci:DIR[:TAG] or
            a base name); the size is targets.vm.diskSize unless --disk-size is given. GUIDs and
            UUIDs derive from the content and timestamps from SOURCE_DATE_EPOCH: the same inputs
            give the same bytes. Outputs are renamed into place only when complete.
            """
    )

    @OptionGroup var specOptions: SpecOptions
    @OptionGroup var jsonOption: JSONOption
    @OptionGroup var platform: ImagePlatformOptions

    @Option(help: ArgumentHelp("Comma-separated formats: qcow2, vmdk, raw (default: targets.vm.formats).", valueName: "list"))
    var format: String?

    @Option(help: ArgumentHelp("Base to build from (default: targets.vm.base).", valueName: "tarball|dir|oci:DIR[:TAG]|name"))
    var base: String?

    @OptionGroup var output: ImageOutputOptions

    @Option(name: .customLong("disk-size"), help: ArgumentHelp("Virtual disk size, e.g. 4GiB (default: targets.vm.diskSize).", valueName: "size"))
    var diskSize: String?

    @Option(name: .customLong("kernel-arg"), help: ArgumentHelp("Extra kernel command-line argument (repeatable).", valueName: "arg"))
    var kernelArgs: [String] = []

    func validate() throws {
        if let format {
            let parsed = DiskFormat.list(format)
            if !parsed.unknown.isEmpty {
                throw ValidationError("--format: unknown format \(parsed.unknown.joined(separator: ", ")) (use qcow2, vmdk, raw)")
            }
            if parsed.formats.isEmpty { throw ValidationError("--format needs at least one of qcow2, vmdk, raw") }
        }
        if let diskSize {
            guard let size = ByteSize(diskSize), size.bytes > 0 else {
                throw ValidationError("--disk-size '\(diskSize)' is not a size (e.g. 4GiB, 2048MiB)")
            }
            guard size.bytes % (1 << 20) == 0 else { throw ValidationError("--disk-size must be a whole number of MiB") }
        }
        if kernelArgs.contains(where: { $0.isEmpty || $0.contains(where: { $0.isWhitespace }) }) {
            throw ValidationError("--kernel-arg takes one argument without blanks")
        }
    }

    func run() async throws {
        let choice = ImageTargetChoice.vm(
            formats: format.map { DiskFormat.list($0).formats },
            diskSize: diskSize.flatMap { ByteSize($0)?.bytes }, kernelArguments: kernelArgs)
        let request = try ImageBuildRequest(try specOptions.loadDocument(), choice, flags: platform.flags(base: base, output: output))
        try ImageOutput.print(try await ImagePipeline.build(request, status: ImageStatus.line), json: jsonOption.json)
    }
}
