import Foundation
import Testing
import UnisonCore
import UnisonTestSupport

@testable import UnisonRelease

/// The one reading of the compatibility matrix: cells in node-semver's range grammar, the table
/// headed `| Release |` (unison-docs) or `| platform |`, and the lenient scan `workspace check`
/// reports from, which agrees with `parse`.
@Suite(.tags(.unit)) struct CompatibilityMatrixGrammarTests {
    /// (cell, the comparators it means as `op+version` words, or nil when it is not a cell)
    @Test(
        arguments: [
            ("v1.2.3", "=1.2.3"), ("1.2.3-beta.1", "=1.2.3-beta.1"), ("=1.2.3", "=1.2.3"),
            (">=1.2.0 <1.3.0", ">=1.2.0 <1.3.0"), ("<=v2.0.0", "<=2.0.0"),
            ("0.1.x", ">=0.1.0 <0.2.0"), ("0.1.X", ">=0.1.0 <0.2.0"), ("1.x", ">=1.0.0 <2.0.0"), ("1.2.*", ">=1.2.0 <1.3.0"),
            ("1", ">=1.0.0 <2.0.0"), ("1.2", ">=1.2.0 <1.3.0"), ("*", ">=0.0.0"), ("x", ">=0.0.0"),
            ("~1.2.3", ">=1.2.3 <1.3.0"), ("~1.2", ">=1.2.0 <1.3.0"), ("~1", ">=1.0.0 <2.0.0"), ("~0.1.x", ">=0.1.0 <0.2.0"),
            ("^1.2.3", ">=1.2.3 <2.0.0"), ("^0.2.3", ">=0.2.3 <0.3.0"), ("^0.0.3", ">=0.0.3 <0.0.4"), ("^1.2.x", ">=1.2.0 <2.0.0"),
            ("^0.0.x", ">=0.0.0 <0.1.0"), ("^0.x", ">=0.0.0 <1.0.0"), ("^0.1.0-rc.1", ">=0.1.0-rc.1 <0.2.0"),
            (">=1.2", ">=1.2.0"), (">1.2", ">=1.3.0"), ("<1.2", "<1.2.0"), ("<=1.2", "<1.3.0"),
            ("latest", nil), ("v1.02.3", nil), ("1.x.2", nil), ("—", nil), ("n/a", nil), (">= v1.2.0", nil), ("1.2.3.4", nil),
            ("^", nil), ("~>1.2", nil), ("1.2.3 - 2.0.0", nil), ("1.x || 2.x", nil),
        ] as [(String, String?)])
    func cells(_ text: String, _ meaning: String?) {
        let constraint = VersionConstraint(text)
        #expect(constraint?.comparators.map { $0.op.rawValue + $0.version.description }.joined(separator: " ") == meaning)
        #expect(constraint.map { $0.text == text } ?? true)  // kept as written
    }

    @Test func rangesFollowSemVerPrecedence() throws {
        func ok(_ cell: String, _ version: String) throws -> Bool {
            let constraint = try #require(VersionConstraint(cell))
            return constraint.isSatisfied(by: try #require(SemVer(version)))
        }
        #expect(try ok(">=1.2.0 <1.3.0", "1.2.0") && ok(">=1.2.0 <1.3.0", "1.2.9"))
        #expect(try !ok(">=1.2.0 <1.3.0", "1.3.0") && !ok(">=1.2.0 <1.3.0", "1.1.9"))
        #expect(try !ok(">=1.2.0 <1.3.0", "1.2.5-rc.1"))  // a pre-release needs a pre-release comparator
        #expect(try ok(">=1.3.0-beta.1 <1.4.0", "1.3.0-beta.2"))
        #expect(try ok("v1.2.3", "1.2.3+build.7"))
        #expect(try ok("0.1.x", "v0.1.7") && !ok("0.1.x", "0.2.0") && !ok("0.1.x", "0.0.9"))
        #expect(try ok("^0.1.2", "0.1.9") && !ok("^0.1.2", "0.1.1") && !ok("^0.1.2", "0.2.0"))
        #expect(try ok("~1.2.3", "1.2.8") && !ok("~1.2.3", "1.3.0"))
        #expect(try !ok("0.1.x", "0.1.5-beta.1"))
    }

    @Test func unsetCells() {
        #expect(CompatibilityMatrix.cell("") == .unset && CompatibilityMatrix.cell("-") == .unset)
        #expect(CompatibilityMatrix.cell("latest") == .invalid("latest"))
    }

    /// unison-docs `dev/compatibility-matrix.md` as it is written: `Release` header, repository
    /// columns, x-range cells, platform versions without `v`.
    static let unisonDocs = """
        # Compatibility Matrix

        | Release | unison-orchestrator | unison-context | unison-io-speech | unison-io-canvas | unison-gen | unison-policy | unison-storage | unison-hal |
        |---------|---------------------|----------------|------------------|------------------|------------|---------------|----------------|-----------|
        | 0.0.1   | 0.1.x               | 0.1.x          | 0.1.x            | 0.1.x            | 0.1.x      | 0.1.x         | 0.1.x          | 0.1.x     |

        """

    @Test func theRealFormatIsRead() throws {
        let matrix = try CompatibilityMatrix.parse(markdown: Self.unisonDocs, path: "dev/compatibility-matrix.md")
        #expect(matrix.firstColumn == "Release")
        #expect(matrix.services.first == "unison-orchestrator" && matrix.services.last == "unison-hal" && matrix.services.count == 8)
        let row = try #require(matrix.row(for: SemVer(0, 0, 1)))
        #expect(row.services["unison-gen"]?.text == "0.1.x")
        let check = matrix.check(installed: ["unison-orchestrator": SemVer(0, 1, 4)], platform: SemVer(0, 0, 1))
        #expect(
            check.differences.map(\.service) == [
                "unison-context", "unison-io-speech", "unison-io-canvas", "unison-gen", "unison-policy", "unison-storage", "unison-hal",
            ])
        // Written back with its own header word; read back the same.
        let rendered = matrix.markdown()
        #expect(rendered.contains("| Release | unison-orchestrator |"))
        #expect(try CompatibilityMatrix.parse(markdown: rendered) == matrix)
    }

    @Test func tableIsFoundWithItsLines() throws {
        let text = """
            # Matrix

            ```
            | platform | x |
            |---|---|
            ```

            Intro | with a pipe
            | Platform | `auth` | orchestrator |
            |:---|:---:|---:|
            | v0.4.0 | v0.4.1 | `>=0.4.0 <0.5.0` |
            | v0.3.0 | a\\|b | - |
            | v0.2.0 | v0.2.0 |
            after the table

            | platform | later |
            """
        let scan = try #require(CompatibilityMatrix.scan(markdown: text))
        #expect(scan.headerLine == 9 && scan.firstColumn == "Platform" && scan.hasDelimiter)
        #expect(scan.columns == ["auth", "orchestrator"])
        #expect(scan.rows.map(\.line) == [11, 12, 13])
        #expect(scan.rows[0].cells.map(\.value) == [.constraint(VersionConstraint("v0.4.1")!), .constraint(VersionConstraint(">=0.4.0 <0.5.0")!)])
        #expect(scan.rows[1].cells.map(\.text) == ["a|b", "-"])
        #expect(scan.rows.map(\.cellCount) == [3, 3, 2])
        #expect(CompatibilityMatrix.scan(markdown: "| service | v |\n|---|---|\n") == nil)
        let real = try #require(CompatibilityMatrix.scan(markdown: Self.unisonDocs))
        #expect(real.headerLine == 3 && real.rows.map(\.line) == [5] && real.rows[0].platform == SemVer(0, 0, 1))
    }

    /// What the scan reads without a problem, `parse` accepts, and the other way round.
    @Test(arguments: [
        "| platform | auth |\n|---|---|\n| v0.4.0 | v0.4.1 |\n| 0.3.0 | `>=0.3.0 <0.4.0` |\n| v0.2.0 | - |\n",
        "| Release | auth |\n|---|---|\n| 0.0.1 | 0.1.x |\n| 0.0.2 | ^0.2.0 |\n",
        "| platform | auth |\n|---|---|\n| v0.4.0 | latest |\n",
        "| platform | auth |\n|---|---|\n| v0.4.0 | v1 | v2 |\n",
        "| platform | auth |\n|---|---|\n| v0.4.0 | v1.0.0 |\n| v0.4.0 | v1.0.0 |\n",
        "| platform | auth |\n|---|---|\n| 0.x | v1.0.0 |\n",
    ])
    func scanAgreesWithParse(_ text: String) throws {
        let scan = try #require(CompatibilityMatrix.scan(markdown: text))
        var seen: Set<String> = []
        let clean = scan.rows.allSatisfy { row in
            row.platform != nil && row.cellCount == scan.columns.count + 1 && seen.insert(row.platform!.description).inserted
                && row.cells.allSatisfy { if case .invalid = $0.value { return false } else { return true } }
        }
        let parsed = Result { try CompatibilityMatrix.parse(markdown: text) }
        #expect(clean == ((try? parsed.get()) != nil))
    }
}
