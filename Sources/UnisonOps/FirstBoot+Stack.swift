import FoundationEssentials
import UnisonCore
import UnisonInstall
import UnisonSpec

/// What the stack gate found at first boot (`<dataDir>/stack-status.json`).
package struct StackGateReport: Sendable, Codable, Equatable {
    package var schema = "unisonctl.stack-status/v1"
    package var ok: Bool
    /// Seconds from the gate's start until every service was healthy (or it gave up).
    package var seconds: Int
    /// The service that failed first and why (nil when ok).
    package var service: String?
    package var reason: String?
    package var services: [ServiceHealth]
    /// The diag bundle left after a failure.
    package var diagBundle: String?

    package static let okMarker = "UNISONOS-STACK-OK"
    package static let failedMarker = "UNISONOS-STACK-FAILED"

    /// `UNISONOS-STACK-OK`, or `UNISONOS-STACK-FAILED: <service>: <reason>`.
    package var finalLine: String {
        ok ? Self.okMarker : "\(Self.failedMarker): \(service ?? "stack"): \(reason ?? "unknown reason")"
    }
}

/// First boot's last step where the image runs its own stack: after the platform unit has
/// loaded the preloaded images (`unison-load-images`) and started `docker compose up`, wait
/// (bounded) until every service the env file's profiles turn on is healthy by the spec's
/// checks. A failed image load (the loader's `load-failed` note) fails at once, naming the
/// image's service; a timeout names the first service not healthy. A failure leaves a diag
/// bundle in the data dir.
package struct StackGate: Sendable {
    package var spec: PlatformSpec
    package var layout: InstallLayout
    package var root: URL
    package var timeout: TimeInterval
    package var interval: TimeInterval
    package var imageStore: String
    package var log: @Sendable (String) -> Void

    package init(
        spec: PlatformSpec, root: URL = URL(fileURLWithPath: "/"), timeout: TimeInterval = 600, interval: TimeInterval = 3,
        imageStore: String = "/var/lib/unison/images", log: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.spec = spec
        self.layout = InstallLayout(spec: spec)
        self.root = root
        self.timeout = timeout
        self.interval = interval
        self.imageStore = imageStore
        self.log = log
    }

    func hostPath(_ path: String) -> String { root.path == "/" ? path : root.path + path }

    package var statusFile: String { layout.dataDir + "/stack-status.json" }

    /// Whether this machine runs the stack itself: a container engine and the compose bundle.
    package var applies: Bool {
        FileManager.default.isExecutableFile(atPath: hostPath("/usr/bin/docker"))
            && FileManager.default.fileExists(atPath: hostPath(layout.composeFile))
    }

    /// The loader's failure note, split as `<service>: <reason>`.
    static func loadFailure(_ text: String) -> (service: String, reason: String) {
        let line = text.split(separator: "\n").first.map(String.init) ?? text
        guard let colon = line.firstIndex(of: ":") else { return ("images", line) }
        return (String(line[..<colon]), line[line.index(after: colon)...].trimming(.whitespaces))
    }

    /// The first service of `report` that is not healthy, with its state and detail.
    static func firstFailure(_ report: HealthReport) -> (service: String, reason: String)? {
        guard let bad = report.services.first(where: { $0.state != .healthy }) else {
            return report.services.isEmpty ? ("stack", "no service to check") : nil
        }
        return (bad.name, "\(bad.state.rawValue)" + (bad.detail.isEmpty ? "" : ": \(bad.detail)"))
    }

    package func run(checker: HealthChecker? = nil, clock: any WallClock = SystemClock()) -> StackGateReport {
        let start = clock.now()
        let deadline = start.addingTimeInterval(timeout)
        let envText = try? String(contentsOfFile: hostPath(layout.envFile), encoding: .utf8)
        let profiles = envText.flatMap { EnvFile.value(of: "COMPOSE_PROFILES", in: $0) }
            .map { Set($0.split(separator: ",").map { $0.trimming(.whitespaces) }) }
        let checker =
            checker
            ?? HealthChecker(
                spec: spec, requestTimeout: 5,
                containerHealth: ComposeHealthSource(composeFile: hostPath(layout.composeFile)),
                activeProfiles: profiles)
        var report = StackGateReport(ok: false, seconds: 0, services: [])
        var attempt = 0
        while true {
            attempt += 1
            if let note = try? String(contentsOfFile: hostPath(imageStore + "/load-failed"), encoding: .utf8) {
                let (service, reason) = Self.loadFailure(note)
                report.service = service
                report.reason = reason
                break
            }
            let health = checker.checkOnce(attempts: attempt)
            report.services = health.services
            guard let failure = Self.firstFailure(health) else {
                report.ok = true
                break
            }
            if attempt == 1 || attempt % 10 == 0 { log("waiting for the stack: \(failure.service): \(failure.reason)") }
            if clock.now().addingTimeInterval(interval) >= deadline {
                report.service = failure.service
                report.reason = failure.reason + " (gave up after \(Int(timeout)) s)"
                break
            }
            Threads.sleep(interval)
        }
        report.seconds = Int(clock.now().timeIntervalSince(start).rounded())
        if !report.ok {
            let diag = DiagOptions(output: URL(fileURLWithPath: hostPath(layout.dataDir)), collectorTimeout: 20)
            if let result = try? DiagBundle(control: StackControl(spec: spec, root: root), options: diag).write() {
                report.diagBundle = result.bundle
            }
        }
        do {
            let data = try JSONOutput.encoder().encode(report)
            try AtomicFile.write(data + Data("\n".utf8), to: URL(fileURLWithPath: hostPath(statusFile)), permissions: 0o644)
        } catch {
            log("cannot write \(statusFile): \(error)")
        }
        return report
    }
}
