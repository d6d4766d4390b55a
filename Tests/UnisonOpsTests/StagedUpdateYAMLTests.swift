import Foundation
import Testing
import UnisonCore

@testable import UnisonOps

/// The next-boot override is written by the one YAML emitter (UnisonInstall's `YAMLValue`):
/// PyYAML, an independent parser, reads back every service name and image as written, however
/// hostile the image text.
@Suite(.tags(.interop)) struct StagedUpdateYAMLTests {
    @Test func hostileImagesReadBackExactly() throws {
        let images: [(service: String, image: String)] = [
            ("auth", "ghcr.io/project-unisonos/unison-auth:v1"),
            ("yes", "quote\" and \\ backslash"),
            ("1st", "line\nbreak\r\tand\u{0}nul\u{7f}"),
            ("_x.y-z", "# not a comment: {not: a map}, [not, a list]"),
            ("null", String(repeating: "long-", count: 20_000)),
        ]
        let text = StagedUpdate.overrideYAML(images: images, planID: "plan\nINJECTED: 1")
        #expect(!text.contains("INJECTED"), "an unsafe plan id is not written")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("staged-yaml-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("override.yaml")
        try Data(text.utf8).write(to: file)
        let parsed = try SystemProcessRunner().check([
            "python3", "-c", "import sys, yaml, json; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))", file.path,
        ])
        let object = try #require(try JSONSerialization.jsonObject(with: parsed.stdout) as? [String: [String: [String: String]]])
        #expect(object["services"]?.count == images.count)
        for (service, image) in images {
            #expect(object["services"]?[service]?["image"] == image, "\(service)")
        }
    }

    @Test func noImagesIsAnEmptyMapping() {
        #expect(StagedUpdate.overrideYAML(images: [], planID: "p1").hasSuffix("# source plan: p1\nservices: {}\n"))
    }
}
