import Foundation
import PackagePlugin

/// Stamps the version into the UnisonBuildInfo module before every build: scripts/version.sh
/// (git describe of the package's checkout, or $UNISONCTL_VERSION) writes BuildVersion.swift,
/// rewriting it only when the version changed so that an unchanged version rebuilds nothing.
@main
struct VersionStamp: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) async throws -> [Command] {
        let output = context.pluginWorkDirectoryURL.appendingPathComponent("Generated")
        let script = context.package.directoryURL.appendingPathComponent("scripts/version.sh")
        var environment: [String: String] = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
        if let forced = ProcessInfo.processInfo.environment["UNISONCTL_VERSION"] { environment["UNISONCTL_VERSION"] = forced }
        return [
            .prebuildCommand(
                displayName: "Stamping the unisonctl version",
                executable: URL(fileURLWithPath: "/bin/sh"),
                arguments: [script.path, "--swift", output.appendingPathComponent("BuildVersion.swift").path],
                environment: environment,
                outputFilesDirectory: output)
        ]
    }
}
