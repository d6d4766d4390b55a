import FoundationEssentials
import Glibc
import UnisonCore

/// Firmware a boot check starts the VM with.
package enum BootFirmware: String, Sendable, Codable, CaseIterable {
    case uefi, bios
}

/// Which accelerator QEMU uses. `auto` tries KVM only when /dev/kvm opens and a probe VM
/// actually runs; nested or half-working KVM hangs, so TCG is the safe default.
package enum BootAccelerator: String, Sendable, Codable, CaseIterable {
    case auto, tcg, kvm
}

/// The machine a QEMU check starts, shared by boot and install checks: firmware, size,
/// accelerator, where the serial console is kept, and which firmware file and QEMU to run.
package struct QEMUMachine: Sendable, Equatable {
    package var firmware: BootFirmware
    package var memoryMiB: Int
    package var cpus: Int
    package var accelerator: BootAccelerator
    /// Keep the whole serial console here (else it lives in a temporary directory).
    package var serialLog: URL?
    /// Firmware file instead of the installed OVMF (UEFI: the code image) or SeaBIOS (BIOS).
    package var firmwareFile: URL?
    package var qemu: String

    package init(
        firmware: BootFirmware = .uefi, memoryMiB: Int = 1024, cpus: Int = 2, accelerator: BootAccelerator = .auto,
        serialLog: URL? = nil, firmwareFile: URL? = nil, qemu: String = "qemu-system-x86_64"
    ) {
        self.firmware = firmware
        self.memoryMiB = memoryMiB
        self.cpus = cpus
        self.accelerator = accelerator
        self.serialLog = serialLog
        self.firmwareFile = firmwareFile
        self.qemu = qemu
    }
}

/// Options that start a `QEMUMachine`: its fields read and set as the options' own
/// (`options.memoryMiB`).
@dynamicMemberLookup
package protocol QEMUMachineOptions {
    var machine: QEMUMachine { get set }
}

extension QEMUMachineOptions {
    package subscript<T>(dynamicMember path: WritableKeyPath<QEMUMachine, T>) -> T {
        get { machine[keyPath: path] }
        set { machine[keyPath: path] = newValue }
    }
}

package struct BootOptions: QEMUMachineOptions, Sendable {
    package var image: URL
    package var timeout: TimeInterval
    package var marker: String
    package var machine: QEMUMachine
    /// Guest ports reachable on the host's 127.0.0.1 (none: the guest has no network device).
    package var forwards: [PortForward] = []

    package init(
        image: URL, firmware: BootFirmware = .uefi, timeout: TimeInterval = 300, marker: String,
        memoryMiB: Int = 1024, cpus: Int = 2, accelerator: BootAccelerator = .auto, serialLog: URL? = nil,
        firmwareFile: URL? = nil, qemu: String = "qemu-system-x86_64"
    ) {
        self.image = image
        self.timeout = timeout
        self.marker = marker
        machine = QEMUMachine(
            firmware: firmware, memoryMiB: memoryMiB, cpus: cpus, accelerator: accelerator,
            serialLog: serialLog, firmwareFile: firmwareFile, qemu: qemu)
    }
}

/// What `unisonctl qa boot --json` prints.
package struct BootResult: Sendable, Codable, Equatable {
    package var schema = "unisonctl.qa-boot/v1"
    package var image: String
    package var format: String
    package var firmware: BootFirmware
    package var accelerator: String
    package var marker: String
    package var markerSeen: Bool
    package var seconds: Double
    /// Why the watch ended: "marker", "timeout" or "qemu exited with status N".
    package var reason: String
    package var consoleTail: [String]
    package var qemuStderr: String
    /// The port forwards the guest ran with (absent without any).
    package var forwards: [PortForward]?
    /// `qa boot --smoke`: the qa.smoke run against the booted guest, after the marker.
    package var smoke: QARunReport?
}

package enum BootCheck {
    /// Boots `options.image` in QEMU with a throw-away overlay (`-snapshot`) and watches the
    /// serial console until the marker appears, the timeout passes or QEMU stops. QEMU is
    /// always stopped before this returns. Bad input throws `QAError` (exit 2); a boot that
    /// does not show the marker returns `markerSeen == false`.
    ///
    /// `afterMarker` runs once the marker is seen, while the guest still runs (smoke checks
    /// against it); what it returns is the result's `smoke`. QEMU is stopped after it.
    package static func run(
        _ options: BootOptions, launcher: any QEMULauncher = SystemQEMULauncher(),
        status: (@Sendable (String) -> Void)? = nil,
        afterMarker: (@Sendable () async throws -> QARunReport)? = nil
    ) async throws -> BootResult {
        guard options.timeout > 0, options.memoryMiB >= 64, options.cpus >= 1, !options.marker.isEmpty else {
            throw QAError.badOption("timeout, memory and cpus must be positive and the marker non-empty")
        }
        let format = try DiskSniff.format(of: options.image)
        try PortForward.checkFree(options.forwards)
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("unisonctl-boot-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }

        let firmwareArgs = try Firmware.arguments(options.firmware, override: options.firmwareFile, workDir: work)
        let accel = try await resolveAccelerator(options.accelerator, qemu: options.qemu, launcher: launcher, workDir: work)
        status?("booting \(options.image.lastPathComponent) (\(format), \(options.firmware.rawValue), \(accel)); watching for \(options.marker)")

        let serial = options.serialLog ?? work.appendingPathComponent("serial.log")
        try? FileManager.default.removeItem(at: serial)
        _ = FileManager.default.createFile(atPath: serial.path, contents: nil)
        let arguments =
            [options.qemu]
            + QEMUArguments.make(
                image: options.image, format: format, accelerator: accel, firmware: firmwareArgs,
                memoryMiB: options.memoryMiB, cpus: options.cpus, serialLog: serial)
            + PortForward.qemuArguments(options.forwards)
        let stderrURL = work.appendingPathComponent("qemu.stderr")
        let started = Date()
        let vm = try launcher.start(arguments, stdout: work.appendingPathComponent("qemu.stdout"), stderr: stderrURL)
        var watcher = ConsoleWatcher(marker: options.marker)
        var reason = "timeout after \(Int(options.timeout)) s"
        var smoke: QARunReport?
        var seconds: Double = 0
        do {
            defer { vm.stop(grace: 3) }
            let deadline = started.addingTimeInterval(options.timeout)
            while true {
                try watcher.poll(serial)
                if watcher.seen { reason = "marker"; break }
                if let panic = watcher.panic { reason = "the guest kernel panicked: \(panic)"; break }
                if !vm.isRunning {
                    try watcher.poll(serial)
                    reason = watcher.seen ? "marker" : "qemu exited with status \(vm.exitStatus ?? -1)"
                    break
                }
                if let fault = QEMUFault.find(in: stderrURL) {
                    reason = "qemu stopped the guest: \(fault)"
                    break
                }
                if Date() >= deadline { break }
                try await Task.sleep(nanoseconds: 200_000_000)
            }
            seconds = Date().timeIntervalSince(started)
            if watcher.seen, let afterMarker { smoke = try await afterMarker() }
        }
        let stderrText = (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? ""
        return BootResult(
            image: options.image.path, format: format, firmware: options.firmware, accelerator: accel,
            marker: options.marker, markerSeen: watcher.seen, seconds: seconds,
            reason: reason, consoleTail: watcher.tail(lines: 40),
            qemuStderr: String(stderrText.suffix(4000)), forwards: options.forwards.isEmpty ? nil : options.forwards,
            smoke: smoke)
    }

    /// `kvm` when asked for or when the probe VM prints on KVM within a few seconds; `tcg` otherwise.
    static func resolveAccelerator(_ wanted: BootAccelerator, qemu: String, launcher: any QEMULauncher, workDir: URL) async throws -> String {
        switch wanted {
        case .tcg: return "tcg"
        case .kvm: return "kvm"
        case .auto:
            let fd = open("/dev/kvm", O_RDWR | O_CLOEXEC)
            guard fd >= 0 else { return "tcg" }
            close(fd)
            return try await KVMProbe.works(qemu: qemu, launcher: launcher, workDir: workDir) ? "kvm" : "tcg"
        }
    }
}

/// Fatal conditions QEMU reports on stderr while the process lives on with a stopped guest
/// (a half-working KVM): waiting for the timeout would be pointless.
enum QEMUFault {
    static let patterns = ["KVM internal error", "emulation failure"]

    static func find(in stderr: URL) -> String? {
        guard let data = FileManager.default.contents(atPath: stderr.path), !data.isEmpty else { return nil }
        let text = String(decoding: data, as: UTF8.self)
        for line in text.split(separator: "\n") where patterns.contains(where: { line.contains($0) }) {
            return String(line)
        }
        return nil
    }
}

/// Accumulates the serial console and looks for the marker, also across read boundaries.
/// It also notes a guest kernel panic: the kernel stops there (QEMU keeps running, since no
/// `panic=` reboot is asked for), so waiting for the timeout would only waste it.
struct ConsoleWatcher {
    static let panicPrefix = "Kernel panic - not syncing"
    let marker: String
    private(set) var seen = false
    /// The console's "Kernel panic - not syncing: …" line, once one has been printed.
    private(set) var panic: String?
    private var offset: UInt64 = 0
    private var text = ""

    init(marker: String) { self.marker = marker }

    mutating func poll(_ url: URL) throws {
        guard let handle = try? FileIO(forReadingFrom: url) else { return }
        defer { try? handle.close() }
        try handle.seek(toOffset: offset)
        guard let data = try handle.readToEnd(), !data.isEmpty else { return }
        offset += UInt64(data.count)
        text += String(decoding: data, as: UTF8.self)
        if text.count > 256 << 10 { text = String(text.suffix(128 << 10)) }
        if !seen, text.contains(marker) { seen = true }
        // The whole line, once its end has arrived.
        if panic == nil, let start = text.firstRange(of: Self.panicPrefix)?.lowerBound,
            let end = text[start...].firstIndex(where: \.isNewline)
        {
            panic = String(text[start..<end])
        }
    }

    /// A CSI terminal escape (`ESC [ params letter`). A constant of this file: a typo is a
    /// programming error caught by tests.
    static let terminalEscape = try! Pattern(#"\x{1B}\[[0-9;?]*[A-Za-z]"#)

    /// The last lines, without terminal escapes and carriage returns.
    func tail(lines: Int) -> [String] {
        // Scalar by scalar, as NSRegularExpression matched: a combining mark after the final
        // letter must not hide the sequence.
        let withoutEscapes = (try? Self.terminalEscape.replacingMatches(in: text) { _ in "" }) ?? text
        let cleaned = withoutEscapes.replacing("\r", with: "")
        return cleaned.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).map(String.init)
    }
}

/// Sniffs a disk image's container format for QEMU's `format=` (never let QEMU guess raw).
enum DiskSniff {
    static func format(of url: URL) throws -> String {
        var isDir = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir), !isDir,
            let handle = try? FileIO(forReadingFrom: url)
        else {
            throw QAError.imageNotFound(url.path)
        }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: 512)) ?? Data()
        guard head.count >= 512 else { throw QAError.notADiskImage(path: url.path, detail: "shorter than one sector") }
        if head.starts(with: [0x51, 0x46, 0x49, 0xFB]) { return "qcow2" }
        if head.starts(with: Array("KDMV".utf8)) { return "vmdk" }
        if head.starts(with: Array("vhdxfile".utf8)) { return "vhdx" }
        return "raw"
    }
}

/// Firmware files: OVMF (split code + a private copy of the variable store, or the combined
/// image) for UEFI; QEMU's default SeaBIOS for BIOS.
enum Firmware {
    static let codeVarsPairs = [
        ("/usr/share/OVMF/OVMF_CODE_4M.fd", "/usr/share/OVMF/OVMF_VARS_4M.fd"),
        ("/usr/share/OVMF/OVMF_CODE.fd", "/usr/share/OVMF/OVMF_VARS.fd"),
        ("/usr/share/edk2/ovmf/OVMF_CODE.fd", "/usr/share/edk2/ovmf/OVMF_VARS.fd"),
    ]
    static let combined = ["/usr/share/ovmf/OVMF.fd", "/usr/share/qemu/OVMF.fd"]

    static func arguments(_ firmware: BootFirmware, override: URL?, workDir: URL) throws -> [String] {
        let fm = FileManager.default
        if let override {
            guard fm.isReadableFile(atPath: override.path) else {
                throw QAError.firmwareNotFound(firmware: firmware.rawValue, looked: [override.path])
            }
            return ["-bios", override.path]
        }
        switch firmware {
        case .bios:
            return []
        case .uefi:
            for (code, vars) in codeVarsPairs where fm.isReadableFile(atPath: code) && fm.isReadableFile(atPath: vars) {
                let copy = workDir.appendingPathComponent("OVMF_VARS.fd")
                try? fm.removeItem(at: copy)
                try fm.copyItem(at: URL(fileURLWithPath: vars), to: copy)
                return [
                    "-drive", "if=pflash,format=raw,unit=0,readonly=on,file=\(code)",
                    "-drive", "if=pflash,format=raw,unit=1,file=\(copy.path)",
                ]
            }
            for path in combined where fm.isReadableFile(atPath: path) {
                return ["-bios", path]
            }
            throw QAError.firmwareNotFound(firmware: "UEFI (OVMF)", looked: codeVarsPairs.map(\.0) + combined)
        }
    }
}

enum QEMUArguments {
    /// A headless q35 machine: serial console to a file, no monitor, no network (port forwards
    /// add one: `PortForward.qemuArguments`), the disk on
    /// virtio behind a temporary overlay (`-snapshot`: the image is never written).
    static func make(
        image: URL, format: String, accelerator: String, firmware: [String], memoryMiB: Int, cpus: Int,
        serialLog: URL
    ) -> [String] {
        machine(accelerator: accelerator, memoryMiB: memoryMiB, cpus: cpus, serialLog: serialLog) + ["-snapshot"]
            + firmware
            + ["-drive", "file=\(image.path),format=\(format),if=virtio,media=disk"]
    }

    /// The machine every QA run starts from: q35, headless, no default devices, the serial
    /// console to `serialLog`, and no reboot (a reboot or power-off ends QEMU).
    ///
    /// TCG runs its vCPUs on one host thread (`thread=single`). With a thread per vCPU, a
    /// loaded 2-core CI host once saw a guest kernel panic after jumping into the middle of a
    /// patched 5-byte NOP (in `get_random_u32`). That looks like code one vCPU rewrote while
    /// another ran it, which multi-threaded TCG (QEMU 7.2) can get wrong and one thread cannot.
    /// The price, measured on 2 busy cores: a boot takes about a fifth longer.
    static let tcg = "tcg,thread=single"

    static func machine(accelerator: String, memoryMiB: Int, cpus: Int, serialLog: URL) -> [String] {
        let accel = accelerator == "tcg" ? tcg : accelerator
        return [
            "-machine", "q35", "-accel", accel, "-m", String(memoryMiB), "-smp", String(cpus),
            "-nodefaults", "-display", "none", "-monitor", "none", "-parallel", "none",
            "-serial", "file:\(serialLog.path)", "-no-reboot",
        ]
    }
}

/// Does KVM run guest code here? A probe VM (the tiny BIOS) must print within a few seconds.
enum KVMProbe {
    static func works(qemu: String, launcher: any QEMULauncher, workDir: URL, timeout: TimeInterval = 4) async throws -> Bool {
        let bios = workDir.appendingPathComponent("probe-bios.bin")
        try TinyBIOS.image(printing: "KVM-OK\n", exerciseFPU: true).write(to: bios)
        let serial = workDir.appendingPathComponent("probe-serial.log")
        _ = FileManager.default.createFile(atPath: serial.path, contents: nil)
        let vm = try launcher.start(
            [
                qemu, "-machine", "pc", "-accel", "kvm", "-m", "16", "-nodefaults", "-display", "none",
                "-monitor", "none", "-serial", "file:\(serial.path)", "-bios", bios.path, "-no-reboot",
            ],
            stdout: workDir.appendingPathComponent("probe.out"), stderr: workDir.appendingPathComponent("probe.err"))
        defer { vm.stop(grace: 1) }
        var watcher = ConsoleWatcher(marker: "KVM-OK")
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline, vm.isRunning {
            try watcher.poll(serial)
            if watcher.seen { return true }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        try watcher.poll(serial)
        return watcher.seen
    }
}
