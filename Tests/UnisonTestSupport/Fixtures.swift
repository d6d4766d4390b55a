import Foundation

/// Fixture files more than one test target (or a script) reads: Tests/UnisonTestSupport/Fixtures.
package enum TestFixtures {
    package static let directory = Unisonctl.repoRoot.appendingPathComponent("Tests/UnisonTestSupport/Fixtures")

    package static func url(_ relativePath: String) -> URL { directory.appendingPathComponent(relativePath) }

    /// The test stack's spec (`stack/stack.yaml`, also read by scripts/check-stack-boot.sh) with
    /// `base` (a `bases:` list entry, ending in a newline) in place of its `@BASE@` line.
    package static func stackSpec(base: String) throws -> String {
        let template = try String(contentsOf: url("stack/stack.yaml"), encoding: .utf8)
        guard let marker = template.range(of: "@BASE@\n") else {
            throw CocoaError(.fileReadCorruptFile, userInfo: [NSFilePathErrorKey: url("stack/stack.yaml").path])
        }
        return template.replacingCharacters(in: marker, with: base)
    }
}
