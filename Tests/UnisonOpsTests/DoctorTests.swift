import Foundation
import Testing
import UnisonCore
import UnisonInstall
import UnisonSpec
import UnisonTestSupport

@testable import UnisonOps

@Suite("doctor", .tags(.unit))
struct DoctorTests {
    func stage(_ spec: PlatformSpec, _ label: String) throws -> URL {
        let dir = try OpsFixture.tempDir(label)
        var root = try HostRoot(dir)
        _ = try InstallPlan.make(spec: spec, options: InstallOptions(mode: .native)).apply(to: &root)
        return dir
    }

    func memInfo(_ dir: URL, kB: Int) throws -> String {
        let url = dir.appendingPathComponent("meminfo")
        try Data("MemTotal:       \(kB) kB\nMemFree:         1000 kB\n".utf8).write(to: url)
        return url.path
    }

    /// Planted procfs under `dir/planted-proc`: `cores` processors (with or without the avx
    /// flag), MemTotal, and NVIDIA GPUs as the driver lists them. Never this host's.
    func proc(_ dir: URL, cores: Int = 8, avx: Bool = true, kB: Int = 16_000_000, gpus: [String] = []) throws -> ProcHardware {
        let root = dir.appendingPathComponent("planted-proc")
        try? FileManager.default.removeItem(at: root)  // each call plants a machine of its own
        let procDir = root.appendingPathComponent("proc")
        try FileManager.default.createDirectory(at: procDir, withIntermediateDirectories: true)
        var cpuinfo = ""
        for i in 0..<cores {
            cpuinfo += "processor\t: \(i)\nvendor_id\t: GenuineIntel\nmodel name\t: Test CPU\n"
            cpuinfo += "flags\t\t: fpu vme sse sse2 ssse3 sse4_1 sse4_2 \(avx ? "avx avx2 " : "")aes\n\n"
        }
        try Data(cpuinfo.utf8).write(to: procDir.appendingPathComponent("cpuinfo"))
        try Data("MemTotal:       \(kB) kB\nMemFree:         1000 kB\n".utf8).write(to: procDir.appendingPathComponent("meminfo"))
        for (i, model) in gpus.enumerated() {
            let gpu = procDir.appendingPathComponent("driver/nvidia/gpus/0000:0\(i + 1):00.0")
            try FileManager.default.createDirectory(at: gpu, withIntermediateDirectories: true)
            try Data("Model: \t\t \(model)\nIRQ:   \t\t 42\n".utf8).write(to: gpu.appendingPathComponent("information"))
        }
        return ProcHardware(root: root)
    }

    @Test("a healthy staged install: only the systemd warning, every finding without an error")
    func clean() throws {
        let spec = try OpsFixture.spec(OpsFixture.specText(services: [("web", 1, "/health", nil)]))
        let root = try stage(spec, "clean")
        defer { try? FileManager.default.removeItem(at: root) }
        let control = StackControl(spec: spec, runner: FakeRunner.withDocker, root: root, systemdProbe: "/nonexistent")
        let report = Doctor(control: control, hardware: try proc(root, kB: 8_000_000), freeBytes: { _ in 50_000_000_000 }).run()
        #expect(report.errors == 0, "\(report.findings.filter { $0.level == .error })")
        #expect(report.findings.contains { $0.check == "systemd" && $0.level == .warning && $0.fix != nil })
        #expect(report.findings.contains { $0.check == "compose-file" && $0.level == .ok })
        #expect(report.modelPack == "light")
    }

    @Test("each problem is found, with a fix: no Docker, loose env mode, placeholder, port taken, too little RAM and disk")
    func problems() throws {
        let spec = try OpsFixture.spec(OpsFixture.specText(services: [("web", 1, "/health", nil)], minRam: "8GB", minDisk: "20GB"))
        // A port held by this test, declared as a service port.
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr)
        _ = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        listen(listener, 1)
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &len) } }
        let port = Int(UInt16(bigEndian: addr.sin_port))
        let busySpec = try OpsFixture.spec(OpsFixture.specText(services: [("web", port, "/health", nil)], minRam: "8GB", minDisk: "20GB"))
        _ = spec

        let root = try stage(busySpec, "problems")
        defer { try? FileManager.default.removeItem(at: root) }
        let envPath = root.path + "/etc/unison/platform.env"
        try Data("UNISON_MODEL_PACK=light\nTEST_SECRET=CHANGE_ME\n".utf8).write(to: URL(fileURLWithPath: envPath))
        chmod(envPath, 0o644)
        let control = StackControl(spec: busySpec, runner: FakeRunner.noDocker, root: root, systemdProbe: "/nonexistent")
        let report = Doctor(control: control, hardware: try proc(root, kB: 2_000_000), freeBytes: { _ in 1_000_000_000 }).run()
        func finding(_ check: String) -> Finding? { report.findings.first { $0.check == check && $0.level == .error } }
        #expect(finding("docker")?.message.contains("Docker is not installed") == true)
        #expect(finding("env-mode")?.fix == "chmod 0600 /etc/unison/platform.env")
        #expect(finding("env-secrets")?.message.contains("TEST_SECRET still holds the template placeholder") == true)
        #expect(finding("ports")?.message.contains("port \(port) for web") == true)
        #expect(finding("ram")?.message.contains("needs 8GB") == true)
        #expect(finding("disk")?.message.contains("needs 20GB") == true)
        #expect(report.findings.filter { $0.level == .error }.allSatisfy { $0.fix != nil })
        #expect(report.errors >= 6)

        // The model pack asked for is the one sized against.
        let big = Doctor(control: control, modelPack: "big", memInfoPath: try memInfo(root, kB: 2_000_000), freeBytes: { _ in 1 }).run()
        #expect(big.modelPack == "big")
        #expect(big.findings.first { $0.check == "ram" }?.fix?.contains("--models light") == true)
    }

    /// A socket listening on 127.0.0.1 at a port the kernel picks: (descriptor, port).
    func listening() -> (Int32, Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr)
        _ = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        listen(fd, 1)
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return (fd, Int(UInt16(bigEndian: addr.sin_port)))
    }

    /// The compose bundle publishes `127.0.0.1:<hostPort>:<port>`: what can collide on the host is
    /// the host port, never the container's own port.
    @Test("the port check probes the host port the compose bundle publishes, not the container port")
    func portsAreHostPorts() throws {
        let (taken, takenPort) = listening()
        defer { close(taken) }
        let (spare, sparePort) = listening()
        close(spare)  // free again: a port nothing listens on
        func doctor(port: Int, hostPort: Int, _ label: String) throws -> (DoctorReport, String) {
            let text = OpsFixture.specText(services: [("web", port, "/health", nil)])
                .replacingOccurrences(of: "    port: \(port)\n", with: "    port: \(port)\n    hostPort: \(hostPort)\n")
            let spec = try OpsFixture.spec(text)
            #expect(spec.service(named: "web")?.hostPort == hostPort)
            let root = try stage(spec, label)
            defer { try? FileManager.default.removeItem(at: root) }
            let compose = try String(contentsOfFile: root.path + "/opt/unison-platform/compose.yaml", encoding: .utf8)
            let control = StackControl(spec: spec, runner: FakeRunner.withDocker, root: root, systemdProbe: "/nonexistent")
            return (Doctor(control: control, hardware: try proc(root), freeBytes: { _ in 50_000_000_000 }).run(), compose)
        }
        // Published on the taken port: found, whatever the container listens on inside.
        let (busy, busyCompose) = try doctor(port: sparePort, hostPort: takenPort, "host-port-busy")
        #expect(busyCompose.contains("127.0.0.1:\(takenPort):\(sparePort)"))
        let error = busy.findings.first { $0.check == "ports" && $0.level == .error }
        #expect(error?.message.contains("port \(takenPort) for web") == true, "\(busy.findings)")
        // The container port is taken on the host, the published one is free: no collision.
        let (free, _) = try doctor(port: takenPort, hostPort: sparePort, "host-port-free")
        #expect(!free.findings.contains { $0.check == "ports" && $0.level == .error }, "\(free.findings)")
        #expect(free.findings.contains { $0.check == "ports" && $0.level == .ok })
    }

    @Test("hardware from planted /proc files against the guide and the pack: cores, AVX, RAM, disk, GPU, each with its fix")
    func hardware() throws {
        let spec = try OpsFixture.spec(OpsFixture.specText(services: [("web", 1, "/health", nil)], minRam: "4GB", minDisk: "10GB"))
        let root = try stage(spec, "hardware")
        defer { try? FileManager.default.removeItem(at: root) }
        let control = StackControl(spec: spec, runner: FakeRunner.withDocker, root: root, systemdProbe: "/nonexistent")
        func check(_ report: DoctorReport, _ name: String) -> Finding? { report.findings.first { $0.check == name } }

        // A machine the guide is happy with: 8 cores with AVX, 16 GB, 100 GB free, an NVIDIA GPU.
        let good = Doctor(
            control: control, hardware: try proc(root, cores: 8, avx: true, kB: 16_000_000, gpus: ["NVIDIA GeForce RTX 3060"]),
            freeBytes: { _ in 100_000_000_000 }
        ).run()
        for name in ["cpu-cores", "cpu-avx", "ram", "disk", "gpu"] {
            #expect(check(good, name)?.level == .ok, "\(name): \(check(good, name)?.message ?? "missing")")
        }
        #expect(check(good, "cpu-cores")?.message.hasPrefix("8 CPUs") == true)
        #expect(check(good, "gpu")?.message == "GPU: NVIDIA GeForce RTX 3060")

        // Two cores without AVX, 6 GB, 20 GB free: enough for the pack, short of the guide.
        let small = Doctor(control: control, hardware: try proc(root, cores: 2, avx: false, kB: 6_000_000), freeBytes: { _ in 20_000_000_000 }).run()
        let cores = try #require(check(small, "cpu-cores"))
        #expect(
            cores.level == .warning && cores.message.contains("2 CPUs") && cores.message.contains("asks for 4 (8 preferred)")
                && cores.fix?.contains("hardware-deployment-guide.md") == true)
        let avx = try #require(check(small, "cpu-avx"))
        #expect(avx.level == .warning && avx.message.contains("does not report AVX") && avx.fix?.contains("-cpu host") == true)  // the light pack infers nothing locally
        let ram = try #require(check(small, "ram"))
        #expect(ram.level == .warning && ram.message.contains("below the hardware guide's") && ram.fix != nil)
        let disk = try #require(check(small, "disk"))
        #expect(disk.level == .warning && disk.message.contains("enough for pack 'light' (10GB)") && disk.fix?.contains("SSD") == true)
        #expect(check(small, "gpu")?.level == .ok && check(small, "gpu")?.message.contains("optional") == true)
        #expect(small.errors == 0)

        // Below the pack: errors. A pack that preloads models makes missing AVX an error.
        var preloading = spec
        preloading.models.packs[0].preload = ["qwen2.5:1.5b"]
        let preloadControl = StackControl(spec: preloading, runner: FakeRunner.withDocker, root: root, systemdProbe: "/nonexistent")
        let short = Doctor(control: preloadControl, hardware: try proc(root, cores: 1, avx: false, kB: 2_000_000), freeBytes: { _ in 5_000_000_000 })
            .run()
        #expect(check(short, "cpu-avx")?.level == .error && check(short, "cpu-avx")?.message.contains("runs its models on the CPU") == true)
        #expect(check(short, "ram")?.level == .error && check(short, "ram")?.message.contains("needs 4GB") == true)
        #expect(check(short, "disk")?.level == .error && check(short, "disk")?.message.contains("needs 10GB") == true)
        #expect(check(short, "cpu-cores")?.message.hasPrefix("1 CPU;") == true)

        // A pack that wants a GPU, on a machine without one.
        var wantsGPU = HardwareRequirements.guide
        wantsGPU.gpu = true
        let noGPU = Doctor(control: control, hardware: try proc(root), requirements: wantsGPU, freeBytes: { _ in 100_000_000_000 }).run()
        let gpu = try #require(check(noGPU, "gpu"))
        #expect(gpu.level == .error && gpu.fix?.contains("nvidia-container-toolkit") == true)

        // Nothing readable: warnings that say so, never a crash.
        let empty = Doctor(control: control, hardware: ProcHardware(root: root.appendingPathComponent("no-such-root")), freeBytes: { _ in nil }).run()
        for name in ["cpu-cores", "cpu-avx", "ram", "disk"] { #expect(check(empty, name)?.level == .warning, "\(name)") }
        #expect(empty.findings.filter { $0.level != .ok }.allSatisfy { $0.fix != nil })
    }

    @Test("procfs readings: processors counted, avx as a whole flag, MemTotal in bytes, NVIDIA GPUs by model")
    func procReadings() throws {
        let dir = try OpsFixture.tempDir("proc")
        defer { try? FileManager.default.removeItem(at: dir) }
        let reading = try proc(dir, cores: 3, avx: true, kB: 1000, gpus: ["Tesla T4", "Tesla T4"]).read()
        #expect(reading == HardwareReading(cores: 3, avx: true, memTotal: 1_024_000, gpus: ["Tesla T4", "Tesla T4"]))
        // `avx512f` alone is not `avx`.
        try Data("processor : 0\nflags : sse2 avx512f\n".utf8).write(to: dir.appendingPathComponent("planted-proc/proc/cpuinfo"))
        #expect(ProcHardware(root: dir.appendingPathComponent("planted-proc")).read().avx == false)
    }
}
