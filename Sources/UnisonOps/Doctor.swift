import FoundationEssentials
import Glibc
import UnisonCore
import UnisonInstall
import UnisonSpec

/// One thing `doctor` looked at: what it found and, when something is wrong, how to fix it.
package struct Finding: Sendable, Codable, Equatable {
    package enum Level: String, Sendable, Codable { case ok, warning, error }
    package var check: String
    package var level: Level
    package var message: String
    package var fix: String?

    package init(_ check: String, _ level: Level, _ message: String, fix: String? = nil) {
        self.check = check
        self.level = level
        self.message = message
        self.fix = fix
    }
}

package struct DoctorReport: Sendable, Codable {
    package var schema = "unisonctl.doctor/v1"
    package var modelPack: String
    package var findings: [Finding]
    package var errors: Int { findings.filter { $0.level == .error }.count }
    package var warnings: Int { findings.filter { $0.level == .warning }.count }

    enum CodingKeys: String, CodingKey { case schema, modelPack, findings, errors, warnings }
    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(schema, forKey: .schema)
        try c.encode(modelPack, forKey: .modelPack)
        try c.encode(findings, forKey: .findings)
        try c.encode(errors, forKey: .errors)
        try c.encode(warnings, forKey: .warnings)
    }
    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        schema = try c.decode(String.self, forKey: .schema)
        modelPack = try c.decode(String.self, forKey: .modelPack)
        findings = try c.decode([Finding].self, forKey: .findings)
    }
    init(modelPack: String, findings: [Finding]) {
        self.modelPack = modelPack
        self.findings = findings
    }
}

/// Checks the host and the install: Docker, the compose plugin, systemd and the unit, env file
/// safety, the compose file, ports, and the hardware — CPUs, AVX, RAM, free disk and GPU —
/// against unison-docs' hardware deployment guide and the model pack's minimums.
package struct Doctor: Sendable {
    package var control: StackControl
    /// The pack to size the machine for; default the env file's UNISON_MODEL_PACK, then the spec's.
    package var modelPack: String?
    /// Where CPU, RAM and GPU readings come from (procfs on the host; planted files in tests).
    package var hardware: any HardwareSource
    /// The guide's minimums; `gpu` set when the chosen pack wants a GPU.
    package var requirements: HardwareRequirements
    /// Free bytes at a path (statvfs); replaceable in tests.
    package var freeBytes: @Sendable (String) -> Int64?

    package init(
        control: StackControl, modelPack: String? = nil, hardware: any HardwareSource = ProcHardware(),
        requirements: HardwareRequirements = .guide,
        freeBytes: @escaping @Sendable (String) -> Int64? = Doctor.statvfsFree
    ) {
        self.control = control
        self.modelPack = modelPack
        self.hardware = hardware
        self.requirements = requirements
        self.freeBytes = freeBytes
    }

    /// The host's procfs, with MemTotal read from `memInfoPath` instead.
    package init(
        control: StackControl, modelPack: String? = nil, memInfoPath: String,
        freeBytes: @escaping @Sendable (String) -> Int64? = Doctor.statvfsFree
    ) {
        self.init(control: control, modelPack: modelPack, hardware: ProcHardware(memInfoPath: memInfoPath), freeBytes: freeBytes)
    }

    var spec: PlatformSpec { control.spec }
    var layout: InstallLayout { control.layout }

    package func run() -> DoctorReport {
        var findings: [Finding] = []
        let docker = checkDocker(&findings)
        checkSystemd(&findings)
        let envText = checkEnv(&findings)
        checkCompose(&findings, composeAvailable: docker.compose)
        let running = docker.compose ? runningServices() : [:]
        checkPorts(&findings, running: running)
        let pack = resolvePack(envText: envText)
        checkResources(&findings, pack: pack)
        return DoctorReport(modelPack: pack, findings: findings)
    }

    func checkDocker(_ findings: inout [Finding]) -> (docker: Bool, compose: Bool) {
        let version = try? control.runner.run(["docker", "--version"])
        guard let version, version.status == 0 else {
            findings.append(
                Finding(
                    "docker", .error, "Docker is not installed: 'docker' was not found on PATH",
                    fix: "apt-get install docker.io (or Docker Engine from https://docs.docker.com/engine/install/)"))
            findings.append(
                Finding(
                    "compose", .error, "the Docker compose plugin cannot be checked without Docker",
                    fix: "install Docker first, then: apt-get install docker-compose-plugin"))
            return (false, false)
        }
        findings.append(Finding("docker", .ok, version.stdoutString.trimming(.whitespacesAndNewlines)))
        if let info = try? control.runner.run(["docker", "info", "--format", "{{.ServerVersion}}"]), info.status != 0 {
            findings.append(
                Finding(
                    "docker-engine", .error, "the Docker engine does not answer: \(info.stderrString.split(separator: "\n").first ?? "")",
                    fix: "systemctl start docker (and check that this user may use it: usermod -aG docker $USER)"))
        }
        let compose = try? control.runner.run(["docker", "compose", "version"])
        guard let compose, compose.status == 0 else {
            findings.append(
                Finding(
                    "compose", .error, "the Docker compose plugin is missing ('docker compose version' failed)",
                    fix: "apt-get install docker-compose-plugin (Docker's repository) or docker-compose-v2 (Ubuntu)"))
            return (true, false)
        }
        findings.append(Finding("compose", .ok, compose.stdoutString.trimming(.whitespacesAndNewlines)))
        return (true, true)
    }

    func checkSystemd(_ findings: inout [Finding]) {
        let unitPath = control.hostPath(layout.unitPath)
        let installed = FileManager.default.fileExists(atPath: unitPath)
        if !installed {
            findings.append(Finding("unit", .error, "\(layout.unitPath) is not installed", fix: "unisonctl install native (or docker|wsl)"))
        }
        guard control.systemdRunning else {
            findings.append(
                Finding(
                    "systemd", .warning,
                    "systemd is not running here (no \(control.systemdProbe)): the stack is run with docker compose directly and does not start at boot",
                    fix: "on WSL: set [boot] systemd=true in /etc/wsl.conf and run `wsl --shutdown`; elsewhere start the stack with `unisonctl start`"
                ))
            return
        }
        guard installed else { return }
        let enabled =
            (try? control.runner.run(["systemctl", "is-enabled", layout.unit]))?.stdoutString.trimming(.whitespacesAndNewlines) ?? ""
        if enabled == "enabled" {
            findings.append(Finding("unit", .ok, "\(layout.unit) is enabled"))
        } else {
            findings.append(
                Finding(
                    "unit", .warning, "\(layout.unit) is \(enabled.isEmpty ? "not enabled" : enabled)",
                    fix: "systemctl enable --now \(layout.unit)"))
        }
        let active =
            (try? control.runner.run(["systemctl", "is-active", layout.unit]))?.stdoutString.trimming(.whitespacesAndNewlines) ?? ""
        if active == "failed" {
            findings.append(Finding("unit", .error, "\(layout.unit) has failed", fix: "journalctl -u \(layout.unit) -n 50; then unisonctl recover"))
        }
    }

    func checkEnv(_ findings: inout [Finding]) -> String? {
        let path = control.hostPath(layout.envFile)
        var st = stat()
        guard lstat(path, &st) == 0 else {
            findings.append(Finding("env", .error, "\(layout.envFile) does not exist", fix: "unisonctl install native (it seeds the file)"))
            return nil
        }
        let mode = UInt32(st.st_mode) & 0o7777
        if mode != 0o600 {
            findings.append(
                Finding(
                    "env-mode", .error, "\(layout.envFile) has mode \(String(mode, radix: 8)); it holds secrets",
                    fix: "chmod 0600 \(layout.envFile)"))
        } else {
            findings.append(Finding("env-mode", .ok, "\(layout.envFile) is mode 0600"))
        }
        if geteuid() == 0, st.st_uid != 0 {
            findings.append(
                Finding("env-owner", .warning, "\(layout.envFile) is owned by uid \(st.st_uid), not root", fix: "chown root:root \(layout.envFile)"))
        }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            findings.append(Finding("env", .error, "\(layout.envFile) cannot be read", fix: "run doctor as root"))
            return nil
        }
        let problems = EnvFile.problems(in: text, secrets: spec.installer.secrets)
        for problem in problems {
            findings.append(
                Finding(
                    "env-secrets", .error, "\(layout.envFile): \(problem); the stack will not start",
                    fix: "run \(layout.envScript) seed to generate placeholders, or set a strong value (openssl rand -hex 32)"))
        }
        if problems.isEmpty { findings.append(Finding("env-secrets", .ok, "every secret is set, none is a placeholder or development value")) }
        return text
    }

    func checkCompose(_ findings: inout [Finding], composeAvailable: Bool) {
        let path = control.hostPath(layout.composeFile)
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            findings.append(Finding("compose-file", .error, "\(layout.composeFile) is missing", fix: "unisonctl install native"))
            return
        }
        let missing = spec.allServices.map(\.name).filter { !text.contains("\n  \($0):\n") }
        if !missing.isEmpty {
            findings.append(
                Finding(
                    "compose-file", .error, "\(layout.composeFile) lacks services: \(missing.joined(separator: ", "))",
                    fix: "unisonctl install native (it regenerates the file from the spec)"))
        } else if let record = installedRelease(),
            ComposeBundle.render(spec: spec, images: record.images, layout: layout) != text
        {
            findings.append(
                Finding(
                    "compose-file", .warning, "\(layout.composeFile) differs from what the spec generates (edited by hand, or the spec changed)",
                    fix: "put local changes in compose.override.yaml, then unisonctl install native"))
        } else {
            findings.append(Finding("compose-file", .ok, "\(layout.composeFile) lists every service of the spec"))
        }
        if composeAvailable, let r = try? control.runner.run(control.compose + ["config", "--quiet"]), r.status != 0 {
            findings.append(
                Finding(
                    "compose-config", .error, "docker compose rejects the file: \(r.stderrString.trimming(.whitespacesAndNewlines))",
                    fix: "unisonctl install native (regenerates it)"))
        }
    }

    func installedRelease() -> InstalledRelease? {
        guard let data = FileManager.default.contents(atPath: control.hostPath(layout.releaseRecord)) else { return nil }
        return try? JSONDecoder().decode(InstalledRelease.self, from: data)
    }

    func runningServices() -> [String: String] {
        (try? ComposeHealthSource(runner: control.runner, composeFile: control.hostPath(layout.composeFile))
            .health(project: layout.composeProject)) ?? [:]
    }

    func checkPorts(_ findings: inout [Finding], running: [String: String]) {
        var busy: [String] = []
        // The host side of what the compose bundle publishes (`127.0.0.1:<host>:<container>`):
        // the container's own port never binds on the host.
        for s in spec.allServices {
            for port in Set(s.publishedPorts.map(\.host)).sorted() where PortProbe.inUse(port: port) {
                if let state = running[s.name], state != "exited" { continue }  // held by the stack itself
                busy.append("\(port) (\(s.name))")
                findings.append(
                    Finding(
                        "ports", .error, "port \(port) for \(s.name) is already in use on 127.0.0.1 by another program",
                        fix: "find it with `ss -ltnp 'sport = :\(port)'` and stop it, or change the service's hostPort in unison.yaml and reinstall"))
            }
        }
        if busy.isEmpty { findings.append(Finding("ports", .ok, "every service port is free or held by the stack")) }
    }

    func resolvePack(envText: String?) -> String {
        if let modelPack { return modelPack }
        if let envText, let pack = EnvFile.value(of: "UNISON_MODEL_PACK", in: envText), spec.modelPack(named: pack) != nil { return pack }
        return spec.installer.env["UNISON_MODEL_PACK"] ?? spec.models.packs.first?.name ?? "light"
    }

    func checkResources(_ findings: inout [Finding], pack name: String) {
        guard let pack = spec.modelPack(named: name) else {
            findings.append(
                Finding(
                    "model-pack", .error, "model pack '\(name)' is not in the spec",
                    fix: "use one of: \(spec.models.packs.map(\.name).joined(separator: ", "))"))
            return
        }
        let guide = "unison-docs dev/hardware-deployment-guide.md"
        let reading = hardware.read()
        let need = requirements
        let lighter = spec.models.packs.filter { $0.minRam < pack.minRam }.map(\.name)
        // Local inference runs on the CPU unless a GPU is there: the packs that preload models need AVX.
        let infersLocally = !pack.preload.isEmpty
        func size(_ bytes: Int64) -> String { ProgressReporter.formatBytes(bytes) }

        if let cores = reading.cores {
            if cores < need.cores {
                findings.append(
                    Finding(
                        "cpu-cores", .warning,
                        "\(cores) CPU\(cores == 1 ? "" : "s"); the hardware guide asks for \(need.cores) (\(need.preferredCores) preferred)",
                        fix:
                            "give the machine more CPUs (WSL: processors=\(need.cores) in .wslconfig; a VM: -smp \(need.cores)), or use a machine with \(need.cores)+ cores (\(guide))"
                    ))
            } else {
                findings.append(Finding("cpu-cores", .ok, "\(cores) CPUs (the guide asks for \(need.cores), \(need.preferredCores) preferred)"))
            }
        } else {
            findings.append(
                Finding(
                    "cpu-cores", .warning, "cannot read the CPU count (proc/cpuinfo)",
                    fix: "run doctor on the host itself, where /proc/cpuinfo is readable"))
        }

        if need.avx {
            switch reading.avx {
            case true?:
                findings.append(Finding("cpu-avx", .ok, "the CPU has AVX"))
            case false?:
                findings.append(
                    Finding(
                        "cpu-avx", infersLocally ? .error : .warning,
                        "the CPU does not report AVX; the hardware guide requires it\(infersLocally ? ", and pack '\(name)' runs its models on the CPU" : "")",
                        fix:
                            "on a VM pass the host CPU through (qemu -cpu host; the host CPU type in Hyper-V or VirtualBox), or use a CPU with AVX (\(guide))"
                    ))
            case nil:
                findings.append(
                    Finding(
                        "cpu-avx", .warning, "cannot read the CPU flags (proc/cpuinfo) to look for AVX",
                        fix: "grep -w avx /proc/cpuinfo on the host"))
            }
        }

        if let total = reading.memTotal {
            if total < pack.minRam.bytes {
                findings.append(
                    Finding(
                        "ram", .error, "\(size(total)) of RAM; model pack '\(name)' needs \(pack.minRam)",
                        fix: lighter.isEmpty ? "add memory" : "add memory, or use a lighter pack: --models \(lighter.joined(separator: "|"))"))
            } else if total < need.ram {
                findings.append(
                    Finding(
                        "ram", .warning,
                        "\(size(total)) of RAM: enough for pack '\(name)' (\(pack.minRam)), below the hardware guide's \(size(need.ram))",
                        fix: "add memory (the guide: \(size(need.ram)) minimum, 12–16 GB for local inference; \(guide))"))
            } else {
                findings.append(Finding("ram", .ok, "\(size(total)) of RAM (pack '\(name)' needs \(pack.minRam), the guide \(size(need.ram)))"))
            }
        } else {
            findings.append(
                Finding(
                    "ram", .warning, "cannot read MemTotal (proc/meminfo) to size RAM",
                    fix: "run doctor on the host itself, where /proc/meminfo is readable"))
        }

        var dir = control.hostPath(layout.dataDir)
        while !FileManager.default.fileExists(atPath: dir), dir != "/" { dir = PathText.parent(dir) }
        if let free = freeBytes(dir) {
            if free < pack.minDisk.bytes {
                findings.append(
                    Finding(
                        "disk", .error, "\(size(free)) free at \(dir); model pack '\(name)' needs \(pack.minDisk)",
                        fix: "free space there, or give \(layout.dataDir) its own larger disk"))
            } else if free < need.disk {
                findings.append(
                    Finding(
                        "disk", .warning,
                        "\(size(free)) free at \(dir): enough for pack '\(name)' (\(pack.minDisk)), below the hardware guide's \(size(need.disk))",
                        fix: "free space there, or give \(layout.dataDir) its own disk (an SSD of \(size(need.disk)) or more; \(guide))"))
            } else {
                findings.append(
                    Finding("disk", .ok, "\(size(free)) free at \(dir) (pack '\(name)' needs \(pack.minDisk), the guide \(size(need.disk)))"))
            }
        } else {
            findings.append(Finding("disk", .warning, "cannot read the free space at \(dir)", fix: "df -h \(dir)"))
        }

        if !reading.gpus.isEmpty {
            findings.append(Finding("gpu", .ok, "GPU: \(reading.gpus.joined(separator: ", "))"))
        } else if need.gpu {
            findings.append(
                Finding(
                    "gpu", .error, "model pack '\(name)' wants a GPU, and no NVIDIA GPU with its driver was found",
                    fix: "install the NVIDIA driver and nvidia-container-toolkit (\(guide)), or choose a pack that runs on the CPU"))
        } else {
            findings.append(Finding("gpu", .ok, "no GPU found; pack '\(name)' runs on the CPU (a GPU is optional)"))
        }
    }

    package static let statvfsFree: @Sendable (String) -> Int64? = { path in
        var st = statvfs()
        guard statvfs(path, &st) == 0 else { return nil }
        return Int64(st.f_bavail) * Int64(st.f_frsize)
    }
}

/// Whether something listens on 127.0.0.1:port (a bind without SO_REUSEADDR fails).
package enum PortProbe {
    package static func inUse(port: Int, host: String = "127.0.0.1") -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, host, &addr.sin_addr)
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        return rc != 0 && errno == EADDRINUSE
    }
}
