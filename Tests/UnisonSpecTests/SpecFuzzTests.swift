import Foundation
import Testing
import UnisonTestSupport

@testable import UnisonSpec

/// A bounded randomized test of the spec loader: mutants of the shipped spec either load or
/// give a SpecError with located diagnostics; none crashes, none gives another error.
@Suite("spec loader, randomized", .tags(.unit))
struct SpecFuzzTests {
    @Test("400 mutants of unison.yaml: a spec or a SpecError, never a crash")
    func mutants() throws {
        let base = Array(try Data(contentsOf: repoRoot.appendingPathComponent("unison.yaml")))
        var state: UInt64 = 0x5bec
        func next() -> UInt64 {
            state &+= 0x9e37_79b9_7f4a_7c15
            var z = state
            z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
            z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
            return z ^ (z >> 31)
        }
        let tokens: [[UInt8]] =
            [
                "\n", ": ", "- ", "{", "[", "\"", "'", "$(touch /tmp/x)", "..", "99999999999999999999", "-1",
                "*a", "&a ", "!!binary ", "\t", "%", "\\", "\u{0}", "\u{202E}", "---\n", "? ",
            ].map { Array($0.utf8) }
            + [[0xff], [0xc3], [0xe2, 0x82], [0xed, 0xa0, 0x80]]
        let dir = try TempDir.create("spec-fuzz")
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("unison.yaml")
        var loaded = 0, refused = 0
        for i in 0..<400 {
            var bytes = base
            for _ in 0..<(1 + Int(next() % 3)) {
                let at = Int(next() % UInt64(bytes.count))
                switch next() % 3 {
                case 0: bytes.insert(contentsOf: tokens[Int(next() % UInt64(tokens.count))], at: at)
                case 1: bytes.removeSubrange(at..<min(bytes.count, at + 1 + Int(next() % 40)))
                default: bytes[at] = UInt8(truncatingIfNeeded: next() % 128)
                }
            }
            do {
                if i % 4 == 0 {
                    try Data(bytes).write(to: file)
                    _ = try SpecLoader.load(file: file)
                } else {
                    _ = try SpecLoader.load(text: String(decoding: bytes, as: UTF8.self))
                }
                loaded += 1
            } catch let error as SpecError {
                refused += 1
                #expect(!error.diagnostics.isEmpty)
                #expect(error.diagnostics.allSatisfy { $0.line >= 1 && $0.column >= 1 && !$0.description.contains("\n") })
            } catch {
                Issue.record("mutant \(i): not a SpecError: \(error)")
            }
        }
        #expect(refused > 100, "the mutations should break most specs (\(loaded) loaded)")
    }
}
