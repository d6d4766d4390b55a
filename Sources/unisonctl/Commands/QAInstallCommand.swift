import ArgumentParser
import FoundationEssentials
import UnisonCore
import UnisonQA

extension InstallMedium: ExpressibleByArgument {}

/// `unisonctl qa install`: registered in QACommand's subcommands.
struct QAInstall: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "install",
        abstract: "Install from an installer ISO onto a disk in QEMU; pass when it reports success and powers off.",
        discussion: """
            The ISO (from `image build iso`) is attached as a CD or, with --medium disk, as a USB-style \
            disk; the target disk is written for real (created as qcow2 when --target-size is given). \
            Exit status: 0 UNISONOS-INSTALL-OK appeared and the guest powered off, 1 it did not (the \
            installer's reason or the console's last lines are printed), 2 bad input.
            """
    )

    @OptionGroup var jsonOption: JSONOption

    @Argument(help: ArgumentHelp("Installer ISO.", valueName: "iso"))
    var iso: String

    @Option(help: ArgumentHelp("Disk to install onto (qcow2 or raw).", valueName: "file"))
    var target: String

    @Option(
        name: .customLong("target-size"),
        help: ArgumentHelp("Create the target as qcow2 of this size when it does not exist, e.g. 8GiB.", valueName: "size"))
    var targetSize: String?

    @Option(help: ArgumentHelp("Firmware: uefi or bios.", valueName: "uefi|bios"))
    var firmware: BootFirmware = .uefi

    @Option(help: ArgumentHelp("Attach the ISO as a cdrom or as a disk (USB stick).", valueName: "cdrom|disk"))
    var medium: InstallMedium = .cdrom

    @Option(help: ArgumentHelp("Seconds the install may take.", valueName: "seconds"))
    var timeout: Int = 900

    @Option(help: ArgumentHelp("Guest memory in MiB.", valueName: "MiB"))
    var memory: Int = 1024

    @Option(help: ArgumentHelp("Accelerator: auto (KVM only if a probe works), tcg or kvm.", valueName: "auto|tcg|kvm"))
    var accel: BootAccelerator = .auto

    @Option(
        name: .customLong("answers-medium"),
        help: ArgumentHelp(
            "Attach this NoCloud image (FAT or ISO 9660 labelled CIDATA) as a second disk: the installer carries its answers to the installed system.",
            valueName: "file"))
    var answersMedium: String?

    @Option(name: .customLong("serial-log"), help: ArgumentHelp("Keep the whole serial console in this file.", valueName: "file"))
    var serialLog: String?

    func validate() throws {
        guard timeout > 0 else { throw ValidationError("--timeout must be a positive number of seconds") }
        guard memory >= 64 else { throw ValidationError("--memory must be at least 64 (MiB)") }
        if let targetSize {
            guard let size = ByteSize(targetSize), size.bytes > 0 else {
                throw ValidationError("--target-size '\(targetSize)' is not a size (e.g. 8GiB)")
            }
        }
    }

    func run() async throws {
        let options = ISOInstallOptions(
            iso: URL(fileURLWithPath: iso).standardizedFileURL, target: URL(fileURLWithPath: target).standardizedFileURL,
            targetSize: targetSize.flatMap { ByteSize($0)?.bytes }, firmware: firmware, medium: medium,
            timeout: TimeInterval(timeout), memoryMiB: memory, accelerator: accel,
            serialLog: serialLog.map { URL(fileURLWithPath: $0).standardizedFileURL },
            answersMedium: answersMedium.map { URL(fileURLWithPath: $0).standardizedFileURL })
        let result = try await ISOInstallCheck.run(options, status: QAStatus.line)
        if jsonOption.json {
            try Output.json(result)
        } else if result.installed {
            Output.line(
                "install ok: \(result.target) written and verified after \(NumberText.fixed(result.seconds, digits: 1)) s (\(result.medium.rawValue), \(result.firmware.rawValue), \(result.accelerator))"
            )
        }
        try result.check()
    }
}
