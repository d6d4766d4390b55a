import UnisonCore
import UnisonRelease

/// The compatibility matrix (`docs/compatibility-matrix.md` of unison-docs) read for the
/// workspace checks. The grammar is UnisonRelease's (`CompatibilityMatrix`, `VersionConstraint`),
/// so that a matrix this check accepts is one the release tooling reads; unlike
/// `CompatibilityMatrix.parse`, which stops at the first problem, this scan keeps going and
/// keeps the line of every row, so that each gap becomes its own finding:
///
///     | platform | orchestrator | auth           | …
///     |----------|--------------|----------------|
///     | v0.4.0   | v0.4.2       | >=0.4.0 <0.5.0 |
///
/// The table is the first one whose header row starts with `| platform |`, outside code
/// blocks. A cell is a version (`v1.2.3`, `1.2.3`), comparators that must all hold
/// (`>=1.2.0 <1.3.0`; `=`, `>`, `>=`, `<`, `<=`), or empty / `-`: the service is not part of that
/// release. Backticks around a cell are ignored.
struct CompatMatrixScan {
    enum Cell: Equatable {
        case unset
        case constraint(VersionConstraint)
        case invalid(String)

        /// True when `version` is what the cell asks for. A pre-release satisfies a range only
        /// when one of its comparators is itself a pre-release of the same major.minor.patch
        /// (as npm's semver does), so `>=1.2.0 <1.3.0` is not met by `1.2.5-rc.1` alone.
        func accepts(_ version: SemVer) -> Bool {
            guard case let .constraint(constraint) = self else { return false }
            if constraint.exactVersion == nil, version.isPrerelease, !constraint.comparators.contains(where: {
                $0.version.isPrerelease && $0.version.major == version.major && $0.version.minor == version.minor && $0.version.patch == version.patch
            }) { return false }
            return constraint.isSatisfied(by: version)
        }
    }

    struct Row {
        var line: Int
        var platformText: String
        var platform: SemVer?
        /// Number of cells, the platform cell included.
        var cellCount: Int
        var cells: [(column: String, text: String, cell: Cell)]
    }

    /// Header line (1-based).
    var headerLine: Int
    /// Service column names, in order (the `platform` column excluded).
    var columns: [String]
    var rows: [Row]

    /// The matrix in `markdown`, or nil when it has no table headed `| platform |`.
    static func scan(markdown: String) -> CompatMatrixScan? {
        let lines = markdown.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var inFence = false
        for index in lines.indices {
            let trimmed = lines[index].trimmingSpaces
            if trimmed.hasPrefix("```") || trimmed.hasPrefix("~~~") { inFence.toggle(); continue }
            guard !inFence, trimmed.hasPrefix("|"), cells(trimmed).first?.lowercased() == "platform" else { continue }
            let header = cells(trimmed)
            var scan = CompatMatrixScan(headerLine: index + 1, columns: Array(header.dropFirst()), rows: [])
            var r = index + 1
            if r < lines.count, isDelimiterRow(lines[r]) { r += 1 }
            while r < lines.count, lines[r].trimmingSpaces.hasPrefix("|") {
                let values = cells(lines[r].trimmingSpaces)
                let platformText = values.first ?? ""
                var row = Row(line: r + 1, platformText: platformText, platform: SemVer(platformText), cellCount: values.count, cells: [])
                for (offset, column) in scan.columns.enumerated() {
                    let text = offset + 1 < values.count ? values[offset + 1] : ""
                    row.cells.append((column, text, parseCell(text)))
                }
                scan.rows.append(row)
                r += 1
            }
            return scan
        }
        return nil
    }

    /// `|---|:--:|`
    static func isDelimiterRow(_ line: String) -> Bool {
        let parts = cells(line.trimmingSpaces)
        return !parts.isEmpty && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy { $0 == "-" || $0 == ":" } }
    }

    /// Cells of a `| a | b |` row: split at pipes not escaped with `\`, trimmed, one pair of
    /// backticks around a cell removed (the same reading as `CompatibilityMatrix`).
    static func cells(_ line: String) -> [String] {
        var body = Substring(line)
        if body.hasPrefix("|") { body = body.dropFirst() }
        if body.hasSuffix("|"), !body.hasSuffix("\\|") { body = body.dropLast() }
        var out: [String] = []
        var current = ""
        var escaped = false
        for c in body {
            if escaped { current.append(c); escaped = false; continue }
            if c == "\\" { escaped = true; continue }
            if c == "|" { out.append(current); current = ""; continue }
            current.append(c)
        }
        out.append(current)
        return out.map { cell in
            var t = cell.trimmingSpaces
            if t.count >= 2, t.hasPrefix("`"), t.hasSuffix("`") { t = String(t.dropFirst().dropLast()) }
            return t
        }
    }

    static func parseCell(_ text: String) -> Cell {
        if text.isEmpty || text == "-" { return .unset }
        return VersionConstraint(text).map(Cell.constraint) ?? .invalid(text)
    }
}
