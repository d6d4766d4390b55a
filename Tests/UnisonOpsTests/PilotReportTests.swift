import Foundation
import Testing
import UnisonCore
import UnisonInstall
import UnisonSpec
import UnisonTestSupport

@testable import UnisonOps

/// `pilot report` on planted machines: an image install with answers applied, a first boot that
/// verified its model, planted /proc and /sys for the hardware.
@Suite("pilot report", .tags(.unit))
struct PilotReportTests {
    static let cpuinfo = (0..<4).map { "processor\t: \($0)\nmodel name\t: Test CPU\nflags\t\t: fpu sse2 avx avx2 f16c\n\n" }.joined()

    /// A staged image with the identifying things a report must leave out planted around it.
    static func plant(_ label: String, firstBootOK: Bool = true) throws -> (URL, PlatformSpec) {
        let root = try FieldFixture.stageImage("pilot-\(label)", pack: "default")
        let spec = try FieldFixture.spec()
        func put(_ path: String, _ text: String) throws {
            let url = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
        }
        try put("proc/cpuinfo", cpuinfo)
        try put("proc/meminfo", "MemTotal:        8039800 kB\nMemFree:         1000000 kB\n")
        try put("sys/bus/pci/devices/0000:00:02.0/class", "0x030000\n")
        try put("sys/bus/pci/devices/0000:00:02.0/vendor", "0x10de\n")
        try put("sys/bus/pci/devices/0000:00:03.0/class", "0x020000\n")
        try put("sys/bus/pci/devices/0000:00:03.0/vendor", "0x8086\n")
        try put("etc/passwd", "root:x:0:0:root:/root:/bin/bash\n")
        try put("etc/group", "root:x:0:\nsudo:x:27:\n")
        try put("etc/shadow", "root:*:1:0:99999:7:::\n")
        // Answers with a host name, user and address that must not reach the report.
        let found = AnswersLocator.Found(
            source: AnswersSource(kind: .cidata, path: "LABEL=CIDATA:/user-data"),
            text: """
                hostname: secret-host-42
                users: [{name: alice-pilot, ssh_authorized_keys: ["\(provisionKey)"]}]
                unison: {network: {mode: static, address: 203.0.113.77/24}}
                """)
        #expect(Provisioner(root: root, spec: spec, live: false).run(found: found).applied)
        let layout = InstallLayout(spec: spec)
        let fb = FirstBootReport(
            ok: firstBootOK, alreadyDone: false, modelPack: "default", ollama: "http://203.0.113.77:11434",
            ollamaVersion: "0.5.7",
            steps: [
                FirstBootStep(name: "secrets", status: .ok, detail: "generated"),
                FirstBootStep(name: "ollama", status: firstBootOK ? .ok : .failed, detail: "secret-host-42 did not answer"),
            ],
            models: [FirstBootModel(name: "qwen2.5:1.5b", storeDigest: "sha256:ab", serverDigest: "sha256:ab", ok: firstBootOK)],
            marker: nil, failure: firstBootOK ? nil : "ollama: secret-host-42 did not answer", stateFile: layout.firstBootStamp)
        let stamp = root.appendingPathComponent(String(layout.firstBootStamp.dropFirst()))
        try FileManager.default.createDirectory(at: stamp.deletingLastPathComponent(), withIntermediateDirectories: true)
        try JSONOutput.encoder().encode(fb).write(to: stamp)
        // First boot finished 90 minutes after the install.
        let manifest = root.appendingPathComponent(String(layout.manifest.dropFirst())).path
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: 1_800_000_000)], ofItemAtPath: manifest)
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: 1_800_005_400)], ofItemAtPath: stamp.path)
        return (root, spec)
    }

    @Test func reportFromAPlantedMachine() throws {
        let (root, spec) = try Self.plant("ok")
        defer { try? FileManager.default.removeItem(at: root) }
        let doctor = DoctorReport(
            modelPack: "default", findings: [Finding("docker", .error, "no docker on secret-host-42"), Finding("ram", .ok, "8 GiB")])
        let health = HealthReport(
            services: [
                ServiceHealth(name: "orchestrator", url: "http://203.0.113.77:8080/health", state: .healthy, status: 200, detail: ""),
                ServiceHealth(name: "inference", url: nil, state: .refused, status: nil, detail: "refused"),
            ], attempts: 1)
        let reporter = PilotReporter(
            spec: spec, root: root, clock: FixedClock(Date(timeIntervalSince1970: 1_800_000_000)),
            diskBytes: { _ in 120 * 1_073_741_824 })
        let report = reporter.report(target: "vm", doctor: doctor, health: health, arch: "x86_64")
        #expect(report.schema == "unisonctl.pilot-report/v1")
        #expect(report.target == "vm" && report.release.version == spec.platform.version.description)
        #expect(
            report.hardware
                == .init(arch: "x86_64", cores: 4, avx: true, avx2: true, avx512: false, ramClass: "8GiB", diskClass: "128GiB", gpu: ["nvidia"]))
        #expect(report.install == .init(outcome: "installed", mode: "image"))
        #expect(report.firstBoot == .init(outcome: "ok", failedStep: nil, minutesAfterInstall: 90))
        #expect(report.answers == .init(source: "cidata", applied: true))
        #expect(report.models == .init(pack: "default", preloaded: 1, verified: true))
        #expect(report.stack == [.init(service: "orchestrator", state: "healthy"), .init(service: "inference", state: "refused")])
        #expect(report.doctor == [.init(check: "docker", level: "error"), .init(check: "ram", level: "ok")])
        #expect(report.day == "2027-01-15")

        let json = try JSONOutput.string(report)
        for leak in ["secret-host-42", "alice-pilot", "203.0.113.77", "AAAAC3", "/home/", "CHANGE_ME"] {
            #expect(!json.contains(leak), "the report leaks \(leak)")
        }
        // It decodes back as the same document.
        #expect(try JSONDecoder().decode(PilotReport.self, from: Data(json.utf8)) == report)
    }

    @Test func failedFirstBootNamesTheStepOnly() throws {
        let (root, spec) = try Self.plant("failed", firstBootOK: false)
        defer { try? FileManager.default.removeItem(at: root) }
        let report = PilotReporter(spec: spec, root: root, diskBytes: { _ in nil }).report(target: nil, doctor: nil, health: nil, arch: "x86_64")
        #expect(report.firstBoot.outcome == "failed" && report.firstBoot.failedStep == "ollama")
        #expect(report.models.verified == false)
        #expect(report.target == "image" && report.hardware.diskClass == "unknown")
        #expect(!(try JSONOutput.string(report)).contains("secret-host-42"))
    }

    static let sizes: [(Int64, String)] = [
        (3_900_000_000, "4GiB"), (8_232_755_200, "8GiB"), (12 * 1_073_741_824, "16GiB"),
        (500 * 1_000_000_000, "512GiB"), (2_000 * 1_000_000_000, "2TiB"), (1, "1GiB"),
    ]
    @Test(arguments: sizes)
    func sizeClasses(bytes: Int64, expected: String) {
        #expect(PilotReporter.sizeClass(bytes: bytes) == expected)
    }

    @Test func cliShowsTheReportAndWritesItOnlyWhenConfirmed() throws {
        let (root, _) = try Self.plant("cli")
        defer { try? FileManager.default.removeItem(at: root) }
        let spec = OpsFixture.repoRoot.appendingPathComponent("unison.yaml").path
        let out = root.appendingPathComponent("report.json")
        // Not a terminal and no --yes: shown, not written.
        let refused = try OpsCLI.run(["pilot", "report", "--root", root.path, "--spec", spec, "--out", out.path])
        #expect(refused.status == 2 && refused.stdoutString.contains("\"schema\" : \"unisonctl.pilot-report/v1\""))
        #expect(!FileManager.default.fileExists(atPath: out.path))
        let written = try OpsCLI.run(["pilot", "report", "--root", root.path, "--spec", spec, "--out", out.path, "--yes", "--diag"])
        #expect(written.status == 0, "\(written.stderrString)")
        let data = try Data(contentsOf: out)
        #expect(data == Data(written.stdoutString.utf8))
        let doc = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let diag = try #require(doc["diag"] as? [String: Any])
        let bundle = root.appendingPathComponent(try #require(diag["file"] as? String))
        #expect(bundle.lastPathComponent.hasPrefix("unison-diag-pilot-"))
        #expect(try FieldFixture.sha256sum(bundle) == diag["sha256"] as? String)
        #expect((try FileManager.default.attributesOfItem(atPath: out.path)[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        #expect(try OpsCLI.run(["pilot", "report", "--root", root.path, "--spec", spec, "--diag"]).status == 2)
    }
}
