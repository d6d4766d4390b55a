// SPDX 2.3 documents in their JSON serialization (spdx.github.io/spdx-spec/v2.3, and the JSON
// schema spdx-schema.json of spdx/spdx-spec). Only the fields an image SBOM needs; every
// optional field is left out when absent. Encoded with sorted keys: same inputs, same bytes.
import Foundation
import UnisonCore

public struct SPDXDocument: Sendable, Codable, Equatable {
    public static let describes = "DESCRIBES"
    public static let contains = "CONTAINS"

    public var spdxVersion = "SPDX-2.3"
    public var dataLicense = "CC0-1.0"
    public var SPDXID = "SPDXRef-DOCUMENT"
    public var name: String
    public var documentNamespace: String
    public var creationInfo: CreationInfo
    public var packages: [Package]
    public var relationships: [Relationship]
    public var hasExtractedLicensingInfos: [ExtractedLicense]?

    public struct CreationInfo: Sendable, Codable, Equatable {
        public var created: String
        public var creators: [String]
        public var comment: String?
    }

    public struct Checksum: Sendable, Codable, Equatable {
        public var algorithm: String
        public var checksumValue: String
        public static func sha256(_ hex: String) -> Checksum { Checksum(algorithm: "SHA256", checksumValue: hex) }
    }

    public struct ExternalRef: Sendable, Codable, Equatable {
        public var referenceCategory: String
        public var referenceType: String
        public var referenceLocator: String
        public static func purl(_ locator: String) -> ExternalRef {
            ExternalRef(referenceCategory: "PACKAGE-MANAGER", referenceType: "purl", referenceLocator: locator)
        }
    }

    public struct Package: Sendable, Codable, Equatable {
        public var SPDXID: String
        public var name: String
        public var versionInfo: String?
        public var packageFileName: String?
        public var supplier: String?
        public var downloadLocation = "NOASSERTION"
        public var filesAnalyzed = false
        public var checksums: [Checksum]?
        public var sourceInfo: String?
        public var licenseConcluded = "NOASSERTION"
        public var licenseDeclared = "NOASSERTION"
        public var copyrightText = "NOASSERTION"
        public var externalRefs: [ExternalRef]?
        public var primaryPackagePurpose: String?
        public var comment: String?

        public init(
            SPDXID: String, name: String, versionInfo: String? = nil, packageFileName: String? = nil,
            supplier: String? = nil, checksums: [Checksum]? = nil, sourceInfo: String? = nil,
            licenseDeclared: String = "NOASSERTION", externalRefs: [ExternalRef]? = nil,
            primaryPackagePurpose: String? = nil, comment: String? = nil
        ) {
            self.SPDXID = SPDXID
            self.name = name
            self.versionInfo = versionInfo
            self.packageFileName = packageFileName
            self.supplier = supplier
            self.checksums = checksums
            self.sourceInfo = sourceInfo
            self.licenseDeclared = licenseDeclared
            self.externalRefs = externalRefs
            self.primaryPackagePurpose = primaryPackagePurpose
            self.comment = comment
        }

        public var sha256: String? { checksums?.first { $0.algorithm == "SHA256" }?.checksumValue }
    }

    public struct Relationship: Sendable, Codable, Equatable {
        public var spdxElementId: String
        public var relationshipType: String
        public var relatedSpdxElement: String
    }

    public struct ExtractedLicense: Sendable, Codable, Equatable {
        public var licenseId: String
        public var extractedText: String
        public var name: String?
    }

    /// The package the document describes (the artifact), nil when there is none.
    public var described: Package? {
        guard let id = relationships.first(where: { $0.spdxElementId == SPDXID && $0.relationshipType == Self.describes })?.relatedSpdxElement
        else { return nil }
        return packages.first { $0.SPDXID == id }
    }

    /// The JSON bytes (sorted keys, trailing newline).
    public func encoded() throws -> Data {
        var data = try JSONOutput.encoder().encode(self)
        data.append(0x0A)
        return data
    }

    public static func decode(_ data: Data, path: String) throws -> SPDXDocument {
        do { return try JSONDecoder().decode(SPDXDocument.self, from: data) } catch {
            throw AttestError.unreadable(path: path, reason: "not an SPDX 2.3 JSON document this tool reads (\(error))")
        }
    }

    /// `SPDXRef-` + `text` with every character SPDX does not allow in an identifier replaced.
    /// Debian names are lower case, so `+` becomes `P` without colliding with another name.
    static func identifier(_ parts: String...) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-")
        let body = parts.joined(separator: "-").map { c -> Character in
            if allowed.contains(c) { return c }
            return c == "+" ? "P" : "-"
        }
        return "SPDXRef-" + String(body)
    }
}

/// The file name of an artifact's SBOM: beside it, `<artifact>.spdx.json`.
public enum SBOMFile {
    public static let suffix = ".spdx.json"
    public static func name(for artifact: String) -> String { artifact + suffix }
    public static func url(for artifact: URL) -> URL {
        artifact.deletingLastPathComponent().appendingPathComponent(name(for: artifact.lastPathComponent))
    }
}
