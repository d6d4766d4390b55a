import FoundationEssentials
import UnisonCore
import UnisonCrypto

/// Builds the SPDX 2.3 SBOM of one artifact from its root's inventory: the artifact is the
/// described package, and it CONTAINS every Debian package, model, image and tool of the root.
package enum SBOM {
    /// What the SBOM says about the artifact and where it came from.
    package struct Subject: Sendable, Equatable {
        package var name: String
        package var sha256: String
        package var version: String
        /// The base the root was built from: its name and, for a file, its sha256.
        package var base: (name: String, sha256: String?)?
        package var epoch: Int64

        package init(name: String, sha256: String, version: String, base: (name: String, sha256: String?)?, epoch: Int64) {
            self.name = name
            self.sha256 = sha256
            self.version = version
            self.base = base
            self.epoch = epoch
        }

        package static func == (a: Subject, b: Subject) -> Bool {
            a.name == b.name && a.sha256 == b.sha256 && a.version == b.version && a.epoch == b.epoch
                && a.base?.name == b.base?.name && a.base?.sha256 == b.base?.sha256
        }
    }

    package static let artifactID = "SPDXRef-Artifact"

    package static func document(_ inventory: RootInventory, subject: Subject) -> SPDXDocument {
        var packages: [SPDXDocument.Package] = []
        var relationships: [SPDXDocument.Relationship] = [
            .init(spdxElementId: "SPDXRef-DOCUMENT", relationshipType: SPDXDocument.describes, relatedSpdxElement: artifactID)
        ]
        var used = Set<String>([artifactID])
        func unique(_ id: String) -> String {
            var candidate = id, n = 2
            while used.contains(candidate) { candidate = "\(id)-\(n)"; n += 1 }
            used.insert(candidate)
            return candidate
        }
        packages.append(
            .init(
                SPDXID: artifactID, name: subject.name, versionInfo: subject.version, packageFileName: subject.name,
                checksums: [.sha256(subject.sha256)], primaryPackagePurpose: "OPERATING-SYSTEM"))
        if let base = subject.base {
            let id = unique(SPDXDocument.identifier("Base", base.name))
            packages.append(
                .init(
                    SPDXID: id, name: base.name, checksums: base.sha256.map { [.sha256($0)] },
                    primaryPackagePurpose: "OPERATING-SYSTEM", comment: "The base root filesystem the image was built from."))
            relationships.append(.init(spdxElementId: artifactID, relationshipType: "DESCENDANT_OF", relatedSpdxElement: id))
        }
        var refs = Set<String>()
        for p in inventory.packages {
            let id = unique(SPDXDocument.identifier("deb", p.name, p.architecture))
            var purl = "pkg:deb/debian/\(percent(p.name))@\(percent(p.version))?arch=\(percent(p.architecture))"
            if p.source != p.name || p.sourceVersion != p.version {
                purl += "&upstream=\(percent(p.source == p.name ? p.sourceVersion : "\(p.source)@\(p.sourceVersion)"))"
            }
            refs.formUnion(p.licenseRefs)
            packages.append(
                .init(
                    SPDXID: id, name: p.name, versionInfo: p.version, supplier: "Organization: Debian",
                    sourceInfo: "built from the Debian source package \(p.source) \(p.sourceVersion)",
                    licenseDeclared: p.license ?? "NOASSERTION", externalRefs: [.purl(purl)],
                    primaryPackagePurpose: "LIBRARY"))
            relationships.append(.init(spdxElementId: artifactID, relationshipType: SPDXDocument.contains, relatedSpdxElement: id))
        }
        for image in inventory.images {
            let id = unique(SPDXDocument.identifier(image.kind == .model ? "Model" : "Image", image.repository, image.tag ?? image.digest))
            let last = image.repository.split(separator: "/").last.map(String.init) ?? image.repository
            var purl = "pkg:oci/\(percent(last.lowercased()))@\(percent(image.digest))?repository_url=\(percent(image.repository.lowercased()))"
            if let tag = image.tag { purl += "&tag=\(percent(tag))" }
            let hex = image.digest.hasPrefix("sha256:") ? String(image.digest.dropFirst(7)) : nil
            packages.append(
                .init(
                    SPDXID: id, name: image.repository + (image.tag.map { ":\($0)" } ?? ""), versionInfo: image.digest,
                    checksums: hex.map { [.sha256($0)] }, externalRefs: [.purl(purl)],
                    primaryPackagePurpose: image.kind == .model ? "OTHER" : "CONTAINER",
                    comment: image.kind == .model
                        ? "Ollama model preloaded into the image; checksum is its manifest's."
                        : "OCI image preloaded into the image; checksum is its manifest's."))
            relationships.append(.init(spdxElementId: artifactID, relationshipType: SPDXDocument.contains, relatedSpdxElement: id))
        }
        for tool in inventory.tools {
            let id = unique(SPDXDocument.identifier("Tool", tool.name))
            packages.append(
                .init(
                    SPDXID: id, name: tool.name, versionInfo: tool.version, packageFileName: tool.path,
                    supplier: "Organization: UnisonOS", checksums: [.sha256(tool.sha256)],
                    externalRefs: [.purl("pkg:generic/\(percent(tool.name))@\(percent(tool.version))")],
                    primaryPackagePurpose: "APPLICATION"))
            relationships.append(.init(spdxElementId: artifactID, relationshipType: SPDXDocument.contains, relatedSpdxElement: id))
        }
        let extracted = refs.sorted().map { name in
            SPDXDocument.ExtractedLicense(
                licenseId: SPDXDocument.identifier(name).replacing("SPDXRef-", with: "LicenseRef-"),
                extractedText: "License named '\(name)' in a Debian copyright file of this image; see /usr/share/doc/<package>/copyright.",
                name: name)
        }
        // The namespace is unique per artifact content: a UUID derived from its digest.
        let uuid = derivedUUID(subject.sha256 + "\n" + subject.name)
        return SPDXDocument(
            name: subject.name,
            documentNamespace: "https://spdx.org/spdxdocs/\(subject.name)-\(uuid)",
            creationInfo: .init(
                created: timestamp(subject.epoch), creators: ["Tool: unisonctl-\(ToolVersion.current)", "Organization: UnisonOS"],
                comment: "SBOM of \(subject.name), read from the root filesystem it was built from (dpkg status, copyright files, model store)."),
            packages: packages, relationships: relationships,
            hasExtractedLicensingInfos: extracted.isEmpty ? nil : extracted)
    }

    /// Writes `<artifact>.spdx.json` beside `artifact` (atomically); returns its URL.
    @discardableResult
    /// `sha256` is the artifact's when the caller has it already (else it is read).
    package static func write(
        _ inventory: RootInventory, artifact: URL, sha256: String? = nil, version: String,
        base: (name: String, sha256: String?)?, epoch: Int64
    ) throws -> URL {
        let hex = try sha256 ?? SHA256Hex.file(artifact).hex
        let doc = document(inventory, subject: .init(name: artifact.lastPathComponent, sha256: hex, version: version, base: base, epoch: epoch))
        let url = SBOMFile.url(for: artifact)
        try AtomicFile.write(try doc.encoded(), to: url, permissions: 0o644)
        return url
    }

    /// The same SBOM for another artifact with the same root (the ISO carrying a VM disk).
    package static func retarget(_ document: SPDXDocument, to artifact: URL) throws -> SPDXDocument {
        var doc = document
        let (hex, _) = try SHA256Hex.file(artifact)
        let name = artifact.lastPathComponent
        guard let index = doc.packages.firstIndex(where: { $0.SPDXID == artifactID }) else {
            throw AttestError.badInput("the SBOM has no \(artifactID) package to retarget")
        }
        doc.packages[index].name = name
        doc.packages[index].packageFileName = name
        doc.packages[index].checksums = [.sha256(hex)]
        doc.name = name
        doc.documentNamespace = "https://spdx.org/spdxdocs/\(name)-\(derivedUUID(hex + "\n" + name))"
        doc.creationInfo.comment = "SBOM of \(name), read from the root filesystem of the disk it installs."
        return doc
    }

    static func timestamp(_ epoch: Int64) -> String {
        Date(timeIntervalSince1970: TimeInterval(epoch)).formatted(.iso8601)
    }

    static func derivedUUID(_ text: String) -> String {
        var b = Array(SHA256.hash(data: Data(text.utf8)).prefix(16))
        b[6] = (b[6] & 0x0F) | 0x50
        b[8] = (b[8] & 0x3F) | 0x80
        let hex = NumberText.hex(bytes: b)
        let c = Array(hex)
        return [String(c[0..<8]), String(c[8..<12]), String(c[12..<16]), String(c[16..<20]), String(c[20..<32])].joined(separator: "-")
    }

    /// Percent-encoding for purl components: everything but unreserved characters.
    static func percent(_ s: String) -> String {
        let unreserved = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~/".utf8)
        var out = ""
        for byte in s.utf8 {
            if unreserved.contains(byte) {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                out += "%" + NumberText.hex(byte, width: 2, uppercase: true)
            }
        }
        return out
    }
}
