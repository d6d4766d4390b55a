// Interop tier: the real docker-registry, cross-checked by skopeo (containers/image), a reader
// and writer nobody here wrote.
import Foundation
import Testing
import UnisonCore
import UnisonTestSupport

@testable import UnisonOCI

@Suite("registry interop (docker-registry + skopeo)", .tags(.interop))
struct RegistryInteropTests {
    @Test("what we push, skopeo inspects byte for byte and copies; a re-push sends no blob bytes")
    func pushThenSkopeo() async throws {
        let registry = try TestRegistry.start()
        defer { registry.stop() }
        let tmp = try TempDir()
        let image = try TestImage.make(
            layout: tmp.path("src"), tag: "v1",
            layerFiles: [
                ["etc/os-release": Data("ID=unisonos\n".utf8), "bin/tool": TestImage.noise(300_000, seed: 7)],
                ["srv/data.bin": TestImage.noise(40_000, seed: 9)],
            ])
        let client = testClient(chunkSize: 64 << 10)
        let target = try ImageReference(parsing: "\(registry.host)/team/app:v1")
        let report = try await client.copy(from: .layout(LayoutReference(directory: image.layout, tag: Tag("v1"))), to: .registry(target))
        #expect(report.digest.description == image.manifestDigest)
        #expect(report.blobsTransferred == 3)

        // skopeo reads the manifest we pushed: same bytes, same digest.
        let raw = try TestProcess.run(["skopeo", "inspect", "--raw", "--tls-verify=false", "docker://\(target)"])
        #expect(Data(raw.utf8) == image.manifestBytes)
        let info = try TestProcess.run(["skopeo", "inspect", "--tls-verify=false", "docker://\(target)"])
        let object = try JSONSerialization.jsonObject(with: Data(info.utf8)) as? [String: Any]
        #expect(object?["Digest"] as? String == image.manifestDigest)
        #expect((object?["Layers"] as? [String])?.count == 2)

        // skopeo copies it out to its own layout; every blob matches ours byte for byte.
        let out = tmp.path("skopeo-out")
        try TestProcess.run(["skopeo", "copy", "--src-tls-verify=false", "docker://\(target)", "oci:\(out.path):copied"])
        for blob in image.blobs {
            let ours = try Data(contentsOf: image.layout.appendingPathComponent("blobs/sha256/\(blob.digest.hex)"))
            let theirs = try Data(contentsOf: out.appendingPathComponent("blobs/sha256/\(blob.digest.hex)"))
            #expect(ours == theirs, "blob \(blob.digest) differs after skopeo copy")
        }
        // And the layer really is the tar we made: tar lists it.
        let listing = try TestProcess.run(["tar", "-tzf", out.appendingPathComponent("blobs/sha256/\(image.layers[0].digest.hex)").path])
        #expect(listing.contains("./etc/os-release"))

        // A second push of unchanged content sends no blob bytes at all.
        let before = client.stats.snapshot.blobBytesUploaded
        let again = try await client.copy(from: .layout(LayoutReference(directory: image.layout, tag: Tag("v1"))), to: .registry(target))
        #expect(again.blobsSkipped == 3)
        #expect(again.bytesTransferred == 0)
        #expect(client.stats.snapshot.blobBytesUploaded == before)
    }

    @Test("what skopeo pushes, we pull byte-identical into an OCI layout skopeo can read back")
    func skopeoPushThenPull() async throws {
        let registry = try TestRegistry.start()
        defer { registry.stop() }
        let tmp = try TempDir()
        let image = try TestImage.make(
            layout: tmp.path("src"), tag: "base",
            layerFiles: [
                ["usr/lib/os-release": Data("NAME=test\n".utf8), "opt/blob": TestImage.noise(120_000, seed: 3)]
            ])
        try TestProcess.run([
            "skopeo", "copy", "--dest-tls-verify=false", "oci:\(image.layout.path):base",
            "docker://\(registry.host)/mirror/base:24.04",
        ])
        let client = testClient()
        let pulled = tmp.path("pulled")
        let report = try await client.pull(reference: try ImageReference(parsing: "\(registry.host)/mirror/base:24.04"), toLayout: pulled)
        // skopeo may rewrite the manifest; whatever it stored, our copy has the same digest and bytes.
        let storedRaw = try TestProcess.run(["skopeo", "inspect", "--raw", "--tls-verify=false", "docker://\(registry.host)/mirror/base:24.04"])
        #expect(report.digest.description == TestImage.sha256(Data(storedRaw.utf8)))
        let manifestFile = pulled.appendingPathComponent("blobs/sha256/\(report.digest.hex)")
        #expect(try Data(contentsOf: manifestFile) == Data(storedRaw.utf8))
        for blob in image.blobs {
            let original = image.layout.appendingPathComponent("blobs/sha256/\(blob.digest.hex)")
            let copy = pulled.appendingPathComponent("blobs/sha256/\(blob.digest.hex)")
            #expect(FileManager.default.contentsEqual(atPath: original.path, andPath: copy.path), "blob \(blob.digest)")
        }
        // skopeo reads our layout, by the tag we recorded.
        let info = try TestProcess.run(["skopeo", "inspect", "oci:\(pulled.path):24.04"])
        #expect(info.contains(report.digest.description))
        // sha256sum agrees with every blob's name.
        let files = try FileManager.default.contentsOfDirectory(atPath: pulled.appendingPathComponent("blobs/sha256").path)
        let sums = try TestProcess.run(["sha256sum"] + files.map { pulled.appendingPathComponent("blobs/sha256/\($0)").path })
        for line in sums.split(separator: "\n") {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            #expect(parts.count == 2 && parts[1].hasSuffix(String(parts[0])), "\(line)")
        }
    }

    @Test("a multi-platform index copies whole, or narrowed to one platform")
    func multiPlatform() async throws {
        let registry = try TestRegistry.start()
        defer { registry.stop() }
        let tmp = try TempDir()
        let made = try TestImage.makeMultiPlatform(layout: tmp.path("multi"), tag: "multi")
        let client = testClient()
        let target = try ImageReference(parsing: "\(registry.host)/team/multi:1")
        let report = try await client.copy(from: .layout(LayoutReference(directory: tmp.path("multi"), tag: Tag("multi"))), to: .registry(target))
        #expect(report.digest == made.index.digest)
        #expect(report.manifests == 3)
        let raw = try TestProcess.run(["skopeo", "inspect", "--raw", "--tls-verify=false", "docker://\(target)"])
        #expect(TestImage.sha256(Data(raw.utf8)) == made.index.digest.description)
        let arm = try TestProcess.run(["skopeo", "inspect", "--tls-verify=false", "--override-arch", "arm64", "docker://\(target)"])
        // skopeo resolves the index to the arm64 image: its layer is ours.
        #expect(arm.contains(#""Architecture": "arm64""#))
        #expect(arm.contains(made.arm64.layers[0].digest.description))

        let narrowed = tmp.path("amd64-only")
        let pulled = try await client.pull(reference: target, toLayout: narrowed, platform: Platform("linux/amd64"))
        #expect(pulled.digest.description == made.amd64.manifestDigest)
        let layout = try OCILayout(opening: narrowed)
        #expect(try layout.resolve(tag: Tag("1")).digest.description == made.amd64.manifestDigest)
        #expect(!FileManager.default.fileExists(atPath: layout.blobURL(made.arm64.layers[0].digest).path))

        await #expect(throws: OCIError.self) {
            try await client.pull(reference: target, toLayout: tmp.path("none"), platform: Platform("linux/s390x"))
        }
    }

    @Test("copy into another repository of the same registry mounts every blob")
    func crossRepositoryMount() async throws {
        let registry = try TestRegistry.start()
        defer { registry.stop() }
        let tmp = try TempDir()
        let image = try TestImage.make(layout: tmp.path("src"), tag: "v1", layerFiles: [["a": TestImage.noise(50_000, seed: 1)]])
        let client = testClient()
        let source = try ImageReference(parsing: "\(registry.host)/staging/app:edge")
        _ = try await client.copy(from: .layout(LayoutReference(directory: image.layout, tag: Tag("v1"))), to: .registry(source))
        let uploaded = client.stats.snapshot.blobBytesUploaded
        let report = try await client.copy(from: .registry(source), to: .registry(try ImageReference(parsing: "\(registry.host)/release/app:v1")))
        #expect(report.blobsMounted == 2)
        #expect(report.bytesTransferred == 0)
        #expect(client.stats.snapshot.blobBytesUploaded == uploaded)
        let raw = try TestProcess.run(["skopeo", "inspect", "--raw", "--tls-verify=false", "docker://\(registry.host)/release/app:v1"])
        #expect(Data(raw.utf8) == image.manifestBytes)
    }

    @Test("tags list across pages; tag adds tags without sending blobs")
    func tagsAndPagination() async throws {
        let registry = try TestRegistry.start()
        defer { registry.stop() }
        let tmp = try TempDir()
        let image = try TestImage.make(layout: tmp.path("src"), tag: "v1", layerFiles: [["x": Data("x".utf8)]])
        let client = testClient()
        let repo = try ImageReference(parsing: "\(registry.host)/team/tagged:v1")
        _ = try await client.copy(from: .layout(LayoutReference(directory: image.layout, tag: Tag("v1"))), to: .registry(repo))
        let before = client.stats.snapshot
        let result = try await client.tag(repo, as: ["a", "b", "c", "d", "v1"].compactMap(Tag.init))
        #expect(result.tagged == ["a", "b", "c", "d"])
        #expect(result.unchanged == ["v1"])
        #expect(client.stats.snapshot.blobBytesUploaded == before.blobBytesUploaded)
        let tags = try await client.listTags(repo, pageSize: 2)
        #expect(tags.sorted() == ["a", "b", "c", "d", "v1"])
        let skopeoTags = try TestProcess.run(["skopeo", "list-tags", "--tls-verify=false", "docker://\(registry.host)/team/tagged"])
        for t in tags { #expect(skopeoTags.contains("\"\(t)\"")) }
    }

    @Test("artifacts: pushed with the empty config, attached by subject, found through the referrers tag")
    func artifactsAndReferrers() async throws {
        let registry = try TestRegistry.start()
        defer { registry.stop() }
        let tmp = try TempDir()
        let image = try TestImage.make(layout: tmp.path("src"), tag: "v1", layerFiles: [["x": Data("x".utf8)]])
        let client = testClient()
        let repo = try ImageReference(parsing: "\(registry.host)/team/app:v1")
        _ = try await client.copy(from: .layout(LayoutReference(directory: image.layout, tag: Tag("v1"))), to: .registry(repo))
        let disk = tmp.path("unisonos-linux-vm-0.5.0.qcow2")
        try TestImage.noise(70_000, seed: 5).write(to: disk)
        let sums = tmp.path("SHA256SUMS-0.5.0.txt")
        try Data("\(SHA256Hex.hex(try Data(contentsOf: disk)))  unisonos-linux-vm-0.5.0.qcow2\n".utf8).write(to: sums)

        let env = ["SOURCE_DATE_EPOCH": "1700000000"]
        let artifact = try await client.pushArtifact(
            to: try ImageReference(parsing: "\(registry.host)/team/app:disk-0.5.0"),
            files: [ArtifactFile(url: disk, mediaType: "application/vnd.unisonos.disk.qcow2"), ArtifactFile(url: sums, mediaType: "text/plain")],
            artifactType: "application/vnd.unisonos.release.v1", environment: env)
        // The same inputs give the same digest.
        let again = try await client.pushArtifact(
            to: try ImageReference(parsing: "\(registry.host)/team/app:disk-0.5.0"),
            files: [ArtifactFile(url: disk, mediaType: "application/vnd.unisonos.disk.qcow2"), ArtifactFile(url: sums, mediaType: "text/plain")],
            artifactType: "application/vnd.unisonos.release.v1", environment: env)
        #expect(again.digest == artifact.digest)
        #expect(again.blobBytesUploaded == 0)

        let raw = try TestProcess.run(["skopeo", "inspect", "--raw", "--tls-verify=false", "docker://\(registry.host)/team/app:disk-0.5.0"])
        let manifest = try JSONSerialization.jsonObject(with: Data(raw.utf8)) as? [String: Any]
        #expect(manifest?["artifactType"] as? String == "application/vnd.unisonos.release.v1")
        #expect((manifest?["config"] as? [String: Any])?["mediaType"] as? String == MediaType.ociEmpty)
        #expect((manifest?["annotations"] as? [String: String])?["org.opencontainers.image.created"] == "2023-11-14T22:13:20Z")
        // skopeo copies the artifact's files out; sha256sum -c accepts the checksum file.
        let out = tmp.path("art")
        try TestProcess.run(["skopeo", "copy", "--src-tls-verify=false", "docker://\(registry.host)/team/app:disk-0.5.0", "oci:\(out.path):a"])
        let check = tmp.path("check")
        try FileManager.default.createDirectory(at: check, withIntermediateDirectories: true)
        for file in artifact.files {
            try FileManager.default.copyItem(
                at: out.appendingPathComponent("blobs/sha256/\(file.digest.hex)"), to: check.appendingPathComponent(file.title))
        }
        _ = try TestProcess.run(["sha256sum", "-c", "SHA256SUMS-0.5.0.txt"], cwd: check)

        // Attach an SBOM and a signature to the image; docker-registry has no referrers API, so
        // the sha256-<hex> tag carries the list.
        let sbom = tmp.path("sbom.spdx.json")
        try Data(#"{"spdxVersion":"SPDX-2.3"}"#.utf8).write(to: sbom)
        let subject = repo.with(digest: try Digest.parse(image.manifestDigest))
        let attached = try await client.pushArtifact(
            to: repo.with(tag: nil), files: [ArtifactFile(url: sbom, mediaType: "application/spdx+json")],
            artifactType: "application/spdx+json", subject: repo, environment: env)
        #expect(attached.referrersTagUpdated)
        #expect(attached.subject?.description == image.manifestDigest)
        let sig = tmp.path("sig")
        try Data("signature".utf8).write(to: sig)
        _ = try await client.pushArtifact(
            to: repo.with(tag: nil), files: [ArtifactFile(url: sig)],
            artifactType: "application/vnd.dev.cosign.simplesigning.v1+json", subject: subject, environment: env)
        let all = try await client.referrers(of: subject)
        #expect(all.count == 2)
        #expect(all.contains { $0.digest == attached.digest && $0.artifactType == "application/spdx+json" })
        let sboms = try await client.referrers(of: subject, artifactType: "application/spdx+json")
        #expect(sboms.map(\.digest) == [attached.digest])
        let fallbackTag = RegistryClient.referrersTag(for: subject.digest!)
        #expect(fallbackTag.value == "sha256-" + subject.digest!.hex)
        let tagRaw = try TestProcess.run([
            "skopeo", "inspect", "--raw", "--tls-verify=false", "docker://\(registry.host)/team/app:\(fallbackTag.value)",
        ])
        #expect(tagRaw.contains(attached.digest.description))
        // The attached manifest names its subject.
        let attachedRaw = try TestProcess.run([
            "skopeo", "inspect", "--raw", "--tls-verify=false", "docker://\(registry.host)/team/app@\(attached.digest)",
        ])
        #expect(attachedRaw.contains(#""subject":{"#) && attachedRaw.contains(image.manifestDigest))
    }
}
