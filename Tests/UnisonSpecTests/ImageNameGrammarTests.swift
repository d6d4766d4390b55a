import Testing

@testable import UnisonSpec

/// The spec reads image references by the same grammar as the registry client (UnisonCore's
/// `ImageReferenceGrammar`), so a reference `spec validate` accepts is one a push can use.
@Suite(.tags(.unit)) struct ImageNameGrammarTests {
    @Test(arguments: ["[::1]:5000/x:y", "r-1.example.io:443/a/b:t", "localhost:5000/a"])
    func hostsTheRegistryClientAccepts(_ text: String) {
        #expect(ImageName(text) != nil)
    }

    @Test(arguments: [
        "a/b___c", "a/b._c", "-r.io/a", "r-.io/a", "r..io/a", "r.io:+80/a", "r.io:0/a", "a/b\u{0}c", "a/b\nc:t",
        "a/b:t\u{7f}", "a/b:" + String(repeating: "t", count: 129),
    ])
    func referencesTheRegistryClientRefuses(_ text: String) {
        #expect(ImageName(text) == nil)
    }

    @Test func partsAsWritten() throws {
        let digest = "sha256:" + String(repeating: "0f", count: 32)
        let name = try #require(ImageName("Registry.Example:5000/team/app:V1@\(digest)"))
        #expect(name.host == "Registry.Example:5000" && name.path == "team/app" && name.tag == "V1" && name.digest == digest)
        #expect(ImageName("team/app@" + digest.uppercased()) == nil)
    }
}
