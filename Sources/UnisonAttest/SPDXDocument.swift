// SPDX 2.3 documents in their JSON serialization (spdx.github.io/spdx-spec/v2.3, and the JSON
// schema spdx-schema.json of spdx/spdx-spec). Only the fields an image SBOM needs; every
// optional field is left out when absent. Encoded with sorted keys: same inputs, same bytes.
import FoundationEssentials
import UnisonCore

package struct SPDXDocument: Sendable, Codable, Equatable {
    package static let describes = "DESCRIBES"
    package static let contains = "CONTAINS"

    package var spdxVersion = "SPDX-2.3"
    package var dataLicense = "CC0-1.0"
    package var SPDXID = "SPDXRef-DOCUMENT"
    package var name: String
    package var documentNamespace: String
    package var creationInfo: CreationInfo
    package var packages: [Package]
    package var relationships: [Relationship]
    package var hasExtractedLicensingInfos: [ExtractedLicense]?

    package struct CreationInfo: Sendable, Codable, Equatable {
        package var created: String
        package var creators: [String]
        package var comment: String?
    }

    package struct Checksum: Sendable, Codable, Equatable {
        package var algorithm: String
        package var checksumValue: String
        package static func sha256(_ hex: String) -> Checksum { Checksum(algorithm: "SHA256", checksumValue: hex) }
    }

    package struct ExternalRef: Sendable, Codable, Equatable {
        package var referenceCategory: String
        package var referenceType: String
        package var referenceLocator: String
        package static func purl(_ locator: String) -> ExternalRef {
            ExternalRef(referenceCategory: "PACKAGE-MANAGER", referenceType: "purl", referenceLocator: locator)
        }
    }

    package struct Package: Sendable, Codable, Equatable {
        package var SPDXID: String
        package var name: String
        package var versionInfo: String?
        package var packageFileName: String?
        package var supplier: String?
        package var downloadLocation = "NOASSERTION"
        package var filesAnalyzed = false
        package var checksums: [Checksum]?
        package var sourceInfo: String?
        package var licenseConcluded = "NOASSERTION"
        package var licenseDeclared = "NOASSERTION"
        package var copyrightText = "NOASSERTION"
        package var externalRefs: [ExternalRef]?
        package var primaryPackagePurpose: String?
        package var comment: String?

        package init(
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

        package var sha256: String? { checksums?.first { $0.algorithm == "SHA256" }?.checksumValue }
    }

    package struct Relationship: Sendable, Codable, Equatable {
        package var spdxElementId: String
        package var relationshipType: String
        package var relatedSpdxElement: String
    }

    package struct ExtractedLicense: Sendable, Codable, Equatable {
        package var licenseId: String
        package var extractedText: String
        package var name: String?
    }

    /// The package the document describes (the artifact), nil when there is none.
    package var described: Package? {
        guard let id = relationships.first(where: { $0.spdxElementId == SPDXID && $0.relationshipType == Self.describes })?.relatedSpdxElement
        else { return nil }
        return packages.first { $0.SPDXID == id }
    }

    /// The JSON bytes (sorted keys, trailing newline).
    package func encoded() throws -> Data {
        var data = try JSONOutput.encoder().encode(self)
        data.append(0x0A)
        return data
    }

    package static func decode(_ data: Data, path: String) throws -> SPDXDocument {
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
package enum SBOMFile {
    package static let suffix = ".spdx.json"
    package static func name(for artifact: String) -> String { artifact + suffix }
    package static func url(for artifact: URL) -> URL {
        artifact.deletingLastPathComponent().appendingPathComponent(name(for: artifact.lastPathComponent))
    }
}
