import ArgumentParser
import FoundationEssentials
import UnisonCore
import UnisonOps
import UnisonRelease
import UnisonSpec

extension CompatCommand {
    struct Ingest: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ingest",
            abstract: "Fold pilot reports into the matrix document's tested-hardware table and print what they suggest for the defaults.",
            discussion: """
                The releases × services table is kept as written; a '## Tested hardware' section counts, per target, \
                release and hardware class, the reports whose first boot passed or failed. Each report is counted once \
                (the section lists the reports' digests). The document is rewritten under a temporary name and renamed, \
                and must be a matrix `compat show` and `workspace check` read, before and after.
                """)

        @Argument(help: ArgumentHelp("Pilot reports (unisonctl pilot report --out).", valueName: "report"))
        var reports: [String]
        @Option(help: ArgumentHelp("The matrix document (unison-docs: dev/compatibility-matrix.md).", valueName: "file"))
        var matrix: String = "docs/compatibility-matrix.md"
        @Flag(help: "Print what would change without writing.")
        var dryRun = false
        @OptionGroup var specOptions: SpecOptions
        @OptionGroup var output: JSONOption

        func run() async throws {
            var inputs: [PilotFold.Input] = []
            for path in reports {
                guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("\(path): cannot be read") }
                guard data.count <= 1 << 20 else { throw ValidationError("\(path): \(data.count) bytes is not a pilot report") }
                let report: PilotReport
                do { report = try JSONDecoder().decode(PilotReport.self, from: data) } catch {
                    throw ValidationError("\(path): not a pilot report (\(error))")
                }
                guard report.schema == PilotReport.schemaID else {
                    throw ValidationError("\(path): schema '\(report.schema)', expected \(PilotReport.schemaID)")
                }
                inputs.append(PilotFold.Input(digest: SHA256Hex.hex(data), report: report))
            }
            let text: String
            do { text = try String(contentsOfFile: matrix, encoding: .utf8) } catch {
                throw ReleaseError.unreadable(path: matrix, reason: "no such file or not UTF-8")
            }
            let spec = InstalledSpec.load(specOptions)
            let (folded, result) = try PilotFold.fold(markdown: text, path: matrix, reports: inputs, spec: spec)
            if !dryRun, folded != text {
                try AtomicFile.write(Data(folded.utf8), to: URL(fileURLWithPath: matrix))
            }
            if output.json { try Output.json(result); return }
            print(
                "\(matrix): \(result.ingested) report\(result.ingested == 1 ? "" : "s") counted"
                    + (result.alreadyCounted > 0 ? ", \(result.alreadyCounted) already counted" : "") + (dryRun ? " (dry run, not written)" : ""))
            for r in result.rows { print("  \(r.target) \(r.release) [\(r.hardware)]: \(r.passed) passed, \(r.failed) failed") }
            for v in result.releasesMissingFromMatrix {
                print("note: release \(v) has no row in the matrix (add it with: unisonctl compat add --version \(v) …)")
            }
            if result.suggestions.isEmpty { print("no changes to the defaults suggested") }
            for s in result.suggestions { print("suggestion: \(s)") }
        }
    }
}
