import FoundationEssentials
import UnisonCore
import UnisonSpec

/// Host ports the devstack's Compose files publish. The files of the devstack repository are
/// overlays of one project (`docker compose -f docker-compose.yml -f docker-compose.ports.yml`),
/// so services are merged by name across files, as Compose merges them, and two different
/// services binding the same host address and port collide whenever both run: always when
/// neither has a profile, with `--profile` otherwise.
struct PublishedPort: Equatable {
    var hostIP: String
    var hostPort: Int
    var containerPort: String
    var proto: String
    var file: String
    var line: Int

    /// `0.0.0.0` and an empty address bind every interface and collide with any address.
    var bindsAll: Bool { hostIP.isEmpty || hostIP == "0.0.0.0" || hostIP == "::" || hostIP == "[::]" }

    func collides(with other: PublishedPort) -> Bool {
        hostPort == other.hostPort && proto == other.proto && (bindsAll || other.bindsAll || hostIP == other.hostIP)
    }
}

enum ComposePorts {
    struct ServicePorts {
        var service: String
        var profiles: Set<String> = []
        var ports: [PublishedPort] = []
    }

    /// Compose's default file (`compose.yaml`, `docker-compose.yml`, …) comes before the
    /// overlays given after it with `-f`; then by name and line.
    static func precedes(_ a: PublishedPort, _ b: PublishedPort) -> Bool {
        func rank(_ file: String) -> Int {
            ["compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml"].contains(file.lowercased()) ? 0 : 1
        }
        return (rank(a.file), a.file, a.line) < (rank(b.file), b.file, b.line)
    }

    /// The items of a sequence, or of a flow sequence kept as text (`["a", "b"]`).
    static func listItems(_ node: BlockYAML.Node?) -> [(text: String, line: Int, node: BlockYAML.Node)] {
        guard let node else { return [] }
        if case let .scalar(text, line) = node {
            let t = text.trimmingSpaces
            guard t.hasPrefix("["), t.hasSuffix("]") else { return [(BlockYAML.unquote(t), line, node)] }
            return t.dropFirst().dropLast().split(separator: ",").map { (BlockYAML.unquote(String($0).trimmingSpaces), line, node) }
                .filter { !$0.0.isEmpty }
        }
        return node.items.compactMap { item in
            if let s = item.scalar { return (BlockYAML.unquote(s.text), s.line, item) }
            if case .map = item { return ("", item.line ?? 0, item) }
            return nil
        }
    }

    /// The published ports of one Compose file, per service. Short syntax
    /// `[HOST_IP:]HOST_PORT[-END]:CONTAINER[/PROTO]` (a lone container port publishes a random
    /// host port and is skipped) and long syntax (`published:`, `target:`, `host_ip:`,
    /// `protocol:`); `${VAR:-default}` resolved from `environment`.
    static func read(_ text: String, file: String, environment: [String: String]) -> [ServicePorts] {
        let yaml = BlockYAML(text)
        var out: [ServicePorts] = []
        for entry in yaml.root["services"]?.entries ?? [] {
            var service = ServicePorts(service: entry.key)
            service.profiles = Set(listItems(entry.value["profiles"]).map(\.text).filter { !$0.isEmpty })
            for item in listItems(entry.value["ports"]) {
                if case .map = item.node {
                    let published = item.node["published"]?.scalar.map { Interpolation.shell(BlockYAML.unquote($0.text)) { environment[$0] } }
                    guard let published, let port = Int(published) else { continue }
                    let target = item.node["target"]?.scalar.map { BlockYAML.unquote($0.text) } ?? "?"
                    let ip = item.node["host_ip"]?.scalar.map { BlockYAML.unquote($0.text) } ?? ""
                    let proto = item.node["protocol"]?.scalar.map { BlockYAML.unquote($0.text).lowercased() } ?? "tcp"
                    service.ports.append(
                        PublishedPort(
                            hostIP: ip, hostPort: port, containerPort: target, proto: proto,
                            file: file, line: item.node["published"]?.line ?? item.line))
                    continue
                }
                service.ports += shortSyntax(Interpolation.shell(item.text) { environment[$0] }, file: file, line: item.line)
            }
            out.append(service)
        }
        return out
    }

    static func shortSyntax(_ spec: String, file: String, line: Int) -> [PublishedPort] {
        var body = spec
        var proto = "tcp"
        if let slash = body.lastIndex(of: "/") {
            proto = String(body[body.index(after: slash)...]).lowercased()
            body = String(body[..<slash])
        }
        // An IPv6 host address is bracketed: `[::1]:8080:80`.
        var ip = ""
        if body.hasPrefix("["), let close = body.firstIndex(of: "]") {
            ip = String(body[...close])
            body = String(body[body.index(after: close)...])
            if body.hasPrefix(":") { body.removeFirst() }
        }
        var parts = body.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 2 else { return [] }  // a container port alone: random host port
        if parts.count == 3 { ip = parts.removeFirst() }
        let host = parts[0], container = parts[1]
        guard !host.isEmpty else { return [] }
        let range = host.split(separator: "-").compactMap { Int($0) }
        guard let first = range.first, range.count == host.split(separator: "-").count else { return [] }
        let last = range.count == 2 ? range[1] : first
        guard last >= first, last - first < 1024 else { return [] }
        return (first...last).map { PublishedPort(hostIP: ip, hostPort: $0, containerPort: container, proto: proto, file: file, line: line) }
    }
}

extension WorkspaceCheck.Context {
    mutating func checkHostPorts(_ located: WorkspaceCheck.Located) {
        guard located.repo.role == .devstack else { return }
        var merged: [String: ComposePorts.ServicePorts] = [:]
        var order: [String] = []
        for file in ImageScan.files(in: located.directory).compose {
            let url = located.directory.appendingPathComponent(file)
            guard let text = try? String(contentsOf: url, encoding: .utf8) else { continue }
            let envURL = url.deletingLastPathComponent().appendingPathComponent(".env")
            let environment = (try? String(contentsOf: envURL, encoding: .utf8)).map(ImageScan.dotEnv) ?? [:]
            for service in ComposePorts.read(text, file: file, environment: environment) {
                if merged[service.service] == nil { order.append(service.service); merged[service.service] = .init(service: service.service) }
                merged[service.service]!.profiles.formUnion(service.profiles)
                merged[service.service]!.ports += service.ports
            }
        }
        var reported: Set<String> = []
        for (i, a) in order.enumerated() {
            for b in order[(i + 1)...] {
                guard let sa = merged[a], let sb = merged[b] else { continue }
                for pa in sa.ports {
                    for pb in sb.ports where pa.collides(with: pb) {
                        let key = "\(a)|\(b)|\(pa.hostPort)/\(pa.proto)"
                        guard !reported.contains(key) else { continue }
                        reported.insert(key)
                        // The later declaration (base file first, then overlays) is where the fix goes.
                        let (first, second) = ComposePorts.precedes(pa, pb) ? ((a, pa, sa), (b, pb, sb)) : ((b, pb, sb), (a, pa, sa))
                        let always = sa.profiles.isEmpty && sb.profiles.isEmpty
                        func when(_ s: ComposePorts.ServicePorts) -> String {
                            s.profiles.isEmpty ? "always" : "with profile \(s.profiles.sorted().joined(separator: "/"))"
                        }
                        let condition = always ? "both run by default" : "\(first.0) runs \(when(first.2)), \(second.0) \(when(second.2))"
                        findings.append(
                            Finding(
                                .portsHostCollision, always ? .error : .warning, repo: located.repo.name,
                                file: located.display(second.1.file), line: second.1.line,
                                "host port \(pa.hostPort)/\(pa.proto) is published by both \(second.0) (here, → \(second.1.containerPort)) and \(first.0) (\(located.display(first.1.file)):\(first.1.line), → \(first.1.containerPort)); \(condition)",
                                hint: "give \(second.0) a free host port in \(located.display(second.1.file))"))
                    }
                }
            }
        }
    }
}
