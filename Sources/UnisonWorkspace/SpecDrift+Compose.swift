import FoundationEssentials
import UnisonCore

/// The parts of a Compose file `spec drift` compares, each with its line.
struct ComposeFile {
    struct Port: Equatable {
        var host: Int?
        var container: Int
        var line: Int
        /// The file that states it (an overlay such as docker-compose.ports.yml).
        var file: String
    }

    struct Service {
        var name: String
        var file: String
        var line: Int
        var image: (text: String, line: Int)?
        var ports: [Port] = []
        /// `expose:` ports: reachable from the stack only.
        var exposed: [Port] = []
        var health: (test: String, line: Int)?
        var dependsOn: (names: [String], line: Int)?
        var profiles: (names: [String], line: Int)?
        var secrets: (names: [String], line: Int)?
    }

    var file: String
    var services: [Service]

    func service(_ name: String) -> Service? { services.first { $0.name == name } }

    static func load(_ url: URL, display: (URL) -> String) -> ComposeFile? {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return nil }
        return parse(text, file: display(url))
    }

    static func parse(_ text: String, file: String) -> ComposeFile {
        let root = BlockYAML(text).root
        var services: [Service] = []
        for entry in root["services"]?.entries ?? [] {
            let node = entry.value
            var s = Service(name: entry.key, file: file, line: entry.line)
            if let image = node["image"]?.scalar { s.image = (BlockYAML.unquote(image.text), image.line) }
            for item in list(node["ports"]) {
                if let port = parsePort(item.text) {
                    s.ports.append(Port(host: port.host, container: port.container, line: item.line, file: file))
                }
            }
            for item in list(node["expose"]) {
                if let n = Int(resolve(item.text)) { s.exposed.append(Port(host: nil, container: n, line: item.line, file: file)) }
            }
            if let test = node["healthcheck"]?["test"] {
                let words = list(test).map(\.text)
                s.health = (words.joined(separator: " "), test.line ?? entry.line)
            }
            if let deps = node["depends_on"] {
                let names = deps.entries.isEmpty ? list(deps).map(\.text) : deps.entries.map(\.key)
                s.dependsOn = (names, deps.line ?? entry.line)
            }
            if let profiles = node["profiles"] { s.profiles = (list(profiles).map(\.text), profiles.line ?? entry.line) }
            if let secrets = node["secrets"] { s.secrets = (list(secrets).map(\.text), secrets.line ?? entry.line) }
            services.append(s)
        }
        return ComposeFile(file: file, services: services)
    }

    /// Later files override earlier ones the way Compose merges them: scalars replaced, ports
    /// and expose added.
    static func merged(_ files: [ComposeFile]) -> ComposeFile? {
        guard var out = files.first else { return nil }
        for file in files.dropFirst() {
            for s in file.services {
                guard let i = out.services.firstIndex(where: { $0.name == s.name }) else {
                    out.services.append(s)
                    continue
                }
                var m = out.services[i]
                if let image = s.image { m.image = image }
                for p in s.ports where !m.ports.contains(where: { $0.container == p.container && $0.host == p.host }) {
                    m.ports.append(p)
                }
                m.exposed += s.exposed
                if let h = s.health { m.health = h }
                if let d = s.dependsOn { m.dependsOn = d }
                if let p = s.profiles { m.profiles = p }
                if let x = s.secrets { m.secrets = x }
                out.services[i] = m
            }
        }
        return out
    }

    /// The items of a block or flow sequence (`[a, "b"]`), or a single scalar, unquoted.
    static func list(_ node: BlockYAML.Node?) -> [(text: String, line: Int)] {
        guard let node else { return [] }
        switch node {
        case let .seq(items):
            return items.compactMap { $0.scalar.map { (BlockYAML.unquote($0.text), $0.line) } }
        case let .scalar(text, line):
            let t = text.trimming(.whitespaces)
            if t.hasPrefix("["), t.hasSuffix("]") {
                return flowItems(String(t.dropFirst().dropLast())).map { ($0, line) }
            }
            return [(BlockYAML.unquote(t), line)]
        default:
            return []
        }
    }

    /// Splits a flow sequence's inside on commas outside quotes.
    static func flowItems(_ text: String) -> [String] {
        var items: [String] = []
        var current = ""
        var quote: Character?
        for c in text {
            if let q = quote {
                if c == q { quote = nil } else { current.append(c) }
            } else if c == "\"" || c == "'" {
                quote = c
            } else if c == "," {
                items.append(current.trimming(.whitespaces))
                current = ""
            } else {
                current.append(c)
            }
        }
        let last = current.trimming(.whitespaces)
        if !last.isEmpty { items.append(last) }
        return items
    }

    /// `${VAR:-default}` and `${VAR-default}` replaced by their defaults (what Compose uses when
    /// the variable is unset); `${VAR}` by nothing.
    static func resolve(_ text: String) -> String {
        var out = ""
        var rest = Substring(text)
        while let start = rest.firstRange(of: "${") {
            out += rest[..<start.lowerBound]
            let after = rest[start.upperBound...]
            guard let end = after.firstIndex(of: "}") else { out += rest[start.lowerBound...]; return out }
            let inner = after[..<end]
            if let dash = inner.firstIndex(of: "-") {
                out += inner[inner.index(after: dash)...]
            }
            rest = after[after.index(after: end)...]
        }
        return out + rest
    }

    /// `HOST:CONTAINER`, `IP:HOST:CONTAINER` or `CONTAINER`, with `/tcp` and variables resolved.
    static func parsePort(_ text: String) -> (host: Int?, container: Int)? {
        var t = resolve(text.trimming(.whitespaces))
        if let slash = t.firstIndex(of: "/") { t = String(t[..<slash]) }
        let parts = t.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard let container = parts.last.flatMap({ Int($0) }) else { return nil }
        let host = parts.count >= 2 ? Int(parts[parts.count - 2]) : nil
        return (host, container)
    }

    /// What a health check test probes: the URL's port and path, or the command.
    enum Probe: Equatable {
        case http(port: Int, path: String)
        case command(String)
    }

    /// A local HTTP URL: its port and path. A constant of this file: a typo is a programming
    /// error caught by tests.
    static let localURL = try! Pattern(#"https?://(?:localhost|127\.0\.0\.1|0\.0\.0\.0)(?::(\d+))?(/[^\s"',\]]*)?"#)

    static func probe(_ test: String) -> Probe {
        if let m = try? localURL.firstMatch(in: test) {
            let port = m[1].flatMap { Int($0) } ?? 80
            let path = m[2].map(String.init) ?? "/"
            return .http(port: port, path: path)
        }
        var words = test.split(separator: " ").map(String.init)
        if let first = words.first, ["CMD", "CMD-SHELL", "NONE"].contains(first) { words.removeFirst() }
        return .command(words.joined(separator: " "))
    }
}
