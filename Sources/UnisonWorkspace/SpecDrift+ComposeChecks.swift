import FoundationEssentials
import UnisonCore
import UnisonSpec

extension SpecDrift {
    /// The spec's image without registry defaults or tag (`docker.io/library/redis:7-alpine` →
    /// `redis`, tag `7-alpine`), and the same for a compose image.
    static func imageParts(_ reference: String) -> (name: String, tag: String?) {
        var ref = ComposeFile.resolve(reference).lowercased()
        if let at = ref.firstIndex(of: "@") { ref = String(ref[..<at]) }
        var tag: String?
        if let colon = ref.lastIndex(of: ":"), !ref[colon...].contains("/") {
            tag = String(ref[ref.index(after: colon)...])
            ref = String(ref[..<colon])
        }
        for prefix in ["docker.io/library/", "docker.io/", "index.docker.io/library/", "library/"] where ref.hasPrefix(prefix) {
            ref = String(ref.dropFirst(prefix.count))
            break
        }
        return (ref, tag?.isEmpty == true ? nil : tag)
    }

    /// Facts one compose service states about a spec service, each with what the spec says.
    struct ComposeComparison {
        var kind: Drift.Kind
        var what: String
        var composeValue: String
        var specValue: String
        var specKey: String
        var line: Int
        /// The file stating it, when not the service's own (a ports overlay).
        var file: String? = nil
    }

    /// Differences between a compose service and the spec's service. `hostPorts`: compare the
    /// published host ports too (the platform's file; devstack's dev ports differ by design).
    func compare(_ c: ComposeFile.Service, _ s: Service, hostPorts: Bool, full: Bool) -> [ComposeComparison] {
        var out: [ComposeComparison] = []
        let key = "service:\(s.name)"
        if let image = c.image {
            let (cName, cTag) = Self.imageParts(image.text)
            let (sName, sTag) = Self.imageParts(s.image)
            if cName != sName {
                out.append(
                    .init(kind: .composeImage, what: "image", composeValue: cName, specValue: sName, specKey: "\(key).image", line: image.line))
            } else if s.kind == .infrastructure, let cTag, cTag != "latest", let sTag, cTag != sTag {
                out.append(
                    .init(
                        kind: .composeImage, what: "image tag", composeValue: "\(cName):\(cTag)", specValue: "\(sName):\(sTag)",
                        specKey: "\(key).image", line: image.line))
            }
        }
        // Container ports: what the compose file publishes or exposes against the spec's.
        let composePorts = Set((c.ports + c.exposed).map(\.container))
        if !composePorts.isEmpty {
            var specPorts = Set([s.port] + s.extraPorts)
            if let hp = s.healthPort, s.hostPort != nil || !c.ports.isEmpty { specPorts.insert(hp) }
            if !composePorts.contains(s.port) {
                let first = (c.ports + c.exposed).first
                out.append(
                    .init(
                        kind: .composePort, what: "container port", composeValue: composePorts.sorted().map(String.init).joined(separator: ", "),
                        specValue: String(s.port), specKey: "\(key).port", line: first?.line ?? c.line, file: first?.file))
            } else if full, let extra = composePorts.subtracting(specPorts).sorted().first {
                let port = (c.ports + c.exposed).first { $0.container == extra }
                out.append(
                    .init(
                        kind: .composePort, what: "published port", composeValue: String(extra),
                        specValue: specPorts.sorted().map(String.init).joined(separator: ", "), specKey: "\(key).port",
                        line: port?.line ?? c.line, file: port?.file))
            }
        }
        // The host port of the service's own port (a container port that differs is reported above).
        if hostPorts, c.ports.isEmpty || c.ports.contains(where: { $0.container == s.port }) {
            let mainHost = c.ports.first { $0.container == s.port }
            let composeHost = mainHost?.host
            if composeHost != s.hostPort, mainHost != nil || s.hostPort != nil {
                out.append(
                    .init(
                        kind: .composeHostPort, what: "host port", composeValue: composeHost.map(String.init) ?? "none (not published)",
                        specValue: s.hostPort.map(String.init) ?? "none (publish: false)", specKey: "\(key).hostPort",
                        line: mainHost?.line ?? c.exposed.first?.line ?? c.line))
            }
        }
        if let health = c.health {
            switch ComposeFile.probe(health.test) {
            case let .http(port, path):
                let specPort = s.healthPort ?? s.port
                if path != s.health || port != specPort {
                    let specText = s.health.map { ":\(specPort)\($0)" } ?? s.healthCommand ?? "no health check"
                    out.append(
                        .init(
                            kind: .composeHealth, what: "health check", composeValue: ":\(port)\(path)", specValue: specText,
                            specKey: "\(key).health", line: health.line))
                }
            case let .command(command):
                let specCommand = s.healthCommand.map { $0.split(separator: " ").joined(separator: " ") }
                if specCommand != command {
                    out.append(
                        .init(
                            kind: .composeHealth, what: "health check", composeValue: command,
                            specValue: specCommand ?? s.health.map { "GET \($0)" } ?? "no health check",
                            specKey: s.healthCommand == nil ? "\(key).health" : "\(key).healthCommand", line: health.line))
                }
            }
        }
        guard full else { return out }
        if let deps = c.dependsOn, Set(deps.names) != Set(s.dependsOn) {
            out.append(
                .init(
                    kind: .composeDependencies, what: "dependencies", composeValue: deps.names.sorted().joined(separator: ", "),
                    specValue: s.dependsOn.sorted().joined(separator: ", "), specKey: "\(key).dependsOn", line: deps.line))
        } else if c.dependsOn == nil, !s.dependsOn.isEmpty {
            out.append(
                .init(
                    kind: .composeDependencies, what: "dependencies", composeValue: "none",
                    specValue: s.dependsOn.sorted().joined(separator: ", "), specKey: "\(key).dependsOn", line: c.line))
        }
        let profiles = c.profiles?.names ?? []
        if Set(profiles) != Set(s.profiles) {
            out.append(
                .init(
                    kind: .composeProfiles, what: "profiles", composeValue: profiles.isEmpty ? "none" : profiles.joined(separator: ", "),
                    specValue: s.profiles.isEmpty ? "none" : s.profiles.joined(separator: ", "), specKey: "\(key).profiles",
                    line: c.profiles?.line ?? c.line))
        }
        let secrets = c.secrets?.names ?? []
        if Set(secrets) != Set(s.secrets) {
            out.append(
                .init(
                    kind: .composeSecrets, what: "file secrets", composeValue: secrets.isEmpty ? "none" : secrets.joined(separator: ", "),
                    specValue: s.secrets.isEmpty ? "none" : s.secrets.joined(separator: ", "), specKey: "\(key).secrets",
                    line: c.secrets?.line ?? c.line))
        }
        return out
    }

    /// unison-platform's compose file is the topology the spec describes: every difference is drift.
    func checkPlatformCompose(_ compose: ComposeFile, repo: String) -> [Drift] {
        var out: [Drift] = []
        for c in compose.services {
            guard let s = spec.service(named: c.name) else {
                out.append(
                    Drift(
                        .composeUnknownService, repo: repo, "\(compose.file) runs service '\(c.name)', which the spec does not declare",
                        spec: DriftLocation(file: sourceMap.file), found: DriftLocation(file: compose.file, line: c.line)))
                continue
            }
            for d in compare(c, s, hostPorts: true, full: true) {
                out.append(
                    Drift(
                        d.kind, repo: repo,
                        "service '\(s.name)': \(d.file ?? compose.file) has \(d.what) \(d.composeValue); the spec has \(d.specValue)",
                        spec: specLocation(d.specKey), found: DriftLocation(file: d.file ?? compose.file, line: d.line)))
            }
        }
        for s in spec.services where compose.service(s.name) == nil {
            out.append(
                Drift(
                    .composeMissingService, repo: repo, "the spec declares service '\(s.name)', which \(compose.file) does not run",
                    spec: specLocation("service:\(s.name)"), found: DriftLocation(file: compose.file)))
        }
        return out
    }

    /// unison-devstack's compose files run many of the same images for development, with dev
    /// host ports and extra services. Container ports, health checks and images are compared:
    /// where devstack differs from the spec and the spec agrees with unison-platform's file,
    /// the repositories disagree with each other; otherwise the spec has drifted.
    func checkDevstackCompose(_ compose: ComposeFile, repo: String, platform: ComposeFile?) -> [Drift] {
        var out: [Drift] = []
        for c in compose.services {
            guard let s = spec.service(named: c.name) else { continue }
            let platformService = platform?.service(c.name)
            let platformDiffs = platformService.map { compare($0, s, hostPorts: false, full: false).map(\.kind) } ?? []
            for d in compare(c, s, hostPorts: false, full: false) {
                let found = DriftLocation(file: d.file ?? compose.file, line: d.line)
                if let platformService, let platform, !platformDiffs.contains(d.kind) {
                    out.append(
                        Drift(
                            .reposDisagree, repo: repo,
                            "service '\(s.name)': \(d.file ?? compose.file) has \(d.what) \(d.composeValue); \(platform.file) and the spec have \(d.specValue)",
                            spec: specLocation(d.specKey), found: found,
                            other: DriftLocation(file: platform.file, line: platformService.line)))
                } else {
                    out.append(
                        Drift(
                            d.kind, repo: repo,
                            "service '\(s.name)': \(d.file ?? compose.file) has \(d.what) \(d.composeValue); the spec has \(d.specValue)",
                            spec: specLocation(d.specKey), found: found))
                }
            }
        }
        return out
    }
}
