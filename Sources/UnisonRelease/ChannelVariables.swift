import FoundationEssentials
import UnisonCore

/// Values unisonctl fills into a channel's rule lines before docker/metadata-action's own
/// expressions are evaluated: what the action cannot know (the version a release branch's run
/// carries, the run attempt). Single braces, dotted names, so they never collide with the
/// action's `{{…}}` expressions.
///
/// | placeholder | value |
/// |---|---|
/// | `{channel.version}` | the resolved version (`v0.5.0-beta.41`, `v0.5.0-alpha.1`) |
/// | `{run.number}`, `{run.attempt}` | `GITHUB_RUN_NUMBER`, `GITHUB_RUN_ATTEMPT` |
/// | `{ref.is_branch}`, `{ref.is_tag}` | `true` / `false` |
package enum ChannelVariables {
    package static let names = ["channel.version", "run.number", "run.attempt", "ref.is_branch", "ref.is_tag"]

    /// `line` with every placeholder replaced by its value in `values` (missing: empty).
    package static func substitute(_ line: String, _ values: [String: String]) -> String {
        var out = line
        for name in names { out = out.replacing("{\(name)}", with: values[name] ?? "") }
        return out
    }

    /// The values for a resolved channel.
    package static func values(resolution: ChannelResolution, run: RunContext) -> [String: String] {
        [
            "channel.version": resolution.version ?? "",
            "run.number": run.runNumber.map(String.init) ?? "",
            "run.attempt": String(run.runAttempt),
            "ref.is_branch": resolution.ref.hasPrefix("refs/heads/") ? "true" : "false",
            "ref.is_tag": resolution.ref.hasPrefix("refs/tags/") ? "true" : "false",
        ]
    }

    /// A rule line with sample values, for checking that it parses and evaluates.
    package static func sample(_ line: String) -> String {
        substitute(
            line,
            [
                "channel.version": "v1.2.3", "run.number": "1", "run.attempt": "1",
                "ref.is_branch": "false", "ref.is_tag": "true",
            ])
    }
}
