import ArgumentParser
import FoundationEssentials
import UnisonCore
import UnisonMetadataAction
import UnisonRelease
import UnisonSpec

/// `--spec FILE`: shared by every command that reads the platform spec.
struct SpecOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Platform spec to use (default: $UNISON_SPEC, then the nearest unison.yaml upward).",
            valueName: "file"))
    var spec: String?

    func load() throws -> PlatformSpec {
        try SpecLocator.load(explicit: spec, ruleCheck: channelRuleCheck).spec
    }

    func loadWithURL() throws -> (url: URL, spec: PlatformSpec) {
        try SpecLocator.load(explicit: spec, ruleCheck: channelRuleCheck)
    }

    /// The spec's file, text and model, read once.
    func loadDocument() throws -> SpecDocument {
        try SpecLocator.loadDocument(explicit: spec, ruleCheck: channelRuleCheck)
    }
}

/// Channel rule lines checked with the release engine's own parser, so a rule the engine
/// would refuse is a located spec error rather than a failure at release time.
let channelRuleCheck: SpecLoader.ChannelRuleCheck = { kind, line in
    do {
        switch kind {
        case .tag: _ = try MetadataRule.parse(line)
        case .flavor: _ = try MetadataFlavor.parse([line])
        }
        return nil
    } catch {
        return "\(error)"
    }
}

/// `--json`: machine-readable output, always with a `schema` field.
struct JSONOption: ParsableArguments {
    @Flag(name: .long, help: "Print machine-readable JSON.")
    var json = false
}
