// The CLI side of credential binding: `unisonctl oci` run against the hostile registry
// (Tests/UnisonTestSupport/HostileRegistry.swift) sends credentials to their origin only and
// escapes what a registry says. The library side stays in UnisonOCITests/CredentialBindingTests.swift.
import Foundation
import Testing
import UnisonTestSupport

@Suite("Registry credentials stay with their origin (unisonctl)", .tags(.interop))
struct CredentialBindingCLITests {
    @Test("oci push --username/--password-stdin sends nothing to a foreign upload Location")
    func cliPush() throws {
        let hostile = try HostileRegistry()
        defer { hostile.stop() }
        let tmp = try TempDir()
        let image = try TestImage.make(layout: tmp.path("src"), tag: "v1", layerFiles: [["a": Data("hello".utf8)]])
        let push = try OCICLI.run(
            [
                "oci", "push", "oci:\(image.layout.path):v1", "\(hostile.host)/team/app:v1",
                "--username", HostileRegistry.user, "--password-stdin", "--retries", "1",
            ],
            input: Data("\(HostileRegistry.password)\n".utf8))
        #expect(push.status != 0)
        #expect(!push.stderr.contains(HostileRegistry.password))
        let collector = try hostile.log().filter { $0.listener == "collector" }
        #expect(!collector.isEmpty)
        #expect(collector.allSatisfy { $0.authorization == nil })
    }

    @Test("terminal control sequences in a registry's error bodies are escaped, not replayed", arguments: ["escape", "escape-json"])
    func escapedErrorBodies(repo: String) throws {
        let hostile = try HostileRegistry()
        defer { hostile.stop() }
        let cli = try OCICLI.run(
            [
                "oci", "ls", "\(hostile.host)/team/\(repo)", "--username", HostileRegistry.user, "--password-stdin",
                "--retries", "1",
            ], input: Data("\(HostileRegistry.password)\n".utf8))
        #expect(cli.status != 0)
        #expect(!cli.stderr.unicodeScalars.contains { $0.value == 0x1b || $0.value == 0x07 || $0.value == 0x0d }, "\(cli.stderr.debugDescription)")
        #expect(cli.stderr.contains("\\x1b"), "\(cli.stderr)")
    }
}
