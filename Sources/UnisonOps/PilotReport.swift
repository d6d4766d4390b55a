import FoundationEssentials
import Glibc
import UnisonCore
import UnisonInstall
import UnisonSpec

/// What a pilot sends back: one JSON document (schema `unisonctl.pilot-report/v1`) built from
/// what the machine already knows. By construction it holds no host name, user name, address,
/// path under /home, or secret: every field is an enum, a count, a bucket, a version, or a
/// check name from our own code — no free text read from the machine is copied in.
package struct PilotReport: Sendable, Codable, Equatable {
    package static let schemaID = "unisonctl.pilot-report/v1"
    package var schema = PilotReport.schemaID
    /// The UTC day the report was made (a day, not a time).
    package var day: String
    package var unisonctl: String
    /// vm, iso, wsl, native, docker, or image when an image does not say which.
    package var target: String
    package var release: Release
    package var hardware: Hardware
    package var install: Install
    package var firstBoot: FirstBootOutcome
    package var answers: AnswersOutcome
    /// Per service: healthy, unhealthy, timeout, refused, unknown, or `skipped: profile off`;
    /// empty when not checked.
    package var stack: [ServiceState]
    package var models: Models
    /// Check name and level only (the messages may name paths or ports of this machine).
    package var doctor: [DoctorFinding]
    /// The attached diag bundle's file name and digest (`--diag`).
    package var diag: Diag?

    package struct Release: Sendable, Codable, Equatable {
        package var version: String
        package var channel: String?
    }

    package struct Hardware: Sendable, Codable, Equatable {
        package var arch: String
        package var cores: Int
        package var avx: Bool
        package var avx2: Bool
        package var avx512: Bool
        /// Installed RAM rounded up to a power of two: `8GiB` means more than 4 and at most 8.
        package var ramClass: String
        /// The root filesystem's size, the same way.
        package var diskClass: String
        /// PCI display controllers by vendor: nvidia, amd, intel, virtual, other; `none`.
        package var gpu: [String]
    }

    package struct Install: Sendable, Codable, Equatable {
        /// installed, or missing (no install manifest).
        package var outcome: String
        package var mode: String?
    }

    package struct FirstBootOutcome: Sendable, Codable, Equatable {
        /// ok, failed, not-run.
        package var outcome: String
        /// The step that failed (secrets, models, model-store, ollama, state), never its text.
        package var failedStep: String?
        /// Minutes from the install to the completed first boot (file times; rounded).
        package var minutesAfterInstall: Int?
    }

    package struct AnswersOutcome: Sendable, Codable, Equatable {
        /// cmdline, cidata, cloud-seed, installed, none, or not-run.
        package var source: String
        package var applied: Bool
    }

    package struct ServiceState: Sendable, Codable, Equatable {
        package var service: String
        package var state: String
    }

    package struct Models: Sendable, Codable, Equatable {
        package var pack: String?
        package var preloaded: Int
        /// True when first boot checked every preloaded model in the store and in Ollama.
        package var verified: Bool?
    }

    package struct DoctorFinding: Sendable, Codable, Equatable {
        package var check: String
        package var level: String
    }

    package struct Diag: Sendable, Codable, Equatable {
        package var file: String
        package var sha256: String

        package init(file: String, sha256: String) {
            self.file = file
            self.sha256 = sha256
        }
    }
}

/// Reads the machine (a root: `/`, or a staged directory in tests) into a `PilotReport`.
package struct PilotReporter: Sendable {
    package var spec: PlatformSpec
    package var root: URL
    package var clock: any WallClock
    /// The root filesystem's total bytes (statvfs), injectable for tests.
    package var diskBytes: @Sendable (String) -> Int64?

    package init(
        spec: PlatformSpec, root: URL = URL(fileURLWithPath: "/"), clock: any WallClock = SystemClock(),
        diskBytes: @escaping @Sendable (String) -> Int64? = PilotReporter.statvfsTotal
    ) {
        self.spec = spec
        self.root = root
        self.clock = clock
        self.diskBytes = diskBytes
    }

    var layout: InstallLayout { InstallLayout(spec: spec) }
    func host(_ path: String) -> String { root.path == "/" ? path : root.path + path }
    func contents(_ path: String) -> Data? { FileManager.default.contents(atPath: host(path)) }

    /// Builds the report from files, the doctor's and the health check's results.
    package func report(target: String?, doctor: DoctorReport?, health: HealthReport?, arch: String = PilotReporter.machine()) -> PilotReport {
        let release = contents(layout.releaseRecord).flatMap { try? JSONDecoder().decode(InstalledRelease.self, from: $0) }
        let manifestExists = FileManager.default.fileExists(atPath: host(layout.manifest))
        let firstBoot = contents(layout.firstBootStamp).flatMap { try? JSONDecoder().decode(FirstBootReport.self, from: $0) }
        let envText = contents(layout.envFile).map { String(decoding: $0, as: UTF8.self) } ?? ""
        let pack = EnvFile.value(of: "UNISON_MODEL_PACK", in: envText) ?? release?.modelPack ?? firstBoot?.modelPack
        let provision = contents(Provisioner.recordPath).flatMap { try? JSONDecoder().decode(ProvisionReport.self, from: $0) }

        var fb = PilotReport.FirstBootOutcome(outcome: "not-run", failedStep: nil, minutesAfterInstall: nil)
        if let firstBoot {
            fb.outcome = firstBoot.ok ? "ok" : "failed"
            fb.failedStep = firstBoot.steps.first { $0.status == .failed }.map(\.name)
            if let installed = modified(layout.manifest) ?? modified(layout.releaseRecord), let done = modified(layout.firstBootStamp) {
                fb.minutesAfterInstall = max(0, Int((done.timeIntervalSince(installed) / 60).rounded()))
            }
        } else if FileManager.default.fileExists(atPath: host(layout.firstBootStamp)) {
            fb.outcome = "ok"  // the shell helper's empty stamp
        }
        let preloads = pack.flatMap { spec.modelPack(named: $0) }?.preload.count ?? 0
        var verified: Bool?
        if let firstBoot, !firstBoot.alreadyDone {
            verified = preloads == 0 ? nil : firstBoot.ok && firstBoot.models.count == preloads && firstBoot.models.allSatisfy(\.ok)
        }
        let targetName = target ?? release.map { $0.mode.rawValue } ?? "unknown"
        return PilotReport(
            day: TelemetryStore.day(clock.now()), unisonctl: ToolVersion.current, target: targetName,
            release: .init(version: release?.version ?? spec.platform.version.description, channel: release?.channel),
            hardware: hardware(arch: arch),
            install: .init(outcome: manifestExists || release != nil ? "installed" : "missing", mode: release?.mode.rawValue),
            firstBoot: fb,
            answers: .init(source: provision.map { $0.source?.kind.rawValue ?? "none" } ?? "not-run", applied: provision?.applied ?? false),
            stack: (health?.services ?? []).map { .init(service: $0.name, state: $0.state.rawValue) }
                + (health?.skipped ?? []).map { .init(service: $0.name, state: $0.reason) },
            models: .init(pack: pack.flatMap { spec.modelPack(named: $0) == nil ? nil : $0 }, preloaded: preloads, verified: verified),
            doctor: (doctor?.findings ?? []).map { .init(check: $0.check, level: $0.level.rawValue) },
            diag: nil)
    }

    func modified(_ path: String) -> Date? {
        (try? FileManager.default.attributesOfItem(atPath: host(path)))?[.modificationDate] as? Date
    }

    // MARK: hardware

    func hardware(arch: String) -> PilotReport.Hardware {
        let cpuinfo = contents("/proc/cpuinfo").map { String(decoding: $0, as: UTF8.self) } ?? ""
        var cores = 0
        var flags: Set<Substring> = []
        for line in cpuinfo.split(separator: "\n") {
            if line.hasPrefix("processor") { cores += 1 }
            if flags.isEmpty, line.hasPrefix("flags"), let colon = line.firstIndex(of: ":") {
                flags = Set(line[line.index(after: colon)...].split(separator: " "))
            }
        }
        let meminfo = contents("/proc/meminfo").map { String(decoding: $0, as: UTF8.self) } ?? ""
        let memKiB = meminfo.split(separator: "\n").first { $0.hasPrefix("MemTotal:") }
            .flatMap { $0.split(separator: " ").dropFirst().first.flatMap { Int64($0) } }
        return PilotReport.Hardware(
            arch: arch, cores: cores, avx: flags.contains("avx"), avx2: flags.contains("avx2"), avx512: flags.contains("avx512f"),
            ramClass: memKiB.map { Self.sizeClass(bytes: $0 * 1024) } ?? "unknown",
            diskClass: diskBytes(root.path).map { Self.sizeClass(bytes: $0) } ?? "unknown",
            gpu: gpuVendors())
    }

    /// The size rounded up to a power of two GiB (`8GiB`: more than 4, at most 8), so a machine
    /// with 8 GiB installed, whose kernel reports 7.7, is in the class people call it by.
    package static func sizeClass(bytes: Int64) -> String {
        let gib = Double(bytes) / 1_073_741_824
        var n: Double = 1
        while n < gib * 0.98 { n *= 2 }  // 2% slack: firmware-reserved memory, filesystem overhead
        return n >= 1024 ? "\(Int(n / 1024))TiB" : "\(Int(n))GiB"
    }

    /// Display controllers (PCI class 0x03xxxx) by vendor.
    func gpuVendors() -> [String] {
        let dir = host("/sys/bus/pci/devices")
        let devices = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        var vendors: Set<String> = []
        for device in devices {
            func read(_ name: String) -> String {
                ((try? String(contentsOfFile: "\(dir)/\(device)/\(name)", encoding: .utf8)) ?? "").trimming(.whitespacesAndNewlines)
            }
            guard read("class").hasPrefix("0x03") else { continue }
            switch read("vendor").lowercased() {
            case "0x10de": vendors.insert("nvidia")
            case "0x1002", "0x1022": vendors.insert("amd")
            case "0x8086": vendors.insert("intel")
            case "0x1234", "0x1af4", "0x15ad", "0x1b36", "0x80ee", "0x1414": vendors.insert("virtual")
            default: vendors.insert("other")
            }
        }
        return vendors.isEmpty ? ["none"] : vendors.sorted()
    }

    package static func statvfsTotal(_ path: String) -> Int64? {
        var s = statvfs()
        guard statvfs(path, &s) == 0 else { return nil }
        return Int64(s.f_blocks) * Int64(s.f_frsize)
    }

    package static func machine() -> String {
        var u = utsname()
        guard uname(&u) == 0 else { return "unknown" }
        return withUnsafeBytes(of: &u.machine) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}
