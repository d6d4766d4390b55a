// The `unisonctl oci` commands as the acceptance checks run them: the built binary against a
// real registry, results read back by skopeo.
import Foundation
import Testing
import UnisonCore
import UnisonTestSupport

@testable import UnisonOCI

@Suite("unisonctl oci commands", .tags(.interop))
struct OCICLITests {
    @Test("push, copy, pull, tag, ls, inspect and push-artifact through the CLI")
    func commands() throws {
        let registry = try TestRegistry.start()
        defer { registry.stop() }
        let tmp = try TempDir()
        let image = try TestImage.make(layout: tmp.path("src"), tag: "v1", layerFiles: [["etc/hostname": Data("unison\n".utf8)]])
        let ref = "\(registry.host)/team/app:v1"

        let push = try OCICLI.run(["oci", "push", "oci:\(image.layout.path):v1", ref, "--json"])
        #expect(push.status == 0, "\(push.stderr)")
        let pushed = try JSONDecoder().decode(CopyReport.self, from: Data(push.stdout.utf8))
        #expect(pushed.schema == "unisonctl.oci-copy/v1")
        #expect(pushed.digest.description == image.manifestDigest)
        #expect(
            try TestProcess.run(["skopeo", "inspect", "--raw", "--tls-verify=false", "docker://\(ref)"])
                == String(decoding: image.manifestBytes, as: UTF8.self))

        let copy = try OCICLI.run(["oci", "copy", ref, "\(registry.host)/mirror/app:v1"])
        #expect(copy.status == 0, "\(copy.stderr)")
        #expect(copy.stdout.contains("mounted"))

        let out = tmp.path("pulled")
        let pull = try OCICLI.run(["oci", "pull", "\(registry.host)/mirror/app:v1", "--output", out.path])
        #expect(pull.status == 0, "\(pull.stderr)")
        let skopeoLayout = try TestProcess.run(["skopeo", "inspect", "--raw", "oci:\(out.path):v1"])
        #expect(Data(skopeoLayout.utf8) == image.manifestBytes)

        let tag = try OCICLI.run(["oci", "tag", ref, "stable", "v1.0", "--json"])
        #expect(tag.status == 0, "\(tag.stderr)")
        #expect(tag.stdout.contains(#""schema" : "unisonctl.oci-tag/v1""#))
        let ls = try OCICLI.run(["oci", "ls", "\(registry.host)/team/app", "--json"])
        #expect(ls.stdout.contains(#""stable""#) && ls.stdout.contains(#""v1.0""#) && ls.stdout.contains(#""v1""#))

        let inspect = try OCICLI.run(["oci", "inspect", "\(registry.host)/team/app:stable", "--json"])
        #expect(inspect.status == 0, "\(inspect.stderr)")
        let report = try JSONDecoder().decode(InspectReport.self, from: Data(inspect.stdout.utf8))
        #expect(report.schema == "unisonctl.oci-inspect/v1")
        #expect(report.digest.description == image.manifestDigest)
        #expect(report.platform == "linux/amd64")
        #expect(report.layers?.map(\.digest) == image.layers.map(\.digest))
        let layoutInspect = try OCICLI.run(["oci", "inspect", "oci:\(out.path):v1"])
        #expect(layoutInspect.stdout.contains(image.manifestDigest))

        let sbom = tmp.path("sbom.json")
        try Data(#"{"bomFormat":"CycloneDX"}"#.utf8).write(to: sbom)
        let attach = try OCICLI.run([
            "oci", "push-artifact", "\(registry.host)/team/app", "\(sbom.path):application/vnd.cyclonedx+json",
            "--artifact-type", "application/vnd.cyclonedx+json", "--subject", ref, "--annotation", "org.example=1", "--json",
        ])
        #expect(attach.status == 0, "\(attach.stderr)")
        let artifact = try JSONDecoder().decode(ArtifactPushReport.self, from: Data(attach.stdout.utf8))
        #expect(artifact.subject?.description == image.manifestDigest)
        #expect(artifact.reference.hasSuffix("@\(artifact.digest)"))
        let raw = try TestProcess.run(["skopeo", "inspect", "--raw", "--tls-verify=false", "docker://\(registry.host)/team/app@\(artifact.digest)"])
        #expect(raw.contains(#""org.example":"1""#) && raw.contains(#""artifactType":"application/vnd.cyclonedx+json""#))
        let referrers = try OCICLI.run(["oci", "referrers", ref, "--json"])
        #expect(referrers.status == 0, "\(referrers.stderr)")
        #expect(referrers.stdout.contains(artifact.digest.description))
    }

    @Test("a TLS registry on 127.0.0.1: --certs-dir with its folder pushes over HTTPS (skopeo reads it back verified); without, exit 1 says how")
    func tlsOnLoopback() throws {
        let tmp = try TempDir("oci-tls")
        let pki = try TestPKI(in: tmp.path("pki"))
        let registry = try TestRegistry.start(tls: .init(certificate: pki.serverCertificate, key: pki.serverKey))
        defer { registry.stop() }
        let certsD = try pki.certsD("certs.d", folder: registry.host, [("ca.crt", pki.serverCA)])
        let image = try TestImage.make(layout: tmp.path("src"), tag: "v1", layerFiles: [["etc/hostname": Data("unison\n".utf8)]])
        let ref = "\(registry.host)/team/app:v1"

        let push = try OCICLI.run(["oci", "push", "oci:\(image.layout.path):v1", ref, "--certs-dir", certsD])
        #expect(push.status == 0, "\(push.stderr)")
        // skopeo verifies the chain with the same CA folder (no --tls-verify=false).
        #expect(
            try TestProcess.run(["skopeo", "inspect", "--raw", "--cert-dir", certsD + "/" + registry.host, "docker://\(ref)"])
                == String(decoding: image.manifestBytes, as: UTF8.self))
        let inspect = try OCICLI.run(["oci", "inspect", ref, "--certs-dir", certsD])
        #expect(inspect.status == 0 && inspect.stdout.contains(image.manifestDigest), "\(inspect.stderr)")

        let bare = try OCICLI.run(["oci", "inspect", ref])
        #expect(bare.status == 1)
        #expect(bare.stderr.contains("the registry speaks HTTPS, and this went over plain HTTP"), "\(bare.stderr)")
        #expect(bare.stderr.contains("a certs.d folder named \(registry.host)"), "\(bare.stderr)")
    }

    @Test("bad references and flags exit 2; an unknown image exits 1 naming it")
    func errors() throws {
        let registry = try TestRegistry.start()
        defer { registry.stop() }
        let badRef = try OCICLI.run(["oci", "inspect", "\(registry.host)/Team/App:v1"])
        #expect(badRef.status == 2)
        #expect(badRef.stderr.contains("Team/App"))
        let badFlag = try OCICLI.run(["oci", "pull", "\(registry.host)/a:b", "--output", "/tmp/x", "--platform", "linux"])
        #expect(badFlag.status == 2)
        let missing = try OCICLI.run(["oci", "inspect", "\(registry.host)/team/none:v9"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("\(registry.host)/team/none:v9") && missing.stderr.contains("404"))
        let noTag = try OCICLI.run(["oci", "pull", "\(registry.host)/team/none", "--output", "/tmp/x"])
        #expect(noTag.status == 2)
        let noCertsDir = try OCICLI.run(["oci", "inspect", "\(registry.host)/team/none:v9", "--certs-dir", "/nonexistent/certs.d"])
        #expect(noCertsDir.status == 2)
        #expect(noCertsDir.stderr.contains("--certs-dir '/nonexistent/certs.d' is not a directory"), "\(noCertsDir.stderr)")
        // An existing certs.d is taken (it only matters for HTTPS registries): the request is made.
        let certsDir = try TempDir("certs.d")
        let withCertsDir = try OCICLI.run(["oci", "inspect", "\(registry.host)/team/none:v9", "--certs-dir", certsDir.url.path])
        #expect(withCertsDir.status == 1 && withCertsDir.stderr.contains("404"), "\(withCertsDir.stderr)")
    }
}
