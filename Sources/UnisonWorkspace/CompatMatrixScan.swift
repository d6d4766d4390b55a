import UnisonCore

/// A reader for the compatibility matrix (`docs/compatibility-matrix.md` of unison-docs) that
/// keeps line numbers, for the workspace checks. It stands in until UnisonRelease's
/// `CompatibilityMatrix.parse(markdown:)` lands; the format is the same:
///
///     | platform | orchestrator | auth           | …
///     |----------|--------------|----------------|
///     | v0.4.0   | v0.4.2       | >=0.4.0 <0.5.0 |
///
/// The table is the first GitHub-flavoured Markdown table whose first header cell is
/// `platform` (or `release`). A cell is a version (`v1.2.3`, `1.2.3`), a range of space-separated comparators
/// (`>=1.2.0 <1.3.0`; operators `>=`, `>`, `<=`, `<`, `=`), or empty (`""`, `-`, `—`, `n/a`):
/// the service is not part of that release. Backticks and bold markers around a cell are ignored.
struct CompatMatrixScan {
    struct Comparator: Equatable {
        enum Op: String { case ge = ">=", gt = ">", le = "<=", lt = "<", eq = "=" }
        var op: Op
        var version: SemVer

        func matches(_ v: SemVer) -> Bool {
            switch op {
            case .ge: return !(v < version)
            case .gt: return version < v
            case .le: return !(version < v)
            case .lt: return v < version
            case .eq: return v.hasSamePrecedence(as: version)
            }
        }
    }

    enum Cell: Equatable {
        case unset
        case exact(SemVer)
        case range([Comparator])
        case invalid(String)

        /// True when `version` is what the cell asks for. Pre-releases satisfy a range only
        /// when one of its comparators is itself a pre-release of the same major.minor.patch.
        func accepts(_ version: SemVer) -> Bool {
            switch self {
            case .unset, .invalid: return false
            case let .exact(v): return v.hasSamePrecedence(as: version)
            case let .range(comparators):
                if version.isPrerelease, !comparators.contains(where: {
                    $0.version.isPrerelease && $0.version.major == version.major && $0.version.minor == version.minor && $0.version.patch == version.patch
                }) { return false }
                return comparators.allSatisfy { $0.matches(version) }
            }
        }
    }

    struct Row {
        var line: Int
        var platformText: String
        var platform: SemVer?
        /// Cells by column name (the header text of each service column).
        var cells: [(column: String, text: String, cell: Cell)]
    }

    /// Header line (1-based).
    var headerLine: Int
    /// Service column names, in order (the `platform` column excluded).
    var columns: [String]
    var rows: [Row]

    /// Header text of the first column: `platform` (the documented form) or `release`.
    static let firstColumnNames: Set<String> = ["platform", "release"]

    static let unsetMarkers: Set<String> = ["", "-", "—", "–", "n/a", "na", "none"]

    /// The matrix in `markdown`, or nil when it has no table headed `platform`.
    static func scan(markdown: String) -> CompatMatrixScan? {
        let lines = markdown.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var index = 0
        var inFence = false
        while index + 1 < lines.count {
            let line = lines[index]
            let trimmed = line.trimmingSpaces
            if trimmed.hasPrefix("```") || trimmed.hasPrefix("~~~") { inFence.toggle() }
            if !inFence, trimmed.contains("|"), isDelimiterRow(lines[index + 1]) {
                let header = cells(line).map(clean)
                if let first = header.first, Self.firstColumnNames.contains(first.lowercased()) {
                    var scan = CompatMatrixScan(headerLine: index + 1, columns: Array(header.dropFirst()), rows: [])
                    var r = index + 2
                    while r < lines.count, lines[r].contains("|"), !lines[r].trimmingSpaces.isEmpty {
                        let values = cells(lines[r]).map(clean)
                        let platformText = values.first ?? ""
                        var row = Row(line: r + 1, platformText: platformText, platform: SemVer(platformText), cells: [])
                        for (offset, column) in scan.columns.enumerated() {
                            let text = offset + 1 < values.count ? values[offset + 1] : ""
                            row.cells.append((column, text, parseCell(text)))
                        }
                        scan.rows.append(row)
                        r += 1
                    }
                    return scan
                }
            }
            index += 1
        }
        return nil
    }

    /// `|---|:--:|` (leading and trailing pipes optional).
    static func isDelimiterRow(_ line: String) -> Bool {
        let parts = cells(line)
        guard !parts.isEmpty else { return false }
        return parts.allSatisfy { part in
            var p = Substring(part.trimmingSpaces)
            if p.hasPrefix(":") { p = p.dropFirst() }
            if p.hasSuffix(":") { p = p.dropLast() }
            return !p.isEmpty && p.allSatisfy { $0 == "-" }
        }
    }

    /// Cells of a table row: split at pipes that are not escaped (`\|`), the empty cells
    /// before a leading and after a trailing pipe dropped.
    static func cells(_ line: String) -> [String] {
        var out: [String] = []
        var current = ""
        var escaped = false
        for c in line {
            if escaped { current.append(c); escaped = false; continue }
            if c == "\\" { escaped = true; current.append(c); continue }
            if c == "|" { out.append(current); current = ""; continue }
            current.append(c)
        }
        out.append(current)
        if out.first?.trimmingSpaces.isEmpty == true { out.removeFirst() }
        if out.last?.trimmingSpaces.isEmpty == true { out.removeLast() }
        return out.map { $0.trimmingSpaces }
    }

    /// A cell without the markup people put around versions: backticks, `**`.
    static func clean(_ text: String) -> String {
        text.replacingOccurrences(of: "`", with: "").replacingOccurrences(of: "**", with: "").trimmingSpaces
    }

    static func parseCell(_ text: String) -> Cell {
        if unsetMarkers.contains(text.lowercased()) { return .unset }
        if let v = SemVer(text) { return .exact(v) }
        // Comparators, with or without a space between operator and version.
        var comparators: [Comparator] = []
        var tokens = text.split(separator: " ").map(String.init)
        var merged: [String] = []
        while !tokens.isEmpty {
            let t = tokens.removeFirst()
            if Comparator.Op(rawValue: t) != nil, let next = tokens.first { merged.append(t + next); tokens.removeFirst() } else { merged.append(t) }
        }
        for token in merged {
            let op: Comparator.Op
            if token.hasPrefix(">=") { op = .ge } else if token.hasPrefix("<=") { op = .le }
            else if token.hasPrefix(">") { op = .gt } else if token.hasPrefix("<") { op = .lt }
            else if token.hasPrefix("=") { op = .eq } else { return .invalid(text) }
            guard let v = SemVer(String(token.dropFirst(op.rawValue.count))) else { return .invalid(text) }
            comparators.append(Comparator(op: op, version: v))
        }
        return comparators.isEmpty ? .invalid(text) : .range(comparators)
    }
}
