import FoundationEssentials
import UnisonCore

/// Where a build writes an artifact: always a direct child of the output directory. Artifact
/// names are made from spec values (`platform.name`) and flags (`--version`); a name that is
/// not one plain path component is refused instead of being written somewhere else.
package enum ArtifactPath {
    package struct OutsideOutput: Error, CustomStringConvertible, Sendable, Equatable, ExitCoded {
        package var name: String
        package var directory: String
        package var exitStatus: ExitStatus { .badInput }
        package var description: String {
            "artifact name '\(name)' would not be a file directly in \(directory) "
                + "(check platform.name and --version: no '/', '..', or control characters)"
        }
    }

    /// `directory/name`, or `OutsideOutput` when `name` is not a single, plain component.
    package static func destination(in directory: URL, name: String) throws -> URL {
        let plain =
            !name.isEmpty && name != "." && name != ".." && !name.hasPrefix(".") && !name.contains("/")
            && !name.contains("..") && name.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value != 0x7f }
        let url = directory.appendingPathComponent(name, isDirectory: false)
        guard plain, url.deletingLastPathComponent().standardizedFileURL.path == directory.standardizedFileURL.path else {
            throw OutsideOutput(name: name, directory: directory.path)
        }
        return url
    }
}
