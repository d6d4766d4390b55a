import Foundation
import Testing
import UnisonSpec
import UnisonTestSupport

@testable import UnisonImage

/// `image build all` resolves one request per target, in build order, each with the spec's
/// settings; nothing is built here.
@Suite("Image build all: the requests it resolves", .tags(.unit))
struct ImageBuildRequestAllTests {
    static func document(_ text: String) throws -> SpecDocument {
        let url = URL(fileURLWithPath: "/nonexistent/unison.yaml")
        return SpecDocument(url: url, text: text, spec: try SpecLoader.load(text: text, file: url.path))
    }

    /// The kinds of `requests`' targets, in order.
    static func kinds(_ requests: [ImageBuildRequest]) -> [String] {
        requests.flatMap(\.targets).map { target in
            switch target {
            case is WSLImage: "wsl"
            case is VMImage: "vm"
            case is ISOImage: "iso"
            default: "other"
            }
        }
    }

    @Test("every target the shipped spec defines, wsl then vm then iso; a narrowed list keeps that order")
    func shippedSpec() throws {
        let text = try String(contentsOf: Repo.spec, encoding: .utf8)
        let document = SpecDocument(url: Repo.spec, text: text, spec: try SpecLoader.load(text: text, file: Repo.spec.path))
        let flags = ImageBuildFlags(unisonctlBinary: "/bin/sh")
        #expect(Self.kinds(try ImageBuildRequest.all(document, targets: nil, flags: flags)) == ["wsl", "vm", "iso"])
        #expect(Self.kinds(try ImageBuildRequest.all(document, targets: ["iso", "wsl"], flags: flags)) == ["wsl", "iso"])
        let requests = try ImageBuildRequest.all(document, targets: ["vm"], flags: flags)
        #expect(requests.map(\.version) == [ImageVersion(document.spec.platform.version)])
        #expect(requests.map(\.outputDirectory) == [Repo.root.appendingPathComponent(document.spec.release.artifacts)])
    }

    @Test("a spec with one target gives one request; naming a target it lacks, or having none, is refused")
    func missingTargets() throws {
        let flags = ImageBuildFlags(unisonctlBinary: "/bin/sh")
        let one = try Self.document(TestSpec.yaml)
        #expect(Self.kinds(try ImageBuildRequest.all(one, targets: nil, flags: flags)) == ["wsl"])
        #expect(throws: (any Error).self) { try ImageBuildRequest.all(one, targets: ["vm"], flags: flags) }
        let none = try Self.document(TestSpec.yaml.replacingOccurrences(of: "  wsl: {base: deb, models: light}\n", with: "  {}\n"))
        #expect(throws: ImageRequestError.noTargets) { try ImageBuildRequest.all(none, targets: nil, flags: flags) }
    }
}
