import ArgumentParser
import Foundation
import UnisonCore
import UnisonQA
import UnisonSpec

struct QACommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "qa",
        abstract: "Quality checks: smoke, e2e and boot in QEMU.",
        subcommands: [QABoot.self]
    )
}

struct QABoot: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "boot",
        abstract: "Boot a disk image in QEMU and wait for the first-boot marker on the serial console.",
        discussion: """
        QEMU runs headless with TCG (KVM only when a probe VM actually runs on it), OVMF for
        UEFI, and -snapshot, so the image is never modified. The marker and timeout default to
        the spec's qa.boot. Exit status: 0 the marker appeared, 1 it did not (timeout or QEMU
        stopped; the console's last lines are printed), 2 bad input. QEMU is always stopped.
        """
    )

    @OptionGroup var specOptions: SpecOptions
    @OptionGroup var jsonOption: JSONOption

    @Argument(help: ArgumentHelp("Disk image (.qcow2, .vmdk, .raw).", valueName: "file"))
    var file: String

    @Option(help: ArgumentHelp("Firmware: uefi or bios (default: targets.vm.firmware, else uefi).", valueName: "uefi|bios"))
    var firmware: BootFirmware?

    @Option(help: ArgumentHelp("Seconds to wait for the marker (default: qa.boot.timeout).", valueName: "seconds"))
    var timeout: Int?

    @Option(help: ArgumentHelp("Text to wait for (default: qa.boot.marker).", valueName: "text"))
    var marker: String?

    @Option(help: ArgumentHelp("Guest memory in MiB.", valueName: "MiB"))
    var memory: Int = 1024

    @Option(help: ArgumentHelp("Guest CPUs.", valueName: "n"))
    var cpus: Int = 2

    @Option(help: ArgumentHelp("Accelerator: auto (KVM only if a probe works), tcg or kvm.", valueName: "auto|tcg|kvm"))
    var accel: BootAccelerator = .auto

    @Option(name: .customLong("serial-log"), help: ArgumentHelp("Keep the whole serial console in this file.", valueName: "file"))
    var serialLog: String?

    @Option(name: .customLong("firmware-file"), help: ArgumentHelp("Firmware image to pass to -bios instead of the installed one.", valueName: "file"))
    var firmwareFile: String?

    func validate() throws {
        if let timeout, timeout <= 0 { throw ValidationError("--timeout must be a positive number of seconds") }
        guard memory >= 64 else { throw ValidationError("--memory must be at least 64 (MiB)") }
        guard (1...64).contains(cpus) else { throw ValidationError("--cpus must be between 1 and 64") }
        if let marker, marker.isEmpty { throw ValidationError("--marker must not be empty") }
    }

    func run() async throws {
        // The spec supplies defaults only: with --marker and --timeout none is needed.
        var spec: PlatformSpec?
        if marker == nil || timeout == nil || firmware == nil {
            do { spec = try specOptions.load() } catch { if marker == nil || timeout == nil { throw error } }
        }
        let chosenFirmware = firmware ?? spec?.targets.vm.flatMap { BootFirmware(rawValue: $0.firmware) } ?? .uefi
        let options = BootOptions(
            image: URL(fileURLWithPath: file).standardizedFileURL, firmware: chosenFirmware,
            timeout: TimeInterval(timeout ?? spec!.qa.boot.timeout), marker: marker ?? spec!.qa.boot.marker,
            memoryMiB: memory, cpus: cpus, accelerator: accel,
            serialLog: serialLog.map { URL(fileURLWithPath: $0).standardizedFileURL },
            firmwareFile: firmwareFile.map { URL(fileURLWithPath: $0).standardizedFileURL })
        let result = try await BootCheck.run(options, status: QAStatus.line)
        if jsonOption.json {
            try Output.json(result)
        } else if result.markerSeen {
            Output.line("boot ok: '\(result.marker)' seen after \(String(format: "%.1f", result.seconds)) s (\(result.format), \(result.firmware.rawValue), \(result.accelerator))")
        }
        guard result.markerSeen else {
            let reason = result.reason + (result.qemuStderr.isEmpty ? "" : "; qemu said: \(result.qemuStderr.split(separator: "\n").suffix(3).joined(separator: " "))")
            throw QAError.markerNotSeen(marker: result.marker, reason: reason, consoleTail: result.consoleTail)
        }
    }
}

extension BootFirmware: ExpressibleByArgument {}
extension BootAccelerator: ExpressibleByArgument {}

/// Status lines on stderr, silent with UNISONCTL_QUIET.
enum QAStatus {
    static let line: @Sendable (String) -> Void = { text in
        if ProcessInfo.processInfo.environment["UNISONCTL_QUIET"] == nil {
            FileHandle.standardError.write(Data("qa: \(text)\n".utf8))
        }
    }
}
