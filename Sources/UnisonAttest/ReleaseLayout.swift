import Foundation

/// The files of a release directory, by role. Names decide the role:
///
///   SHA256SUMS-<v>.txt                   checksum list (signed)
///   <file>.sig                           SSH signature of <file>
///   <artifact>.spdx.json                 SBOM of <artifact> (signed)
///   <prefix>-provenance-<v>.intoto.json  provenance of the release (signed)
///   <prefix>-allowed-signers-<v>.txt     the public keys that sign the release
///   anything else                        an artifact (images, the manifest, ISO .sha256 files)
public struct ReleaseLayout: Sendable, Equatable {
    public var directory: URL
    public var checksums: [String] = []
    public var signatures: [String] = []
    public var sboms: [String] = []
    public var provenance: [String] = []
    public var allowedSigners: [String] = []
    public var artifacts: [String] = []

    public static let signatureSuffix = ".sig"
    public static let allowedSignersMarker = "-allowed-signers-"

    public static func allowedSignersName(prefix: String = "unisonos", version: String) -> String {
        "\(prefix)\(allowedSignersMarker)\(version).txt"
    }

    /// Image artifacts, which must each have an SBOM.
    public static let imageSuffixes = [".tar.gz", ".wsl", ".qcow2", ".vmdk", ".raw", ".iso"]

    public init(directory: URL) throws {
        self.directory = directory
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: directory.path) } catch {
            throw AttestError.unreadable(path: directory.path, reason: "not a readable directory")
        }
        for name in names.sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }) where !name.hasPrefix(".") {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: directory.appendingPathComponent(name).path, isDirectory: &isDir), !isDir.boolValue
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

    public func url(_ name: String) -> URL { directory.appendingPathComponent(name) }

    public static func isImage(_ name: String) -> Bool { imageSuffixes.contains { name.hasSuffix($0) } }
}
