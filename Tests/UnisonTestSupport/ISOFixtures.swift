// Fixtures of the installer ISO tests (UnisonImageTests and the ISO CLI tests in UnisonCLITests).
import Foundation
import Testing
import UnisonCore
import UnisonImage

/// The VM tests' busybox base plus what the installer needs from an image: the host's storage
/// drivers under /usr/lib/modules (merged /usr: /lib is a symlink), chosen by the host's own
/// `modprobe --show-depends` (not by our modules.dep reader).
package enum ISOTestBase {
    package static func make(in scratch: ImageScratch) throws -> URL {
        let base = try BusyboxBase.make(in: scratch)
        let (release, _) = try BusyboxBase.hostKernel()
        let fm = FileManager.default
        let hostModules = URL(fileURLWithPath: "/lib/modules/\(release)")
        let modules = base.appendingPathComponent("usr/lib/modules/\(release)")
        try fm.createDirectory(at: modules, withIntermediateDirectories: true)
        try fm.createSymbolicLink(atPath: base.appendingPathComponent("lib").path, withDestinationPath: "usr/lib")
        try fm.copyItem(at: hostModules.appendingPathComponent("modules.dep"), to: modules.appendingPathComponent("modules.dep"))
        var files: Set<String> = []
        for name in ISOInstaller.moduleNames {
            let out = try ImageTool.run(["modprobe", "-S", release, "--show-depends", name]).stdoutString
            for line in out.split(separator: "\n") where line.hasPrefix("insmod ") {
                files.insert(String(line.split(separator: " ")[1]))
            }
        }
        #expect(files.count > 10, "the host kernel's storage drivers are modules: \(files)")
        for file in files.sorted() {
            let relative = String(file.dropFirst(hostModules.path.count + 1))
            let dest = modules.appendingPathComponent(relative)
            try fm.createDirectory(at: dest.deletingLastPathComponent(), withIntermediateDirectories: true)
            try fm.copyItem(at: URL(fileURLWithPath: file), to: dest)
        }
        return base
    }
}

/// Boots an installer ISO in QEMU (TCG) with a target disk and watches the serial console:
/// until QEMU powers off, the installer prints its FAILED marker, or the timeout.
package enum InstallBoot {
    package enum Firmware: String, CaseIterable { case bios, uefi }
    package enum Medium: String { case cdrom, disk }

    package struct Outcome {
        package var console: String
        package var poweredOff: Bool
        package var seconds: Double
        package var installed: Bool { console.contains(ISOInstaller.okMarker) }
        package var failed: Bool { console.contains(ISOInstaller.failedMarker) }
    }

    package static func run(
        iso: URL, target: URL, firmware: Firmware, medium: Medium, scratch: ImageScratch,
        timeout: TimeInterval = 240
    ) throws -> Outcome {
        let serial = scratch.path("serial-\(firmware.rawValue)-\(medium.rawValue)-\(UUID().uuidString.prefix(4)).log")
        FileManager.default.createFile(atPath: serial.path, contents: nil)
        var args = [
            "-machine", "q35", "-accel", "tcg,thread=single", "-m", "1024", "-smp", "2", "-nodefaults",
            "-display", "none", "-monitor", "none", "-serial", "file:\(serial.path)", "-no-reboot",
        ]
        if firmware == .uefi {
            let vars = scratch.path("OVMF_VARS-\(UUID().uuidString.prefix(4)).fd")
            try FileManager.default.copyItem(at: URL(fileURLWithPath: "/usr/share/OVMF/OVMF_VARS_4M.fd"), to: vars)
            args += [
                "-drive", "if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd",
                "-drive", "if=pflash,format=raw,unit=1,file=\(vars.path)",
            ]
        }
        switch medium {
        case .cdrom:
            args += [
                "-drive", "file=\(iso.path),format=raw,media=cdrom,readonly=on,if=none,id=medium",
                "-device", "ide-cd,drive=medium,bootindex=1",
            ]
        case .disk:
            args += [
                "-drive", "file=\(iso.path),format=raw,readonly=on,if=none,id=medium",
                "-device", "virtio-blk-pci,drive=medium,bootindex=1",
            ]
        }
        let targetFormat = target.pathExtension == "qcow2" ? "qcow2" : "raw"
        args += ["-drive", "file=\(target.path),format=\(targetFormat),if=none,id=target", "-device", "virtio-blk-pci,drive=target"]

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/qemu-system-x86_64")
        process.arguments = args
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        let stderr = scratch.path("qemu-\(UUID().uuidString.prefix(4)).err")
        FileManager.default.createFile(atPath: stderr.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: stderr)
        let started = Date()
        try process.run()
        // The console holds firmware output that is not UTF-8: decode leniently.
        func read() -> String { String(decoding: FileManager.default.contents(atPath: serial.path) ?? Data(), as: UTF8.self) }
        var console = ""
        while process.isRunning {
            console = read()
            if console.contains(ISOInstaller.failedMarker) || Date().timeIntervalSince(started) > timeout {
                usleep(500_000)
                // QEMU started from a Foundation Process ignores SIGTERM here: SIGKILL after a grace period.
                process.terminate()
                let grace = Date().addingTimeInterval(2)
                while process.isRunning, Date() < grace { usleep(50_000) }
                if process.isRunning { kill(process.processIdentifier, SIGKILL) }
                break
            }
            usleep(250_000)
        }
        process.waitUntilExit()
        console = read()
        let poweredOff =
            process.terminationReason == .exit && process.terminationStatus == 0
            && console.contains("reboot: Power down")
        return Outcome(console: console, poweredOff: poweredOff, seconds: Date().timeIntervalSince(started))
    }
}
