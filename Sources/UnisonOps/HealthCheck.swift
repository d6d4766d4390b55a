import Dispatch
import FoundationEssentials
import Synchronization
import UnisonCore
import UnisonSpec

/// The state of one service's health.
package enum HealthState: String, Sendable, Codable {
    case healthy, unhealthy, timeout, refused
    /// Could not be checked from here (a container-only health command without Docker).
    case unknown
}

package struct ServiceHealth: Sendable, Codable, Equatable {
    package var name: String
    /// `http://127.0.0.1:<port><path>`, or nil for services checked inside their container.
    package var url: String?
    package var state: HealthState
    package var status: Int?
    package var detail: String
}

/// A service not polled because none of its compose profiles is on (it is not running).
package struct SkippedService: Sendable, Codable, Equatable {
    package var name: String
    package var profiles: [String]
    /// Always `skipped: profile off`.
    package var reason: String
}

package struct HealthReport: Sendable, Codable {
    package var schema = "unisonctl.health/v1"
    package var healthy: Bool
    /// 0 all healthy, 1 some unhealthy, 2 cannot check.
    package var exitCode: Int32
    package var attempts: Int
    package var services: [ServiceHealth]
    /// Services whose profile is off: not polled, not counted.
    package var skipped: [SkippedService]

    init(services: [ServiceHealth], attempts: Int, skipped: [SkippedService] = []) {
        self.services = services
        self.attempts = attempts
        self.skipped = skipped
        let bad = services.contains { [.unhealthy, .timeout, .refused].contains($0.state) }
        let unknown = services.isEmpty || services.contains { $0.state == .unknown }
        exitCode = bad ? ExitStatus.checkFailed.rawValue : unknown ? ExitStatus.badInput.rawValue : ExitStatus.ok.rawValue
        healthy = exitCode == 0
    }
}

/// Where the health of container-only checks (`healthCommand`) comes from: Docker's own view.
package protocol ContainerHealthSource: Sendable {
    /// `service -> docker health` ("healthy", "unhealthy", "starting", "" without a check);
    /// throws when Docker cannot be asked.
    func health(project: String) throws -> [String: String]
}

/// Docker's health through `docker compose ps --format json` (a JSON array or one object a line,
/// depending on the compose version).
package struct ComposeHealthSource: ContainerHealthSource {
    package var runner: any ProcessRunner
    package var composeFile: String
    package init(runner: any ProcessRunner = SystemProcessRunner(), composeFile: String) {
        self.runner = runner
        self.composeFile = composeFile
    }

    package func health(project: String) throws -> [String: String] {
        let r = try runner.run(["docker", "compose", "-f", composeFile, "-p", project, "ps", "--all", "--format", "json"])
        guard r.status == 0 else { throw OpsError.commandFailed(command: "docker compose ps", status: r.status, stderr: r.stderrString) }
        var rows: [[String: JSONValue]] = []
        let text = r.stdoutString.trimming(.whitespacesAndNewlines)
        if text.hasPrefix("[") {
            // An array of objects, or nothing (one element of another kind drops them all).
            if let items = (try? JSONValue.parse(Data(text.utf8)))?.array, items.allSatisfy({ $0.object != nil }) {
                rows = items.compactMap(\.object)
            }
        } else {
            for line in text.split(separator: "\n") {
                if let row = (try? JSONValue.parse(Data(line.utf8)))?.object { rows.append(row) }
            }
        }
        var out: [String: String] = [:]
        for row in rows {
            guard let service = row["Service"]?.string else { continue }
            let state = row["State"]?.string ?? ""
            let health = row["Health"]?.string ?? ""
            out[service] = state == "running" ? (health.isEmpty ? "running" : health) : (state.isEmpty ? "unknown" : state)
        }
        return out
    }
}

/// Polls every service's health endpoint from the spec at `http://127.0.0.1:<healthPort or port><path>`,
/// all services at once, each with its own request timeout.
package struct HealthChecker: Sendable {
    package var spec: PlatformSpec
    package var host: String
    package var requestTimeout: TimeInterval
    package var containerHealth: (any ContainerHealthSource)?
    /// The compose profiles turned on (the env file's `COMPOSE_PROFILES`); services of other
    /// profiles are not running and not checked. nil: every service.
    package var activeProfiles: Set<String>?

    package init(
        spec: PlatformSpec, host: String = "127.0.0.1", requestTimeout: TimeInterval = 5,
        containerHealth: (any ContainerHealthSource)? = nil, activeProfiles: Set<String>? = nil
    ) {
        self.spec = spec
        self.host = host
        self.requestTimeout = requestTimeout
        self.containerHealth = containerHealth
        self.activeProfiles = activeProfiles
    }

    /// The services this checker looks at: every service whose profiles are on, none of the
    /// workers without a health check.
    package var checkedServices: [Service] {
        spec.allServices.filter { s in s.healthCheck && profileOn(s) }
    }

    /// Services with a health check whose profiles are all off.
    package var skippedServices: [SkippedService] {
        spec.allServices.filter { $0.healthCheck && !profileOn($0) }
            .map { SkippedService(name: $0.name, profiles: $0.profiles, reason: "skipped: profile off") }
    }

    func profileOn(_ s: Service) -> Bool {
        s.profiles.isEmpty || activeProfiles.map { !$0.isDisjoint(with: s.profiles) } ?? true
    }

    package func checkOnce(attempts: Int = 1) -> HealthReport {
        let services = checkedServices
        let results = ResultBox(count: services.count)
        var docker: Result<[String: String], Error>?
        if services.contains(where: { ($0.health == nil || $0.hostHealthPort == nil) && ($0.healthCommand != nil || $0.health != nil) }) {
            if let containerHealth {
                docker = Result { try containerHealth.health(project: spec.installer.composeProject) }
            }
        }
        let dockerView = docker
        // One thread per service: the probes block on their sockets, and concurrentPerform would
        // run only as many of them at once as there are cores.
        let group = DispatchGroup()
        for i in services.indices {
            group.enter()
            Threads.detach {
                results.set(i, check(services[i], docker: dockerView))
                group.leave()
            }
        }
        group.wait()
        return HealthReport(services: results.values, attempts: attempts, skipped: skippedServices)
    }

    func check(_ s: Service, docker: Result<[String: String], Error>?) -> ServiceHealth {
        if let path = s.health, let port = s.hostHealthPort {
            let url = "http://\(host):\(port)\(path)"
            let started = Date()
            let result = HTTPProbe.get(host: host, port: port, path: path, timeout: requestTimeout)
            let ms = Int(Date().timeIntervalSince(started) * 1000)
            switch result {
            case let .status(code) where (200..<300).contains(code):
                return ServiceHealth(name: s.name, url: url, state: .healthy, status: code, detail: "HTTP \(code) in \(ms) ms")
            case let .status(code):
                return ServiceHealth(name: s.name, url: url, state: .unhealthy, status: code, detail: "HTTP \(code)")
            case .refused:
                return ServiceHealth(
                    name: s.name, url: url, state: .refused, status: nil, detail: "connection refused: nothing listens on port \(port)")
            case .timedOut:
                return ServiceHealth(
                    name: s.name, url: url, state: .timeout, status: nil,
                    detail: "no answer within \(NumberText.fixed(requestTimeout, digits: 1)) s")
            case let .failed(reason):
                return ServiceHealth(name: s.name, url: url, state: .unhealthy, status: nil, detail: reason)
            }
        }
        guard s.healthCommand != nil || s.health != nil else {
            return ServiceHealth(name: s.name, url: nil, state: .unknown, status: nil, detail: "the spec declares no health check")
        }
        switch docker {
        case nil:
            return ServiceHealth(
                name: s.name, url: nil, state: .unknown, status: nil,
                detail: "checked inside its container (healthCommand); Docker is not available here to ask")
        case let .failure(error)?:
            let reason =
                (error as? OpsError).map { $0 == .dockerMissing ? "Docker is not installed" : $0.description }
                ?? ((error as? ProcessError).map { "\($0)" } ?? "\(error)")
            return ServiceHealth(name: s.name, url: nil, state: .unknown, status: nil, detail: "cannot ask Docker: \(reason)")
        case let .success(view)?:
            switch view[s.name] {
            case "healthy"?: return ServiceHealth(name: s.name, url: nil, state: .healthy, status: nil, detail: "docker: healthy")
            case let state?: return ServiceHealth(name: s.name, url: nil, state: .unhealthy, status: nil, detail: "docker: \(state)")
            case nil: return ServiceHealth(name: s.name, url: nil, state: .unhealthy, status: nil, detail: "docker: no container")
            }
        }
    }

    /// Polls until every service is healthy or `timeout` has passed (then the last report).
    package func wait(timeout: TimeInterval, interval: TimeInterval = 2) -> HealthReport {
        let deadline = Date().addingTimeInterval(timeout)
        var attempt = 1
        while true {
            let report = checkOnce(attempts: attempt)
            if report.healthy || Date().addingTimeInterval(interval) >= deadline { return report }
            Threads.sleep(interval)
            attempt += 1
        }
    }
}

/// Results written from concurrent checks.
private final class ResultBox: Sendable {
    private let storage: Mutex<[ServiceHealth?]>
    init(count: Int) { storage = Mutex(Array(repeating: nil, count: count)) }
    func set(_ i: Int, _ value: ServiceHealth) { storage.withLock { $0[i] = value } }
    var values: [ServiceHealth] { storage.withLock { $0.compactMap { $0 } } }
}
