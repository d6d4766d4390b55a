import ArgumentParser
import Foundation
import UnisonCore
import UnisonSpec

/// `--spec FILE`: shared by every command that reads the platform spec.
struct SpecOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Platform spec to use (default: $UNISON_SPEC, then the nearest unison.yaml upward).",
                                            valueName: "file"))
    var spec: String?

    func load() throws -> PlatformSpec {
        try SpecLocator.load(explicit: spec).spec
    }

    func loadWithURL() throws -> (url: URL, spec: PlatformSpec) {
        try SpecLocator.load(explicit: spec)
    }
}

/// `--json`: machine-readable output, always with a `schema` field.
struct JSONOption: ParsableArguments {
    @Flag(name: .long, help: "Print machine-readable JSON.")
    var json = false
}
