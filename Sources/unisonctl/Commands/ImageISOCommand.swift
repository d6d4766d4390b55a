import ArgumentParser
import Foundation
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
        raw, qcow2 or VMDK image from `image build vm`). It is stored gzip-compressed, split
        into parts above targets.iso.splitAbove. The installer's kernel and drivers come from
        the base. Timestamps come from SOURCE_DATE_EPOCH: the same inputs give the same bytes.
        """
    )

    @OptionGroup var specOptions: SpecOptions
    @OptionGroup var jsonOption: JSONOption
    @OptionGroup var platform: ImagePlatformOptions

    @Option(help: ArgumentHelp("Base for the installer's kernel and the disk (default: targets.iso.base).",
                               valueName: "tarball|dir|oci:DIR[:TAG]|name"))
    var base: String?

    @Option(help: ArgumentHelp("Existing VM disk to carry instead of building one (raw, qcow2, vmdk).", valueName: "image"))
    var payload: String?

    @Option(help: ArgumentHelp("Directory for the artifacts (default: the spec's release.artifacts).", valueName: "dir"))
    var out: String?

    @Option(help: ArgumentHelp("Version in the artifact name (default: platform.version).", valueName: "version"))
    var version: String?

    @Option(help: ArgumentHelp("Comma-separated firmware: bios, uefi (default: targets.iso.firmware).", valueName: "list"))
    var firmware: String?

    @Option(name: .customLong("split-above"), help: ArgumentHelp("Split the payload into parts of this size (default: targets.iso.splitAbove).", valueName: "size"))
    var splitAbove: String?

    @Option(name: .customLong("kernel-arg"), help: ArgumentHelp("Extra installer kernel argument (repeatable), e.g. unisonos.target=vdb.", valueName: "arg"))
    var kernelArgs: [String] = []

    func validate() throws {
        if payload != nil {
            // The payload already holds the platform: these would be silently ignored.
            let ignored = [("--models", platform.models), ("--model-registry", platform.modelRegistry),
                           ("--release-manifest", platform.releaseManifest), ("--unisonctl-binary", platform.unisonctlBinary)]
                .filter { $0.1 != nil }.map(\.0)
            if !ignored.isEmpty {
                throw ValidationError("\(ignored.joined(separator: ", ")) cannot be used with --payload: the payload disk already holds the platform, its models and unisonctl (build it with `image build vm` and those flags)")
            }
        }
        if let firmware {
            let names = firmware.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            if let bad = names.first(where: { ISOFirmware(rawValue: $0) == nil }) {
                throw ValidationError("--firmware: unknown firmware \(bad) (use bios, uefi)")
            }
            if names.isEmpty { throw ValidationError("--firmware needs bios, uefi or both") }
        }
        if let splitAbove {
            guard let size = ByteSize(splitAbove), size.bytes > 0 else { throw ValidationError("--split-above '\(splitAbove)' is not a size (e.g. 2GiB)") }
            guard size.bytes >= 1 << 20, size.bytes < 1 << 32 else { throw ValidationError("--split-above must be at least 1MiB and below 4GiB") }
        }
        if kernelArgs.contains(where: { $0.isEmpty || $0.contains(where: { $0.isWhitespace }) }) {
            throw ValidationError("--kernel-arg takes one argument without blanks")
        }
    }

    func run() async throws {
        let (specURL, spec) = try specOptions.loadWithURL()
        let outDir = out.map { URL(fileURLWithPath: $0).standardizedFileURL }
            ?? specURL.deletingLastPathComponent().appendingPathComponent(spec.release.artifacts)
        let epoch = SourceDateEpoch.current()
        let chosenVersion = version ?? spec.platform.version.description
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("unisonctl-models-\(UUID().uuidString)")
        TempPaths.register(work)
        defer { try? FileManager.default.removeItem(at: work); TempPaths.unregister(work) }
        // A payload given on the command line already holds the platform: no overlay to build.
        let overlay: any RootfsOverlay = payload != nil ? ClosureOverlay { _ in }
            : try await platform.overlay(spec: spec, specURL: specURL, mode: .image, targetPack: spec.targets.iso?.models,
                                         version: chosenVersion, epoch: epoch, workDir: work,
                                         ollama: spec.targets.iso?.ollama)
        var options = try ISOBuildOptions(spec: spec, base: try base.map { try BaseSource.parse($0, spec: spec) },
                                          payloadImage: payload.map { URL(fileURLWithPath: $0).standardizedFileURL },
                                          overlay: overlay, outputDirectory: outDir, version: version, epoch: epoch)
        if let firmware {
            options.firmware = ISOFirmware.allCases.filter { f in firmware.lowercased().split(separator: ",").contains { $0.trimmingCharacters(in: .whitespaces) == f.rawValue } }
        }
        if let splitAbove, let size = ByteSize(splitAbove) { options.splitAbove = size.bytes }
        options.kernelArguments = kernelArgs
        // The answers' disk is the installer's target (its unisonos.target= takes a /sys/block name).
        if platform.answers != nil, payload != nil { throw ValidationError("--answers needs the VM disk built in this run (not --payload)") }
        if let (_, answers) = try platform.checkedAnswers(spec: spec, target: .iso), let disk = answers.disk {
            let name = String(disk.dropFirst("/dev/".count))
            guard !name.contains("/") else {
                throw ValidationError("--answers: unison.disk \(disk): the ISO installer takes a whole-disk name such as /dev/vda (not a /dev/disk/by-* link)")
            }
            options.kernelArguments.append("unisonos.target=\(name)")
        }
        let result = try await ISOImage.build(options, status: ImageStatus.line)
        if jsonOption.json {
            try Output.json(result)
        } else {
            Output.line("\(result.artifact.path)  \(ProgressReporter.formatBytes(result.artifact.size))  sha256:\(result.artifact.sha256)")
            Output.line("payload \(result.payload.name): \(ProgressReporter.formatBytes(result.payload.size)), \(result.payload.parts.count) part(s), sha256:\(result.payload.sha256)")
        }
    }
}
