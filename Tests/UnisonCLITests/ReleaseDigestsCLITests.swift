import Foundation
import Testing
import UnisonTestSupport

/// `release manifest --resolve-digests`: each service image's digest at its release tag comes from
/// a real docker-registry on 127.0.0.1 standing in for GHCR; skopeo, reading the same tags,
/// says what the digests must be.
@Suite(.serialized, .tags(.interop)) struct ReleaseDigestsCLITests {
    struct Service { var name: String; var repository: String }

    static func services() throws -> [Service] {
        let r = try CLI.run(["spec", "show", "--json", "--spec", CLI.repoRoot.appendingPathComponent("unison.yaml").path])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let services = try #require(object["services"] as? [[String: Any]])
        return services.compactMap { s in
            guard let name = s["name"] as? String, let image = s["image"] as? String,
                let slash = image.firstIndex(of: "/")
            else { return nil }
            return Service(name: name, repository: String(image[image.index(after: slash)...]))
        }
    }

    @Test func digestsComeFromTheRegistryAtEachReleaseTag() throws {
        let dir = try CLI.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let registry = try TestRegistry.start()
        defer { registry.stop() }
        let services = try Self.services()
        #expect(services.count >= 10)

        // One small artifact per service, at the tag the release will name; each has its own digest.
        var tagArgs: [String] = []
        for (i, service) in services.enumerated() {
            let file = dir.appendingPathComponent("\(service.name).txt")
            try Data("build of \(service.name) #\(i)\n".utf8).write(to: file)
            let tag = "v1.\(i).0"
            let push = try CLI.run(
                [
                    "oci", "push-artifact", "\(registry.host)/\(service.repository):\(tag)", file.path,
                    "--artifact-type", "application/vnd.unisonos.test",
                ], environment: ["UNISONCTL_QUIET": "1"])
            #expect(push.status == 0, "\(push.stderr)")
            tagArgs += ["--service-tag", "\(service.name)=\(tag)"]
        }
        // A digest given on the command line is kept as given.
        let given = "sha256:" + String(repeating: "a", count: 64)
        let artifacts = dir.appendingPathComponent("dist")
        try FileManager.default.createDirectory(at: artifacts, withIntermediateDirectories: true)
        let commit = String(repeating: "0", count: 40)
        let base = [
            "release", "manifest", "--version", "v0.9.0", "--commit", commit, "--artifacts", artifacts.path,
            "--spec", CLI.repoRoot.appendingPathComponent("unison.yaml").path,
        ]
        let r = try CLI.run(
            base + tagArgs + [
                "--digest", "\(services[0].name)=\(given)", "--resolve-digests",
                "--registry-override", registry.host,
            ],
            environment: ["SOURCE_DATE_EPOCH": "1700000000"])
        #expect(r.status == 0, "\(r.stderr)")

        let manifest = try #require(
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: artifacts.appendingPathComponent("unisonos-manifest-v0.9.0.json"))) as? [String: Any])
        // compose.images_pinned: service -> image:tag@digest, as unison-updates reads it.
        let pinned = try #require((manifest["compose"] as? [String: Any])?["images_pinned"] as? [String: String])
        let digests = pinned.mapValues { String($0[($0.range(of: "@")?.upperBound ?? $0.endIndex)...]) }
        #expect(digests[services[0].name] == given)
        for (i, service) in services.enumerated().dropFirst() {
            let raw = try TestProcess.runMerged([
                "sh", "-c", "skopeo inspect --tls-verify=false --raw docker://\(registry.host)/\(service.repository):v1.\(i).0 | sha256sum",
            ])
            #expect(raw.status == 0)
            let expected = "sha256:" + String(raw.output.prefix(64))
            #expect(digests[service.name] == expected, "\(service.name)")
        }
        #expect(Set(digests.values).count == services.count, "every service has its own digest")
    }

    @Test func aTagMissingFromTheRegistryStopsTheManifestAndNamesIt() throws {
        let dir = try CLI.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let registry = try TestRegistry.start()
        defer { registry.stop() }
        let services = try Self.services()
        let tagArgs = services.flatMap { ["--service-tag", "\($0.name)=v2.0.0"] }
        let artifacts = dir.appendingPathComponent("dist")
        try FileManager.default.createDirectory(at: artifacts, withIntermediateDirectories: true)
        let base = [
            "release", "manifest", "--version", "v0.9.0", "--commit", String(repeating: "0", count: 40),
            "--artifacts", artifacts.path, "--spec", CLI.repoRoot.appendingPathComponent("unison.yaml").path,
        ]

        var r = try CLI.run(base + tagArgs + ["--resolve-digests", "--registry-override", registry.host])
        #expect(r.status == 1, "\(r.stderr)")
        let first = try #require(services.map(\.name).sorted().first.flatMap { n in services.first { $0.name == n } })
        #expect(r.stderr.contains("\(registry.host)/\(first.repository):v2.0.0"), "\(r.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: artifacts.path).isEmpty)

        r = try CLI.run(base + tagArgs + ["--registry-override", registry.host])
        #expect(r.status == 2)
        #expect(r.stderr.contains("--resolve-digests"))
    }
}
