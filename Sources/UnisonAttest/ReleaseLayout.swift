import FoundationEssentials
import UnisonCore

/// The files of a release directory, by role. Names decide the role:
///
///   SHA256SUMS-<v>.txt                   checksum list (signed)
///   <file>.sig                           SSH signature of <file>
///   <artifact>.spdx.json                 SBOM of <artifact> (signed)
///   <prefix>-provenance-<v>.intoto.json  provenance of the release (signed)
///   <prefix>-allowed-signers-<v>.txt     the public keys that sign the release
///   anything else                        an artifact (images, the manifest, ISO .sha256 files)
package struct ReleaseLayout: Sendable, Equatable {
    package var directory: URL
    package var checksums: [String] = []
    package var signatures: [String] = []
    package var sboms: [String] = []
    package var provenance: [String] = []
    package var allowedSigners: [String] = []
    package var artifacts: [String] = []

    package static let signatureSuffix = ".sig"
    package static let allowedSignersMarker = "-allowed-signers-"

    package static func allowedSignersName(prefix: String = "unisonos", version: String) -> String {
        "\(prefix)\(allowedSignersMarker)\(version).txt"
    }

    /// Image artifacts, which must each have an SBOM.
    package static let imageSuffixes = [".tar.gz", ".wsl", ".qcow2", ".vmdk", ".raw", ".iso"]

    package init(directory: URL) throws {
        self.directory = directory
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: directory.path) } catch {
            throw AttestError.unreadable(path: directory.path, reason: "not a readable directory")
        }
        for name in names.sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }) where !name.hasPrefix(".") {
            var isDir = false
            guard FileManager.default.fileExists(atPath: directory.appendingPathComponent(name).path, isDirectory: &isDir), !isDir
            else { continue }
            if name.hasSuffix(Self.signatureSuffix) {
                signatures.append(name)
            } else if name.hasPrefix("SHA256SUMS") {
                checksums.append(name)
            } else if name.hasSuffix(SBOMFile.suffix) {
                sboms.append(name)
            } else if name.hasSuffix(ProvenanceFile.suffix) {
                provenance.append(name)
            } else if name.contains(Self.allowedSignersMarker) {
                allowedSigners.append(name)
            } else {
                artifacts.append(name)
            }
        }
    }

    package func url(_ name: String) -> URL { directory.appendingPathComponent(name) }

    package static func isImage(_ name: String) -> Bool { imageSuffixes.contains { name.hasSuffix($0) } }
}
