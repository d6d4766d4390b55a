import FoundationEssentials
import UnisonCore

/// How the installer ISO is attached: as a CD (AHCI) or as a USB-stick-like disk (virtio).
package enum InstallMedium: String, Sendable, Codable, CaseIterable {
    case cdrom, disk
}

package struct ISOInstallOptions: QEMUMachineOptions, Sendable {
    package var iso: URL
    /// The disk the installer writes; created as qcow2 of `targetSize` bytes when missing.
    package var target: URL
    package var targetSize: Int64?
    package var medium: InstallMedium
    package var timeout: TimeInterval
    package var okMarker: String
    package var failedMarker: String
    package var machine: QEMUMachine
    /// A NoCloud medium (raw FAT or ISO 9660 image labelled CIDATA) attached as a second
    /// virtio disk after the target, read-only: the installer carries its answers.
    package var answersMedium: URL?

    package init(
        iso: URL, target: URL, targetSize: Int64? = nil, firmware: BootFirmware = .uefi, medium: InstallMedium = .cdrom,
        timeout: TimeInterval = 900, okMarker: String = "UNISONOS-INSTALL-OK", failedMarker: String = "UNISONOS-INSTALL-FAILED",
        memoryMiB: Int = 1024, cpus: Int = 2, accelerator: BootAccelerator = .auto, serialLog: URL? = nil,
        firmwareFile: URL? = nil, qemu: String = "qemu-system-x86_64", answersMedium: URL? = nil
    ) {
        (self.iso, self.target, self.targetSize, self.medium) = (iso, target, targetSize, medium)
        (self.timeout, self.okMarker, self.failedMarker) = (timeout, okMarker, failedMarker)
        machine = QEMUMachine(
            firmware: firmware, memoryMiB: memoryMiB, cpus: cpus, accelerator: accelerator,
            serialLog: serialLog, firmwareFile: firmwareFile, qemu: qemu)
        self.answersMedium = answersMedium
    }
}

/// What an install check prints with `--json`.
package struct ISOInstallResult: Sendable, Codable, Equatable {
    package var schema = "unisonctl.qa-install/v1"
    package var iso: String
    package var target: String
    package var targetFormat: String
    package var firmware: BootFirmware
    package var medium: InstallMedium
    package var accelerator: String
    /// The OK marker appeared and the machine powered itself off.
    package var installed: Bool
    package var okMarkerSeen: Bool
    /// The installer's reason after its FAILED marker, if it printed one.
    package var failure: String?
    package var poweredOff: Bool
    package var seconds: Double
    /// "powered off", "installer failed", "timeout after N s" or "qemu exited with status N".
    package var reason: String
    package var consoleTail: [String]
    package var qemuStderr: String

    /// Throws `ISOInstallError.notInstalled` (exit 1) unless the install went through.
    package func check() throws {
        guard installed else {
            throw ISOInstallError.notInstalled(reason: failure.map { "installer failed: \($0)" } ?? reason, consoleTail: consoleTail)
        }
    }
}

package enum ISOInstallError: Error, CustomStringConvertible, Sendable, Equatable, ExitCoded {
    case notAnISO(path: String)
    case notInstalled(reason: String, consoleTail: [String])

    package var exitStatus: ExitStatus {
        if case .notInstalled = self { return .checkFailed }
        return .badInput
    }

    package var description: String {
        switch self {
        case let .notAnISO(path): return "'\(path)' is not an ISO 9660 image (no CD001 at byte 32769)"
        case let .notInstalled(reason, tail):
            let body = tail.isEmpty ? "(the serial console stayed empty)" : tail.map { "  | \($0)" }.joined(separator: "\n")
            return "install check failed: \(reason)\nlast console lines:\n\(body)"
        }
    }
}

/// Boots an installer ISO with a target disk and watches the serial console: the install
/// passes when the OK marker appears and the guest powers QEMU off by itself; the FAILED
/// marker stops the watch at once. Unlike `BootCheck` the target is written (no -snapshot).
package enum ISOInstallCheck {
    package static func run(
        _ options: ISOInstallOptions, launcher: any QEMULauncher = SystemQEMULauncher(),
        runner: any ProcessRunner = SystemProcessRunner(),
        status: (@Sendable (String) -> Void)? = nil
    ) async throws -> ISOInstallResult {
        guard options.timeout > 0, options.memoryMiB >= 64, options.cpus >= 1, !options.okMarker.isEmpty, !options.failedMarker.isEmpty else {
            throw QAError.badOption("timeout, memory and cpus must be positive and the markers non-empty")
        }
        try checkISO(options.iso)
        if let answers = options.answersMedium, !FileManager.default.isReadableFile(atPath: answers.path) {
            throw QAError.imageNotFound(answers.path)
        }
        let fm = FileManager.default
        if !fm.fileExists(atPath: options.target.path) {
            guard let size = options.targetSize, size > 0 else {
                throw QAError.badOption("target disk \(options.target.path) does not exist; give its size to create it")
            }
            try runner.check(["qemu-img", "create", "-q", "-f", "qcow2", options.target.path, String(size)])
        }
        let targetFormat = try DiskSniff.format(of: options.target)
        let work = fm.temporaryDirectory.appendingPathComponent("unisonctl-install-\(UUID().uuidString.prefix(8))")
        try fm.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? fm.removeItem(at: work) }

        let firmwareArgs = try Firmware.arguments(options.firmware, override: options.firmwareFile, workDir: work)
        let accel = try await BootCheck.resolveAccelerator(options.accelerator, qemu: options.qemu, launcher: launcher, workDir: work)
        status?(
            "installing \(options.iso.lastPathComponent) (\(options.medium.rawValue), \(options.firmware.rawValue), \(accel)) onto \(options.target.lastPathComponent)"
        )
        let serial = options.serialLog ?? work.appendingPathComponent("serial.log")
        try? fm.removeItem(at: serial)
        _ = fm.createFile(atPath: serial.path, contents: nil)
        let arguments =
            [options.qemu]
            + qemuArguments(
                options, targetFormat: targetFormat, accelerator: accel,
                firmware: firmwareArgs, serialLog: serial)
        let stderrURL = work.appendingPathComponent("qemu.stderr")
        let started = Date()
        let vm = try launcher.start(arguments, stdout: work.appendingPathComponent("qemu.stdout"), stderr: stderrURL)
        var ok = ConsoleWatcher(marker: options.okMarker)
        var failed = ConsoleWatcher(marker: options.failedMarker)
        var reason = "timeout after \(Int(options.timeout)) s"
        var poweredOff = false
        do {
            defer { vm.stop(grace: 3) }
            let deadline = started.addingTimeInterval(options.timeout)
            while true {
                try ok.poll(serial)
                try failed.poll(serial)
                if failed.seen { reason = "installer failed"; break }
                if let panic = ok.panic { reason = "the guest kernel panicked: \(panic)"; break }
                if !vm.isRunning {
                    try ok.poll(serial)
                    try failed.poll(serial)
                    poweredOff = vm.exitStatus == 0
                    reason = failed.seen ? "installer failed" : poweredOff ? "powered off" : "qemu exited with status \(vm.exitStatus ?? -1)"
                    break
                }
                if let fault = QEMUFault.find(in: stderrURL) { reason = "qemu stopped the guest: \(fault)"; break }
                if Date() >= deadline { break }
                try await Task.sleep(nanoseconds: 250_000_000)
            }
        }
        let tail = failed.tail(lines: 40)
        let failure = failed.seen ? failureReason(tail, marker: options.failedMarker) : nil
        let stderrText = (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? ""
        return ISOInstallResult(
            iso: options.iso.path, target: options.target.path, targetFormat: targetFormat, firmware: options.firmware,
            medium: options.medium, accelerator: accel, installed: ok.seen && !failed.seen && poweredOff, okMarkerSeen: ok.seen,
            failure: failure, poweredOff: poweredOff, seconds: Date().timeIntervalSince(started), reason: reason, consoleTail: tail,
            qemuStderr: String(stderrText.suffix(4000)))
    }

    /// A q35 machine: the ISO as an AHCI CD or a virtio disk (boot index 1), the target on
    /// virtio, serial console to a file, no network, no reboot (power-off and reboot end QEMU).
    static func qemuArguments(
        _ o: ISOInstallOptions, targetFormat: String, accelerator: String, firmware: [String],
        serialLog: URL
    ) -> [String] {
        var args =
            QEMUArguments.machine(accelerator: accelerator, memoryMiB: o.memoryMiB, cpus: o.cpus, serialLog: serialLog)
            + firmware
        switch o.medium {
        case .cdrom:
            args += [
                "-drive", "file=\(o.iso.path),format=raw,media=cdrom,readonly=on,if=none,id=medium",
                "-device", "ide-cd,drive=medium,bootindex=1",
            ]
        case .disk:
            args += [
                "-drive", "file=\(o.iso.path),format=raw,readonly=on,if=none,id=medium",
                "-device", "virtio-blk-pci,drive=medium,bootindex=1",
            ]
        }
        args += ["-drive", "file=\(o.target.path),format=\(targetFormat),if=none,id=target", "-device", "virtio-blk-pci,drive=target"]
        if let answers = o.answersMedium {
            args += ["-drive", "file=\(answers.path),format=raw,readonly=on,if=none,id=answers", "-device", "virtio-blk-pci,drive=answers"]
        }
        return args
    }

    /// The text after the last `<marker>: ` on the console.
    static func failureReason(_ lines: [String], marker: String) -> String {
        for line in lines.reversed() {
            if let r = line.firstRange(of: marker + ": ") { return String(line[r.upperBound...]).trimming(.whitespaces) }
        }
        return "(no reason printed)"
    }

    /// ISO 9660: the primary volume descriptor's "CD001" at byte 32769.
    static func checkISO(_ url: URL) throws {
        guard let handle = try? FileIO(forReadingFrom: url) else { throw QAError.imageNotFound(url.path) }
        defer { try? handle.close() }
        try? handle.seek(toOffset: 32769)
        guard let magic = try? handle.read(upToCount: 5), magic == Data("CD001".utf8) else {
            throw ISOInstallError.notAnISO(path: url.path)
        }
    }
}
