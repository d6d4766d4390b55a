import FoundationEssentials
import UnisonCore
import UnisonYAML

/// Where things were declared in the spec file, for tools that point people at a line of
/// unison.yaml (`spec drift`). Keys name a declaration and optionally a field:
/// `service:auth`, `service:auth.port`, `repo:unison-auth.defaultBranch`.
package struct SpecSourceMap: Sendable, Equatable {
    package struct Position: Sendable, Equatable, Codable {
        package var line: Int
        package var column: Int
    }

    /// The spec file as diagnostics name it.
    package var file: String
    var positions: [String: Position]

    package init(file: String, positions: [String: Position] = [:]) {
        self.file = file
        self.positions = positions
    }

    /// The field's position, else its declaration's (`service:auth.port` falls back to `service:auth`).
    package func position(_ key: String) -> Position? {
        if let p = positions[key] { return p }
        if let dot = key.lastIndex(of: "."), key[..<dot].contains(":") { return position(String(key[..<dot])) }
        return nil
    }

    /// `file:line:column` of a key, or the file alone when it is unknown.
    package func location(_ key: String) -> String {
        position(key).map { "\(file):\($0.line):\($0.column)" } ?? file
    }
}

extension SpecLoader {
    /// The spec and where each service, repo and their fields were declared.
    package static func loadWithSourceMap(file url: URL) throws -> (PlatformSpec, SpecSourceMap) {
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw SpecLocationError.unreadable(path: url.path, reason: ErrorText.reason(error))
        }
        let name = displayPath(url)
        let spec = try load(text: text, file: name)
        // The text parsed and validated; composing it again only collects the positions.
        let sink = DiagnosticSink(file: name)
        guard let root = try? UnisonYAML.compose(yaml: text), let located = SectionReader(sink: sink).read(root) else {
            return (spec, SpecSourceMap(file: name))
        }
        var positions: [String: SpecSourceMap.Position] = [:]
        for (key, node) in located.locations where !key.contains("#dup") {
            positions[key] = .init(line: node.mark.line, column: node.mark.column)
        }
        return (spec, SpecSourceMap(file: name, positions: positions))
    }
}
