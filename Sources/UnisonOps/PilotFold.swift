import FoundationEssentials
import UnisonCore
import UnisonRelease
import UnisonSpec

/// Folds pilot reports into the compatibility matrix document: the releases × services table
/// stays as written (read with `CompatibilityMatrix`, the one reader of that format), and a
/// `## Tested hardware` section below it counts, per target × release × hardware class, the
/// reports whose first boot passed or failed. The section remembers which reports it counted
/// (short SHA-256 of each file) so ingesting a report twice counts it once.
///
///     ## Tested hardware
///
///     <!-- unisonctl compat ingest: counts from pilot reports; reports: 0123abcd…,… -->
///
///     | Target | Release | Hardware | Passed | Failed |
///     |---|---|---|---|---|
///     | vm | 0.5.0 | 4 cores, 8GiB RAM, 128GiB disk, AVX2, GPU none | 3 | 1 |
package enum PilotFold {
    package static let heading = "## Tested hardware"
    static let commentPrefix = "<!-- unisonctl compat ingest: counts from pilot reports (passed: first boot completed); reports: "

    package struct Row: Sendable, Codable, Equatable {
        package var target: String
        package var release: String
        package var hardware: String
        package var passed: Int
        package var failed: Int
    }

    package struct Result: Sendable, Codable, Equatable {
        package var schema = "unisonctl.compat-ingest/v1"
        package var ingested: Int
        package var alreadyCounted: Int
        package var rows: [Row]
        /// Releases pilots ran that have no row in the releases × services table.
        package var releasesMissingFromMatrix: [String]
        package var suggestions: [String]
    }

    /// A report read from a file, with the digest that identifies it.
    package struct Input: Sendable {
        package var digest: String
        package var report: PilotReport
        package init(digest: String, report: PilotReport) {
            self.digest = digest
            self.report = report
        }
    }

    package static func hardwareClass(_ h: PilotReport.Hardware) -> String {
        let simd = h.avx512 ? "AVX-512" : h.avx2 ? "AVX2" : h.avx ? "AVX" : "no AVX"
        return "\(h.cores) cores, \(h.ramClass) RAM, \(h.diskClass) disk, \(simd), GPU \(h.gpu.joined(separator: "+"))"
    }

    /// The section's rows and counted digests, read back from the document.
    static func readSection(_ markdown: String) -> (rows: [Row], digests: [String]) {
        let lines = markdown.scalarComponents(separatedBy: "\n")
        guard let start = lines.firstIndex(where: { $0.trimming(.whitespaces) == heading }) else { return ([], []) }
        var rows: [Row] = []
        var digests: [String] = []
        for line in lines[(start + 1)...] {
            if line.hasPrefix("## ") { break }
            if line.hasPrefix(commentPrefix), let end = line.firstRange(of: " -->") {
                digests = line[line.index(line.startIndex, offsetBy: commentPrefix.count)..<end.lowerBound]
                    .split(separator: ",").map(String.init)
                continue
            }
            guard line.hasPrefix("|") else { continue }
            let cells = MarkdownTable.cells(line)
            guard cells.count == 5, let passed = Int(cells[3]), let failed = Int(cells[4]) else { continue }
            rows.append(Row(target: cells[0], release: cells[1], hardware: cells[2], passed: passed, failed: failed))
        }
        return (rows, digests)
    }

    static func render(rows: [Row], digests: [String]) -> String {
        var out = "\(heading)\n\n\(commentPrefix)\(digests.joined(separator: ",")) -->\n\n"
        out += "| Target | Release | Hardware | Passed | Failed |\n|---|---|---|---|---|\n"
        for r in rows {
            let cells = [r.target, r.release, r.hardware, String(r.passed), String(r.failed)]
            out += MarkdownTable.row(cells.map(MarkdownTable.escape)) + "\n"
        }
        return out
    }

    /// The document with the section updated, and what was counted. `markdown` must already
    /// hold a matrix `CompatibilityMatrix.parse` accepts; the result is checked the same way.
    package static func fold(markdown: String, path: String, reports: [Input], spec: PlatformSpec?) throws -> (markdown: String, result: Result) {
        let matrix = try CompatibilityMatrix.parse(markdown: markdown, path: path)
        var (rows, digests) = readSection(markdown)
        var seen = Set(digests)
        var ingested = 0, already = 0
        var fresh: [PilotReport] = []
        for input in reports {
            let id = String(input.digest.prefix(16))
            guard !seen.contains(id) else { already += 1; continue }
            seen.insert(id)
            digests.append(id)
            ingested += 1
            fresh.append(input.report)
            let r = input.report
            let key = (r.target, r.release.version, hardwareClass(r.hardware))
            let ok = r.firstBoot.outcome == "ok"
            if let i = rows.firstIndex(where: { ($0.target, $0.release, $0.hardware) == key }) {
                if ok { rows[i].passed += 1 } else { rows[i].failed += 1 }
            } else {
                rows.append(Row(target: key.0, release: key.1, hardware: key.2, passed: ok ? 1 : 0, failed: ok ? 0 : 1))
            }
        }
        rows.sort { a, b in
            let va = SemVer(a.release), vb = SemVer(b.release)
            if a.release != b.release, let va, let vb { return vb < va }
            return (a.target, a.release, a.hardware) < (b.target, b.release, b.hardware)
        }
        let section = render(rows: rows, digests: digests)
        let text = splice(markdown, section: section)
        _ = try CompatibilityMatrix.parse(markdown: text, path: path)
        let all = reports.map(\.report)
        let missing = Set(all.map(\.release.version)).filter { v in SemVer(v).map { matrix.row(for: $0) == nil } ?? true }.sorted()
        return (
            text,
            Result(
                ingested: ingested, alreadyCounted: already, rows: rows, releasesMissingFromMatrix: missing,
                suggestions: suggestions(all, spec: spec))
        )
    }

    /// Replaces the section (up to the next `## ` heading) or appends it.
    static func splice(_ markdown: String, section: String) -> String {
        var lines = markdown.scalarComponents(separatedBy: "\n")
        if let start = lines.firstIndex(where: { $0.trimming(.whitespaces) == heading }) {
            let end = lines[(start + 1)...].firstIndex { $0.hasPrefix("## ") } ?? lines.count
            var replacement = section.scalarComponents(separatedBy: "\n")
            if end < lines.count { /* keep a blank line before the next heading */  } else if replacement.last == "" { replacement.removeLast() }
            lines.replaceSubrange(start..<end, with: replacement)
            var text = lines.joined(separator: "\n")
            if !text.hasSuffix("\n") { text += "\n" }
            return text
        }
        var text = markdown
        if !text.hasSuffix("\n") { text += "\n" }
        return text + "\n" + section
    }

    /// What the reports suggest for the defaults, in words: packs too large for the RAM most
    /// pilots have, targets whose first boot fails, disks below a pack's minimum, unverified models.
    package static func suggestions(_ reports: [PilotReport], spec: PlatformSpec?) -> [String] {
        var out: [String] = []
        if let spec {
            for pack in spec.models.packs {
                let using = reports.filter { $0.models.pack == pack.name }
                guard !using.isEmpty else { continue }
                let short = using.filter { (classBytes($0.hardware.ramClass) ?? .max) < pack.minRam.bytes }
                if short.count * 2 > using.count {
                    let smaller = spec.models.packs.filter { p in p.minRam.bytes < pack.minRam.bytes }.max { $0.minRam.bytes < $1.minRam.bytes }
                    out.append(
                        "model pack '\(pack.name)' needs \(pack.minRam) of RAM, but \(short.count) of \(using.count) pilots using it have less"
                            + (smaller.map { "; make '\($0.name)' the default for those machines" } ?? ""))
                }
                let smallDisk = using.filter { (classBytes($0.hardware.diskClass) ?? .max) < pack.minDisk.bytes }
                if !smallDisk.isEmpty {
                    out.append(
                        "\(smallDisk.count) of \(using.count) pilots using '\(pack.name)' have a root disk below its \(pack.minDisk) minimum; raise targets.vm.diskSize (now \(spec.targets.vm.map { "\($0.diskSize)" } ?? "unset")) or document the minimum"
                    )
                }
            }
        }
        for target in Set(reports.map(\.target)).sorted() {
            let all = reports.filter { $0.target == target }
            let failed = all.filter { $0.firstBoot.outcome == "failed" }
            if !failed.isEmpty, failed.count * 2 >= all.count {
                let steps = Set(failed.compactMap(\.firstBoot.failedStep)).sorted()
                out.append(
                    "target \(target): first boot failed on \(failed.count) of \(all.count) reports"
                        + (steps.isEmpty ? "" : " (at \(steps.joined(separator: ", ")))"))
            }
        }
        let diskErrors = reports.filter { $0.doctor.contains { $0.check.contains("disk") && $0.level == "error" } }
        if !diskErrors.isEmpty {
            out.append("the doctor found too little disk on \(diskErrors.count) of \(reports.count) machines")
        }
        let unverified = reports.filter { $0.models.verified == false }
        if !unverified.isEmpty {
            out.append("preloaded models failed verification on \(unverified.count) of \(reports.count) machines")
        }
        let noAnswers = reports.filter { $0.answers.source == "none" }
        if !noAnswers.isEmpty {
            out.append(
                "\(noAnswers.count) of \(reports.count) machines booted without answers; make the CIDATA step more visible in the install docs")
        }
        return out
    }

    /// `8GiB` → bytes; nil for `unknown`.
    static func classBytes(_ text: String) -> Int64? {
        if text.hasSuffix("TiB"), let n = Int64(text.dropLast(3)) { return n << 40 }
        if text.hasSuffix("GiB"), let n = Int64(text.dropLast(3)) { return n << 30 }
        return nil
    }
}
