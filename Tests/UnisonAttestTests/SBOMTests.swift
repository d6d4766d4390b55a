// SBOMs from an image root, validated by the SPDX reference tool (PyPI spdx-tools).
import Foundation
import Testing
import UnisonArchive
import UnisonCore
import UnisonTestSupport

@testable import UnisonAttest

@Suite("SPDX 2.3 SBOMs", .tags(.interop))
struct SBOMTests {
    @Test("the inventory of a root: installed dpkg packages with source and license, the model, unisonctl")
    func inventory() throws {
        let inv = try RootInventory.scan(try SampleRoot.tree(), modelStores: ["/var/lib/unison/models"])
        #expect(inv.packages.map(\.name) == ["base-files", "libstdc++6", "perl-base"])
        let libstd = inv.packages[1]
        #expect(libstd.source == "gcc-14" && libstd.sourceVersion == "14.2.0-19")
        #expect(libstd.license == "LicenseRef-GPL-3P-with-GCC-exception-3.1")
        #expect(inv.packages[2].license == "GPL-1.0-or-later OR Artistic-1.0-Perl")
        #expect(inv.packages[2].source == "perl" && inv.packages[2].sourceVersion == "5.40.1-6")
        #expect(inv.packages[0].license == nil)
        #expect(inv.images.map(\.repository) == ["registry.ollama.ai/library/qwen2.5"])
        #expect(inv.images[0].tag == "1.5b" && inv.images[0].digest.hasPrefix("sha256:"))
        #expect(inv.tools.map(\.name) == ["unisonctl"])
    }

    @Test("Debian license names map to SPDX expressions")
    func licenses() {
        #expect(DebianLicense.spdxExpression("GPL-2+").0 == "GPL-2.0-or-later")
        #expect(DebianLicense.spdxExpression("LGPL-2.1").0 == "LGPL-2.1-only")
        #expect(DebianLicense.spdxExpression("BSD-3-clause and Expat").0 == "BSD-3-Clause AND MIT")
        #expect(DebianLicense.spdxExpression("public-domain").0 == "LicenseRef-public-domain")
        #expect(DebianLicense.spdxExpression("GPL-2+ or").0 == nil)
    }

    @Test("the SBOM validates with pyspdxtools, names the artifact by digest, and is the same bytes twice")
    func spdxToolsValidates() throws {
        let tmp = try TempDir()
        let artifact = tmp.path("unisonos-wsl2-1.0.0.tar.gz")
        try Data("not really a tarball".utf8).write(to: artifact)
        let inv = try RootInventory.scan(try SampleRoot.tree(), modelStores: ["/var/lib/unison/models"])
        let url = try SBOM.write(
            inv, artifact: artifact, version: "1.0.0", base: ("debian-trixie.tar.zst", String(repeating: "ab", count: 32)), epoch: 1_704_067_200)
        #expect(url.lastPathComponent == "unisonos-wsl2-1.0.0.tar.gz.spdx.json")
        let first = try Data(contentsOf: url)
        try SBOM.write(
            inv, artifact: artifact, version: "1.0.0", base: ("debian-trixie.tar.zst", String(repeating: "ab", count: 32)), epoch: 1_704_067_200)
        #expect(try Data(contentsOf: url) == first)

        let check = try TestProcess.runStatus(["pyspdxtools", "-i", url.path])
        #expect(check.status == 0, "pyspdxtools: \(check.stdout) \(check.stderr)")
        #expect(!check.stdout.contains("ERROR") && !check.stderr.contains("validation"), "\(check.stdout) \(check.stderr)")

        let doc = try SPDXDocument.decode(first, path: url.path)
        #expect(doc.described?.name == artifact.lastPathComponent)
        #expect(doc.described?.sha256 == (try SHA256Hex.file(artifact).hex))
        let purls = doc.packages.flatMap { $0.externalRefs ?? [] }.map(\.referenceLocator)
        #expect(purls.contains("pkg:deb/debian/libstdc%2B%2B6@14.2.0-19?arch=amd64&upstream=gcc-14%4014.2.0-19"))
        #expect(purls.contains("pkg:deb/debian/base-files@13.8?arch=amd64"))
        #expect(
            purls.contains {
                $0.hasPrefix("pkg:oci/qwen2.5@sha256%3A") && $0.hasSuffix("?repository_url=registry.ollama.ai/library/qwen2.5&tag=1.5b")
            })
        #expect(purls.contains("pkg:generic/unisonctl@\(ToolVersion.current)"))
        let contains = doc.relationships.filter { $0.spdxElementId == SBOM.artifactID && $0.relationshipType == "CONTAINS" }
        #expect(contains.count == 5)
        #expect(doc.hasExtractedLicensingInfos?.map(\.licenseId) == ["LicenseRef-GPL-3P-with-GCC-exception-3.1"])

        // A broken document is refused by the same tool (the check can fail).
        var broken = doc
        broken.packages[1].licenseDeclared = "NOT A LICENSE ((("
        let bad = tmp.path("bad.spdx.json")
        try broken.encoded().write(to: bad)
        let refused = try TestProcess.runStatus(["pyspdxtools", "-i", bad.path])
        #expect(refused.status != 0 || refused.stdout.contains("ERROR") || refused.stderr.lowercased().contains("error"))
    }
}
