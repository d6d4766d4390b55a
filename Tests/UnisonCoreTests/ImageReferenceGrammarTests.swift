import Foundation
import Testing

@testable import UnisonCore

@Suite(.tags(.unit)) struct ImageReferenceGrammarTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var text: String
        var host: String?
        var path: String
        var tag: String?
        var digest: String?
        var testDescription: String { text }
    }

    static let digest = "sha256:" + String(repeating: "ab", count: 32)

    @Test(arguments: [
        Case(text: "ubuntu", host: nil, path: "ubuntu"),
        Case(text: "ubuntu:24.04", host: nil, path: "ubuntu", tag: "24.04"),
        Case(text: "ghcr.io/project-unisonos/unison-auth:v1", host: "ghcr.io", path: "project-unisonos/unison-auth", tag: "v1"),
        Case(text: "localhost:5000/team/app", host: "localhost:5000", path: "team/app"),
        Case(text: "localhost/app", host: "localhost", path: "app"),
        Case(text: "team/app@\(digest)", host: nil, path: "team/app", digest: digest),
        Case(text: "r.io:443/a/b:t@\(digest)", host: "r.io:443", path: "a/b", tag: "t", digest: digest),
        // A colon before the last slash is the port, not a tag.
        Case(text: "r.io:443/a", host: "r.io:443", path: "a"),
        // One component is never a host, whatever it holds.
        Case(text: "r.io", host: nil, path: "r.io"),
        // Nothing is judged: empty components and an empty tag come back as written.
        Case(text: "a//b:", host: nil, path: "a//b", tag: ""),
    ])
    func splits(_ c: Case) {
        let parts = ImageReferenceGrammar.split(Substring(c.text))
        #expect(parts.host.map(String.init) == c.host)
        #expect(parts.path == c.path)
        #expect(parts.tag.map(String.init) == c.tag)
        #expect(parts.digest.map(String.init) == c.digest)
        // The parts written back in order are the text again.
        var back = (parts.host.map { "\($0)/" } ?? "") + parts.path
        if let tag = parts.tag { back += ":\(tag)" }
        if let digest = parts.digest { back += "@\(digest)" }
        #expect(back == c.text)
    }

    @Test func callersMayNameMoreHosts() {
        #expect(ImageReferenceGrammar.split("Registry/app").host == nil)
        #expect(ImageReferenceGrammar.split("Registry/app", alsoHost: { $0.contains(where: \.isUppercase) }).host == "Registry")
    }

    @Test(arguments: ["a", "a0", "a.b", "a_b", "a__b", "a-b", "a---b", "0x.y_z"])
    func pathComponents(_ s: String) { #expect(ImageReferenceGrammar.isPathComponent(s)) }

    @Test(arguments: ["", "A", "-a", "a-", "a..b", "a._b", "a___b", "a b", "a\u{0}b", "a\nb", "é", "a/b", ".a"])
    func notPathComponents(_ s: String) { #expect(!ImageReferenceGrammar.isPathComponent(s)) }

    @Test func tags() {
        #expect(ImageReferenceGrammar.isTag("v1.2.3-rc.1_x"))
        #expect(ImageReferenceGrammar.isTag("_"))
        #expect(ImageReferenceGrammar.isTag(String(repeating: "a", count: 128)))
        #expect(!ImageReferenceGrammar.isTag(String(repeating: "a", count: 129)))
        for bad in ["", ".v1", "-v1", "v1\n", "v\u{7f}", "v 1", "vé", "v1:2", "v\u{2028}"] {
            #expect(!ImageReferenceGrammar.isTag(bad), "\(bad.debugDescription)")
        }
    }

    @Test func hosts() {
        for good in ["ghcr.io", "localhost", "localhost:5000", "127.0.0.1:65535", "[::1]", "[::1]:5000", "Reg-1.io"] {
            #expect(ImageReferenceGrammar.isHost(good), "\(good)")
        }
        for bad in [
            "", ":5000", "r.io:0", "r.io:65536", "r.io:+1", "r.io:5000:1", "-r.io", "r-.io", "r..io", "[::1", "[zz]", "[::1]:x",
            "r io", "r\u{0}.io", "ré.io", String(repeating: "9", count: 40) + ".io:" + String(repeating: "9", count: 40),
        ] {
            #expect(!ImageReferenceGrammar.isHost(bad), "\(bad.debugDescription)")
        }
    }

    @Test func sha256Digests() {
        #expect(ImageReferenceGrammar.isSHA256Digest(Self.digest))
        #expect(!ImageReferenceGrammar.isSHA256Digest(Self.digest.uppercased()))
        #expect(!ImageReferenceGrammar.isSHA256Digest(Self.digest + "0"))
        #expect(!ImageReferenceGrammar.isSHA256Digest("sha512:" + String(repeating: "ab", count: 32)))
        #expect(!ImageReferenceGrammar.isSHA256Digest("sha256:" + String(repeating: "０", count: 64)), "full-width digits are not hex")
    }

    @Test func overLongTextSplitsWithoutTrouble() {
        let long = String(repeating: "a/", count: 50_000) + "b:" + String(repeating: "t", count: 10_000)
        let parts = ImageReferenceGrammar.split(Substring(long))
        #expect(parts.components.count == 50_001)
        #expect(parts.tag?.count == 10_000)
        #expect(parts.tag.map { ImageReferenceGrammar.isTag($0) } == false)
    }
}
