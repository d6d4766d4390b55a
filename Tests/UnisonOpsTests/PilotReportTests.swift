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
    @Test func reportFromAPlantedMachine() throws {
        let (root, spec) = try PilotFixture.plant("ok")
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
        let (root, spec) = try PilotFixture.plant("failed", firstBootOK: false)
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
}
