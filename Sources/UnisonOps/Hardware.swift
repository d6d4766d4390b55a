import FoundationEssentials
import UnisonCore

/// What `doctor` knows of the machine: CPUs, AVX, RAM and GPUs. A field is nil when it could
/// not be read.
package struct HardwareReading: Sendable, Equatable {
    /// Logical CPUs (`processor` entries of /proc/cpuinfo).
    package var cores: Int?
    /// Whether the CPU flags include `avx`.
    package var avx: Bool?
    /// MemTotal, in bytes.
    package var memTotal: Int64?
    /// GPUs found (their model names); empty when none.
    package var gpus: [String]

    package init(cores: Int?, avx: Bool?, memTotal: Int64?, gpus: [String]) {
        self.cores = cores
        self.avx = avx
        self.memTotal = memTotal
        self.gpus = gpus
    }
}

/// Where the readings come from; tests plant their own.
package protocol HardwareSource: Sendable {
    func read() -> HardwareReading
}

/// The readings from procfs under `root` (`/` on a host; a directory of planted files in
/// tests): `proc/cpuinfo` (`processor` lines, the `flags` line), `proc/meminfo` (`MemTotal`), and
/// NVIDIA GPUs as the driver lists them in `proc/driver/nvidia/gpus/<bus id>/information`
/// (`Model:` line). A GPU without the NVIDIA driver is not counted: GPU inference in the
/// containers needs the driver and nvidia-container-toolkit (unison-docs
/// dev/hardware-deployment-guide.md).
package struct ProcHardware: HardwareSource {
    package var root: URL
    /// Read MemTotal from this file instead of `<root>/proc/meminfo`.
    package var memInfoPath: String?

    package init(root: URL = URL(fileURLWithPath: "/"), memInfoPath: String? = nil) {
        self.root = root
        self.memInfoPath = memInfoPath
    }

    func text(_ path: String) -> String? {
        if path == "proc/meminfo", let memInfoPath { return try? String(contentsOfFile: memInfoPath, encoding: .utf8) }
        return try? String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
    }

    package func read() -> HardwareReading {
        var cores: Int?
        var avx: Bool?
        if let cpuinfo = text("proc/cpuinfo") {
            var count = 0
            var flags: Set<Substring>?
            for line in cpuinfo.split(separator: "\n") {
                let parts = line.split(separator: ":", maxSplits: 1)
                guard let key = parts.first?.trimming(.whitespaces) else { continue }
                if key == "processor" { count += 1 }
                if key == "flags", flags == nil, parts.count == 2 { flags = Set(parts[1].split(separator: " ")) }
            }
            cores = count > 0 ? count : nil
            avx = flags.map { $0.contains("avx") }
        }
        var memTotal: Int64?
        if let meminfo = text("proc/meminfo") {
            for line in meminfo.split(separator: "\n") where line.hasPrefix("MemTotal:") {
                let fields = line.split(separator: " ")
                if fields.count >= 2, let kB = Int64(fields[1]), kB >= 0, kB < Int64.max / 1024 {
                    memTotal = kB * 1024
                }
            }
        }
        var gpus: [String] = []
        let gpuDir = root.appendingPathComponent("proc/driver/nvidia/gpus")
        for id in ((try? FileManager.default.contentsOfDirectory(atPath: gpuDir.path)) ?? []).sorted() {
            let info = text("proc/driver/nvidia/gpus/\(id)/information") ?? ""
            let model = info.split(separator: "\n").first { $0.hasPrefix("Model:") }
                .map { $0.dropFirst("Model:".count).trimming(.whitespaces) }
            gpus.append(model.flatMap { $0.isEmpty ? nil : $0 } ?? "NVIDIA GPU \(id)")
        }
        return HardwareReading(cores: cores, avx: avx, memTotal: memTotal, gpus: gpus)
    }
}

/// The minimums of unison-docs `dev/hardware-deployment-guide.md` ("Minimum Recommendations":
/// 4 cores, 8 preferred, with AVX; 8 GB RAM; 40 GB free SSD; GPU optional), and whether the
/// chosen model pack wants a GPU.
package struct HardwareRequirements: Sendable, Equatable {
    package var cores: Int
    package var preferredCores: Int
    package var avx: Bool
    package var ram: Int64
    package var disk: Int64
    package var gpu: Bool

    package static let guide = HardwareRequirements(cores: 4, preferredCores: 8, avx: true, ram: 8 << 30, disk: 40 << 30, gpu: false)

    package init(cores: Int, preferredCores: Int, avx: Bool, ram: Int64, disk: Int64, gpu: Bool) {
        self.cores = cores
        self.preferredCores = preferredCores
        self.avx = avx
        self.ram = ram
        self.disk = disk
        self.gpu = gpu
    }
}
