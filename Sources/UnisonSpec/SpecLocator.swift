import FoundationEssentials

/// Finds the spec: `--spec`, then `UNISON_SPEC`, then the nearest `unison.yaml` from the
/// working directory upward.
package enum SpecLocator {
    package static let fileName = "unison.yaml"

    package static func locate(
        explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment,
        from directory: URL = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    ) throws -> URL {
        if let explicit, !explicit.isEmpty { return URL(fileURLWithPath: explicit) }
        if let env = environment["UNISON_SPEC"], !env.isEmpty { return URL(fileURLWithPath: env) }
        var dir = directory.standardizedFileURL
        while true {
            let candidate = dir.appendingPathComponent(fileName)
            if FileManager.default.fileExists(atPath: candidate.path) { return candidate }
            let parent = dir.deletingLastPathComponent()
            if parent.path == dir.path { break }
            dir = parent
        }
        throw SpecLocationError.notFound(searchedFrom: directory.path)
    }

    /// Locates and loads in one step.
    package static func load(explicit: String?, ruleCheck: SpecLoader.ChannelRuleCheck? = nil) throws -> (url: URL, spec: PlatformSpec) {
        let document = try loadDocument(explicit: explicit, ruleCheck: ruleCheck)
        return (document.url, document.spec)
    }

    /// Locates and loads in one step, keeping the text read.
    package static func loadDocument(explicit: String?, ruleCheck: SpecLoader.ChannelRuleCheck? = nil) throws -> SpecDocument {
        try SpecLoader.loadDocument(file: try locate(explicit: explicit), ruleCheck: ruleCheck)
    }
}
