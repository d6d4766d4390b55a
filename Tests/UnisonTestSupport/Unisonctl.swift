import Foundation
import UnisonCore

/// The repository checkout the tests run from, and the `unisonctl` built in it.
package enum Unisonctl {
    /// The repository root (this file is Tests/UnisonTestSupport/Unisonctl.swift).
    package static let repoRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `UNISONCTL_BIN`, else the `unisonctl` built beside the test bundle (up to four directories
    /// above the test runner), else `.build/debug/unisonctl` in the checkout.
    package static var binary: URL {
        if let env = ProcessInfo.processInfo.environment["UNISONCTL_BIN"] { return URL(fileURLWithPath: env) }
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("unisonctl")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return repoRoot.appendingPathComponent(".build/debug/unisonctl")
    }

    /// Runs the built `unisonctl` with `NO_COLOR=1` and `environment` over the test's own
    /// environment, in `cwd` (the temporary directory by default, so no spec is found there).
    package static func run(_ arguments: [String], environment: [String: String] = [:], cwd: URL? = nil) throws -> ProcessResult {
        try SystemProcessRunner().run(
            [binary.path] + arguments, environment: ["NO_COLOR": "1"].merging(environment) { $1 }, input: nil,
            workingDirectory: cwd ?? FileManager.default.temporaryDirectory)
    }
}
