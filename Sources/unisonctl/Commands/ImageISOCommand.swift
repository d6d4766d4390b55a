import ArgumentParser
import FoundationEssentials
import UnisonCore
import UnisonImage
import UnisonSpec

struct ImageBuildISO: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "iso",
        abstract: "Build the installer ISO: <name>-baremetal-<version>.iso and its .sha256.",
        discussion: """
            A hybrid ISO (boots as a CD and as a USB disk, under BIOS through isolinux and under
            UEFI through systemd-boot) whose installer writes the VM disk to the first fixed disk
            of the machine, checks it by SHA-256 and powers off; the console shows
            UNISONOS-INSTALL-OK or UNISONOS-INSTALL-FAILED: <reason>. The disk is built from
            targets.iso.base (or --base) with the platform installed, or taken from --payload (a
            raw, qcow2 or VMDK image from `image build vm`). Its data blocks are stored gzip-compressed
            with a map of where they go (zeros are not carried), split into parts above
            targets.iso.splitAbove. The installer's kernel and drivers come from
            the base. Timestamps come from SOURCE_DATE_EPOCH: the same inputs give the same bytes.
            """
    )

    @OptionGroup var specOptions: SpecOptions
    @OptionGroup var jsonOption: JSONOption
    @OptionGroup var platform: ImagePlatformOptions

    @Option(
        help: ArgumentHelp(
            "Base for the installer's kernel and the disk (default: targets.iso.base).",
            valueName: "tarball|dir|oci:DIR[:TAG]|name"))
    var base: String?

    @Option(help: ArgumentHelp("Existing VM disk to carry instead of building one (raw, qcow2, vmdk).", valueName: "image"))
    var payload: String?

    @OptionGroup var output: ImageOutputOptions

    @Option(help: ArgumentHelp("Comma-separated firmware: bios, uefi (default: targets.iso.firmware).", valueName: "list"))
    var firmware: String?

    @Option(
        name: .customLong("split-above"),
        help: ArgumentHelp("Split the payload into parts of this size (default: targets.iso.splitAbove).", valueName: "size"))
    var splitAbove: String?

    @Option(
        name: .customLong("kernel-arg"),
        help: ArgumentHelp("Extra installer kernel argument (repeatable), e.g. unisonos.target=vdb.", valueName: "arg"))
    var kernelArgs: [String] = []

    func validate() throws {
        if payload != nil {
            // The payload already holds the platform: these would be silently ignored.
            let ignored = [
                ("--models", platform.models), ("--model-registry", platform.modelRegistry),
                ("--release-manifest", platform.releaseManifest), ("--unisonctl-binary", platform.unisonctlBinary),
            ]
            .filter { $0.1 != nil }.map(\.0)
            if !ignored.isEmpty {
                throw ValidationError(
                    "\(ignored.joined(separator: ", ")) cannot be used with --payload: the payload disk already holds the platform, its models and unisonctl (build it with `image build vm` and those flags)"
                )
            }
        }
        if let firmware {
            let names = firmware.split(separator: ",").map { $0.trimming(.whitespaces).lowercased() }
            if let bad = names.first(where: { ISOFirmware(rawValue: $0) == nil }) {
                throw ValidationError("--firmware: unknown firmware \(bad) (use bios, uefi)")
            }
            if names.isEmpty { throw ValidationError("--firmware needs bios, uefi or both") }
        }
        if let splitAbove {
            guard let size = ByteSize(splitAbove), size.bytes > 0 else {
                throw ValidationError("--split-above '\(splitAbove)' is not a size (e.g. 2GiB)")
            }
            guard size.bytes >= 1 << 20, size.bytes < 1 << 32 else { throw ValidationError("--split-above must be at least 1MiB and below 4GiB") }
        }
        if kernelArgs.contains(where: { $0.isEmpty || $0.contains(where: { $0.isWhitespace }) }) {
            throw ValidationError("--kernel-arg takes one argument without blanks")
        }
    }

    func run() async throws {
        let choice = ImageTargetChoice.iso(
            payload: payload.map { URL(fileURLWithPath: $0).standardizedFileURL },
            firmware: firmware.map(ISOFirmware.list), splitAbove: splitAbove.flatMap { ByteSize($0)?.bytes },
            kernelArguments: kernelArgs)
        let request = try ImageBuildRequest(try specOptions.loadDocument(), choice, flags: platform.flags(base: base, output: output))
        try ImageOutput.print(try await ImagePipeline.build(request, status: ImageStatus.line), json: jsonOption.json)
    }
}

extension ISOFirmware {
    /// `--firmware bios,uefi`, in the order of `allCases` (validated before).
    static func list(_ text: String) -> [ISOFirmware] {
        allCases.filter { f in text.lowercased().split(separator: ",").contains { $0.trimming(.whitespaces) == f.rawValue } }
    }
}
