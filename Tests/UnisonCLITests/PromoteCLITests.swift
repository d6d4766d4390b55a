// `release promote` end to end: the shipped spec's platform services, each seeded with an
// `edge-main` image in a real registry, promoted through the counting proxy with
// --registry-override. Promotion must move tags only: no blob byte, no upload session.
import Foundation
import Testing
import UnisonCore
import UnisonPublish
import UnisonTestSupport

@testable import UnisonOCI

@Suite("release promote (unisonctl)", .tags(.interop))
struct PromoteCLITests {
    static let spec = OCICLI.repoRoot.appendingPathComponent("unison.yaml")

    /// The platform services' repositories, read from the shipped spec's `services:` section.
    static func serviceRepos() throws -> [String] {
        let text = try String(contentsOf: spec, encoding: .utf8)
        var inServices = false
        var repos: [String] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("services:") { inServices = true; continue }
            if inServices, let first = line.first, !first.isWhitespace, first != "#", first != "-" { break }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            // Each image once: comms and its Telegram worker run the same one.
            if inServices, trimmed.hasPrefix("repo:") {
                let repo = trimmed.dropFirst(5).trimmingCharacters(in: .whitespaces)
                if !repos.contains(repo) { repos.append(repo) }
            }
        }
        return repos
    }

    @Test("the shipped spec's services get vX.Y.Z, vX.Y, vX and latest on the edge-main digest without any layer upload")
    func promoteShippedSpec() async throws {
        let repos = try Self.serviceRepos()
        #expect(repos.count >= 10, "the spec lists \(repos.count) platform services")
        let registry = try TestRegistry.start()
        defer { registry.stop() }
        let tmp = try TempDir()
        let digests = try await PromoteSeed.seed(repos, host: registry.host, tmp: tmp)
        let proxy = try FaultProxy(.init(upstream: registry.host))
        defer { proxy.stop() }

        let run = try OCICLI.run([
            "release", "promote", "--version", "v0.5.0", "--spec", Self.spec.path,
            "--registry-override", proxy.host, "--json",
        ])
        #expect(run.status == 0, "\(run.stderr)")
        let report = try JSONDecoder().decode(PromotionReport.self, from: Data(run.stdout.utf8))
        #expect(report.schema == "unisonctl.release-promote/v1")
        #expect(report.tags == ["v0.5.0", "v0.5", "v0", "latest"])
        #expect(report.images.count == repos.count)
        #expect(report.blobBytesUploaded == 0)
        for image in report.images {
            #expect(image.tagged == ["v0.5.0", "v0.5", "v0", "latest"])
        }
        // The proxy saw no blob bytes and no upload session at all.
        let stats = try proxy.stats()
        #expect(stats.blob_upload_bytes == 0)
        #expect(!stats.requests.contains { $0.contains("/blobs/uploads/") })

        // Each release tag is the edge-main digest, as skopeo sees it directly on the registry.
        for repo in repos.prefix(3) {
            for tag in ["v0.5.0", "latest"] {
                let raw = try TestProcess.run([
                    "skopeo", "inspect", "--raw", "--tls-verify=false",
                    "docker://\(registry.host)/project-unisonos/\(repo):\(tag)",
                ])
                #expect(TestImage.sha256(Data(raw.utf8)) == digests[repo])
            }
        }
        let client = testClient()
        for repo in repos {
            let d = try await client.manifestDescriptor(try ImageReference(parsing: "\(registry.host)/project-unisonos/\(repo):v0"))
            #expect(d?.digest.description == digests[repo])
        }

        // Promoting again changes nothing and sends no manifest.
        let again = try OCICLI.run([
            "release", "promote", "--version", "v0.5.0", "--spec", Self.spec.path,
            "--registry-override", proxy.host, "--json",
        ])
        #expect(again.status == 0, "\(again.stderr)")
        let second = try JSONDecoder().decode(PromotionReport.self, from: Data(again.stdout.utf8))
        #expect(second.manifestsPushed == 0)
        #expect(second.images.allSatisfy { $0.tagged.isEmpty && $0.unchanged.count == 4 })

        // A pre-release gets only its own tag; latest stays where it was.
        let beta = try OCICLI.run([
            "release", "promote", "--version", "v0.6.0-beta.1", "--spec", Self.spec.path,
            "--registry-override", proxy.host, "--json",
        ])
        #expect(beta.status == 0, "\(beta.stderr)")
        let betaReport = try JSONDecoder().decode(PromotionReport.self, from: Data(beta.stdout.utf8))
        #expect(betaReport.tags == ["v0.6.0-beta.1"])
        let tags = try await client.listTags(try ImageReference(parsing: "\(registry.host)/project-unisonos/\(repos[0])"))
        #expect(Set(tags) == ["edge-main", "v0.5.0", "v0.5", "v0", "latest", "v0.6.0-beta.1"])
        #expect(try proxy.stats().blob_upload_bytes == 0)
    }

    @Test("a missing source image stops the promotion before any tag moves")
    func missingSource() async throws {
        let repos = try Self.serviceRepos()
        let registry = try TestRegistry.start()
        defer { registry.stop() }
        let tmp = try TempDir()
        _ = try await PromoteSeed.seed(Array(repos.dropLast()), host: registry.host, tmp: tmp)
        let run = try OCICLI.run([
            "release", "promote", "--version", "v1.0.0", "--spec", Self.spec.path,
            "--registry-override", registry.host,
        ])
        #expect(run.status == 1)
        #expect(run.stderr.contains("\(registry.host)/project-unisonos/\(repos.last!):edge-main"))
        let tags = try await testClient().listTags(try ImageReference(parsing: "\(registry.host)/project-unisonos/\(repos[0])"))
        #expect(tags == ["edge-main"])
        let bad = try OCICLI.run(["release", "promote", "--version", "1.0", "--spec", Self.spec.path])
        #expect(bad.status == 2)
    }
}
