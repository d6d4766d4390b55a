// A re-push of unchanged content sends no blob (#17): each push below runs twice as a fresh
// `unisonctl` process (no cache carried over) against the real docker-registry, behind the
// counting proxy, which sees every request on the wire. The second run must open no upload
// session and send no blob byte: every blob is answered by its HEAD.
import Foundation
import Testing
import UnisonCore
import UnisonTestSupport

@testable import UnisonOCI

@Suite("re-push sends no blob (unisonctl)", .tags(.interop))
struct RePushCLITests {
    /// What the proxy saw between two stats readings.
    struct Traffic {
        var requests: [String]
        var blobUploadBytes: Int64

        init(before: FaultProxy.Stats, after: FaultProxy.Stats) {
            requests = Array(after.requests.dropFirst(before.requests.count))
            blobUploadBytes = after.blob_upload_bytes - before.blob_upload_bytes
        }

        /// Requests that open, feed or commit a blob upload (POST/PATCH/PUT under blobs/uploads).
        var uploads: [String] { requests.filter { $0.contains("/blobs/uploads/") } }
        var blobHEADs: [String] { requests.filter { $0.hasPrefix("HEAD ") && $0.contains("/blobs/sha256:") } }
    }

    /// Runs `arguments` twice through the proxy; returns both runs' traffic and stdout.
    static func twice(_ arguments: [String], proxy: FaultProxy) throws -> (first: Traffic, second: Traffic, outputs: [String]) {
        var traffic: [Traffic] = []
        var outputs: [String] = []
        for _ in 0..<2 {
            let before = try proxy.stats()
            let run = try OCICLI.run(arguments, environment: ["SOURCE_DATE_EPOCH": "1700000000"])
            #expect(run.status == 0, "\(arguments.prefix(2).joined(separator: " ")): \(run.stderr)")
            traffic.append(Traffic(before: before, after: try proxy.stats()))
            outputs.append(run.stdout)
        }
        return (traffic[0], traffic[1], outputs)
    }

    @Test("oci push, models push and oci push-artifact: the second run only asks (HEAD) and sends no blob")
    func rePushSendsNoBlob() throws {
        let registry = try TestRegistry.start()
        defer { registry.stop() }
        let proxy = try FaultProxy(.init(upstream: registry.host))
        defer { proxy.stop() }
        let tmp = try TempDir()

        // An image from an OCI layout: config and two layers.
        let image = try TestImage.make(
            layout: tmp.path("src"), tag: "v1",
            layerFiles: [
                ["etc/os-release": Data("ID=unisonos\n".utf8), "bin/tool": TestImage.noise(200_000, seed: 11)],
                ["srv/data.bin": TestImage.noise(30_000, seed: 12)],
            ])
        let push = try Self.twice(["oci", "push", "oci:\(image.layout.path):v1", "\(proxy.host)/team/app:v1", "--json"], proxy: proxy)
        #expect(push.first.blobUploadBytes > 0 && !push.first.uploads.isEmpty, "the first push must really upload")
        #expect(push.second.uploads.isEmpty, "\(push.second.uploads)")
        #expect(push.second.blobUploadBytes == 0)
        #expect(push.second.blobHEADs.count == 3)
        let again = try JSONDecoder().decode(CopyReport.self, from: Data(push.outputs[1].utf8))
        #expect(again.digest.description == image.manifestDigest)
        #expect(again.blobsSkipped == 3 && again.blobsTransferred == 0 && again.bytesTransferred == 0)

        // An Ollama model directory: config plus five layers.
        let model = tmp.path("model")
        try FileManager.default.createDirectory(at: model, withIntermediateDirectories: true)
        try (Data("GGUF".utf8) + TestImage.noise(120_000, seed: 13)).write(to: model.appendingPathComponent("tiny.gguf"))
        try Data("{{ .Prompt }}".utf8).write(to: model.appendingPathComponent("template"))
        try Data("MIT License".utf8).write(to: model.appendingPathComponent("LICENSE"))
        let models = try Self.twice(["models", "push", model.path, "tiny:1b", "--registry", "http://\(proxy.host)", "--json"], proxy: proxy)
        #expect(!models.first.uploads.isEmpty)
        #expect(models.second.uploads.isEmpty, "\(models.second.uploads)")
        #expect(models.second.blobUploadBytes == 0)
        let modelReport = try JSONDecoder().decode(ModelPushReport.self, from: Data(models.outputs[1].utf8))
        #expect(modelReport.blobBytesUploaded == 0)
        #expect(models.second.blobHEADs.count == modelReport.layers.count + 1)

        // A release artifact (a disk file and its checksums), dated by SOURCE_DATE_EPOCH so the
        // manifest is the same too.
        let disk = tmp.path("unisonos-linux-vm-0.5.0.qcow2")
        try TestImage.noise(90_000, seed: 14).write(to: disk)
        let artifact = try Self.twice(
            [
                "oci", "push-artifact", "\(proxy.host)/team/app:disk-0.5.0", "\(disk.path):application/vnd.unisonos.disk.qcow2",
                "--artifact-type", "application/vnd.unisonos.release.v1", "--json",
            ], proxy: proxy)
        #expect(!artifact.first.uploads.isEmpty)
        #expect(artifact.second.uploads.isEmpty, "\(artifact.second.uploads)")
        #expect(artifact.second.blobUploadBytes == 0)
        let artifactReport = try JSONDecoder().decode(ArtifactPushReport.self, from: Data(artifact.outputs[1].utf8))
        #expect(artifactReport.blobBytesUploaded == 0)

        // What the registry holds is what was pushed: skopeo reads the image's manifest back.
        let raw = try TestProcess.run(["skopeo", "inspect", "--raw", "--tls-verify=false", "docker://\(registry.host)/team/app:v1"])
        #expect(Data(raw.utf8) == image.manifestBytes)
    }
}
