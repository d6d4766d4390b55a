import Foundation
import Testing
import UnisonTestSupport

@testable import UnisonSpec

/// `release.signingKeys`: OpenSSH Ed25519 public keys, each checked where it is written.
@Suite(.tags(.unit)) struct SigningKeysTests {
    static let good = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILlQWLHjfobVJXbv3npEb0oYXccSlVeeZp4iBctNLGbC release"

    static func load(_ keys: [String]) throws -> PlatformSpec {
        var text = try String(contentsOf: fixtures.appendingPathComponent("minimal.yaml"), encoding: .utf8)
        if !text.hasSuffix("\n") { text += "\n" }
        text += "release:\n  signingKeys:\n" + keys.map { "    - \"\($0)\"\n" }.joined()
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("signing-keys-\(UUID().uuidString).yaml")
        try Data(text.utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        return try SpecLoader.load(file: url)
    }

    @Test func aGoodKeyIsKept() throws {
        #expect(try Self.load([Self.good]).release.signingKeys == [Self.good])
        #expect(ReleaseSettings.isEd25519PublicKey(Self.good))
    }

    @Test func aBadKeyIsLocated() throws {
        let minimal = try String(contentsOf: fixtures.appendingPathComponent("minimal.yaml"), encoding: .utf8)
        let lines = minimal.split(separator: "\n", omittingEmptySubsequences: false).count - (minimal.hasSuffix("\n") ? 1 : 0)
        let error = try #require(throws: SpecError.self) { try Self.load([Self.good, "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ x"]) }
        #expect(error.diagnostics.count == 1)
        let d = try #require(error.diagnostics.first)
        #expect(d.message.contains("release.signingKeys[1] is not an OpenSSH Ed25519 public key"))
        #expect(d.line == lines + 4 && d.column == 7)
    }
}
