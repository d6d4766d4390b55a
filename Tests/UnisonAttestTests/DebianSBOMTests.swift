// The SBOM of the shipped Debian base (built once by scripts/build-base.sh into the cache):
// a real dpkg database and real copyright files, validated by the SPDX reference tool.
import Foundation
import Testing
import UnisonArchive
import UnisonCore
import UnisonTestSupport

@testable import UnisonAttest

@Suite("SBOM of the Debian base", .serialized, .tags(.interop))
struct DebianSBOMTests {
    @Test("every installed package is listed with a purl; DEP-5 licenses become valid SPDX expressions; pyspdxtools accepts it")
    func debianBase() throws {
        let base = try ImageRepo.debianBase()
        let tree = try FileTree(tarball: base)
        let inventory = try RootInventory.scan(tree, modelStores: ["/var/lib/unison/models"])
        // dpkg-query over the same database agrees on the installed packages.
        let tmp = try TempDir()
        let admin = tmp.path("dpkg")
        try FileManager.default.createDirectory(at: admin, withIntermediateDirectories: true)
        guard case let .regular(content) = try #require(tree["var/lib/dpkg/status"]).kind else { Issue.record("no status"); return }
        try content.data().write(to: admin.appendingPathComponent("status"))
        let listed = try TestProcess.run([
            "dpkg-query", "--admindir=\(admin.path)", "-W", "-f", "${db:Status-Abbrev}|${Package}|${Version}|${Architecture}\n",
        ])
        let installed = listed.split(separator: "\n").filter { $0.hasPrefix("ii") }.map {
            $0.split(separator: "|").dropFirst().joined(separator: "|")
        }
        #expect(installed.sorted() == inventory.packages.map { "\($0.name)|\($0.version)|\($0.architecture)" }.sorted())
        #expect(inventory.packages.count > 80)
        #expect(inventory.packages.filter { $0.license != nil }.count > inventory.packages.count / 3, "most Debian copyright files are DEP-5")

        let artifact = tmp.path("unisonos-wsl2-0.0.0.tar.gz")
        try Data("stand-in".utf8).write(to: artifact)
        let url = try SBOM.write(inventory, artifact: artifact, version: "0.0.0", base: (base.lastPathComponent, nil), epoch: 1_704_067_200)
        let check = try TestProcess.runStatus(["pyspdxtools", "-i", url.path])
        #expect(check.status == 0, "pyspdxtools: \(check.stdout.suffix(3000)) \(check.stderr.suffix(3000))")
        let doc = try SPDXDocument.decode(try Data(contentsOf: url), path: url.path)
        #expect(doc.packages.count == inventory.packages.count + 2)
    }
}
