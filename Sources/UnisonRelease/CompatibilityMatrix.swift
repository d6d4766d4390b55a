import FoundationEssentials
import UnisonCore

/// A version requirement in a matrix cell, in node-semver's range grammar restricted to one
/// comparator set (no `||`, no hyphen ranges). Parts are separated by spaces and must all hold:
///
/// - a version, `v1.2.3` or `1.2.3` (or `=1.2.3`): exactly that version;
/// - a comparator, `>=1.2.0`, `>1.2.0`, `<=1.2.0`, `<1.3.0` (partial versions as npm reads them:
///   `>=1.2` is `>=1.2.0`, `<=1.2` is `<1.3.0`);
/// - an x-range, `0.1.x`, `1.x`, `1.2.*`, `1`, `1.2`, `*`: any version of that prefix
///   (`0.1.x` is `>=0.1.0 <0.2.0`);
/// - a tilde range, `~1.2.3` (`>=1.2.3 <1.3.0`), `~1.2`, `~1`;
/// - a caret range, `^1.2.3` (`>=1.2.3 <2.0.0`), `^0.2.3` (`>=0.2.3 <0.3.0`), `^0.0.3`
///   (`>=0.0.3 <0.0.4`), `^1.x`.
///
/// `comparators` hold the desugared form; `text` keeps the cell as written.
package struct VersionConstraint: Sendable, Equatable, StringCodable {
    package enum Operator: String, Sendable, Codable, CaseIterable { case gte = ">=", lte = "<=", gt = ">", lt = "<", eq = "=" }

    package struct Comparator: Sendable, Equatable, Codable {
        package var op: Operator
        package var version: SemVer
    }

    package var comparators: [Comparator]
    /// As written (normalized spacing).
    package var text: String

    package init?(_ raw: String) {
        let parts = raw.split(whereSeparator: \.isWhitespace).map(String.init)
        guard !parts.isEmpty else { return nil }
        var comparators: [Comparator] = []
        for part in parts {
            guard let desugared = Self.comparators(part) else { return nil }
            comparators += desugared
        }
        self.comparators = comparators
        text = parts.joined(separator: " ")
    }

    /// A version whose parts may be missing or wildcards (`1`, `1.2`, `1.x`, `*`); a pre-release
    /// or build suffix only after three numbers.
    struct Partial {
        /// The numbers given, in order (wildcards and missing parts end the list).
        var numbers: [UInt64]
        /// The full version when all three numbers are given.
        var full: SemVer?

        init?(_ text: String) {
            var t = Substring(text)
            if t.hasPrefix("v") || t.hasPrefix("V") { t = t.dropFirst() }
            guard !t.isEmpty else { return nil }
            if let full = SemVer(String(t)) {
                self.full = full
                numbers = [full.major, full.minor, full.patch]
                return
            }
            let pieces = t.split(separator: ".", omittingEmptySubsequences: false)
            guard pieces.count <= 3 else { return nil }
            var numbers: [UInt64] = []
            var wild = false
            for piece in pieces {
                if piece == "x" || piece == "X" || piece == "*" { wild = true; continue }
                // After a wildcard only wildcards; numbers without leading zeros.
                guard !wild, !piece.isEmpty, piece.allSatisfy(\.isASCII), piece.allSatisfy(\.isNumber),
                    piece == "0" || !piece.hasPrefix("0"), let n = UInt64(piece)
                else { return nil }
                numbers.append(n)
            }
            self.numbers = numbers
            full = nil
        }

        func version(_ numbers: [UInt64]) -> SemVer {
            SemVer(numbers.count > 0 ? numbers[0] : 0, numbers.count > 1 ? numbers[1] : 0, numbers.count > 2 ? numbers[2] : 0)
        }

        /// The lowest version of the prefix (the full version itself when given).
        var lower: SemVer { full ?? version(numbers) }

        /// The first version past the prefix (nil for `*`).
        var upperOfPrefix: SemVer? {
            switch numbers.count {
            case 0: return nil
            case 1: return version([numbers[0] + 1])
            case 2: return version([numbers[0], numbers[1] + 1])
            default: return version([numbers[0], numbers[1], numbers[2] + 1])
            }
        }
    }

    /// One space-separated part of a cell, desugared; nil when it is not one.
    static func comparators(_ part: String) -> [Comparator]? {
        var rest = Substring(part)
        var prefix = ""
        for candidate in [">=", "<=", ">", "<", "=", "^", "~"] where rest.hasPrefix(candidate) {
            prefix = candidate
            rest = rest.dropFirst(candidate.count)
            break
        }
        guard let p = Partial(String(rest)) else { return nil }
        let isFull = p.full != nil
        switch prefix {
        case "", "=":
            if let full = p.full { return [Comparator(op: .eq, version: full)] }
            return [Comparator(op: .gte, version: p.lower)] + (p.upperOfPrefix.map { [Comparator(op: .lt, version: $0)] } ?? [])
        case ">=":
            return [Comparator(op: .gte, version: p.lower)]
        case ">":
            if isFull { return [Comparator(op: .gt, version: p.lower)] }
            // `>1.2` is `>=1.3.0`; `>*` matches nothing.
            guard let upper = p.upperOfPrefix else { return [Comparator(op: .lt, version: SemVer(0, 0, 0))] }
            return [Comparator(op: .gte, version: upper)]
        case "<":
            return [Comparator(op: .lt, version: p.lower)]
        case "<=":
            if isFull { return [Comparator(op: .lte, version: p.lower)] }
            guard let upper = p.upperOfPrefix else { return [Comparator(op: .gte, version: SemVer(0, 0, 0))] }
            return [Comparator(op: .lt, version: upper)]
        case "~":
            // Patch-level changes when a minor is given, minor-level otherwise.
            let lower = Comparator(op: .gte, version: p.lower)
            switch p.numbers.count {
            case 0: return [Comparator(op: .gte, version: SemVer(0, 0, 0))]
            case 1: return [lower, Comparator(op: .lt, version: p.version([p.numbers[0] + 1]))]
            default: return [lower, Comparator(op: .lt, version: p.version([p.numbers[0], p.numbers[1] + 1]))]
            }
        case "^":
            // Changes that do not modify the left-most non-zero part.
            let lower = Comparator(op: .gte, version: p.lower)
            let n = p.numbers
            switch n.count {
            case 0: return [Comparator(op: .gte, version: SemVer(0, 0, 0))]
            case 1: return [lower, Comparator(op: .lt, version: p.version([n[0] + 1]))]
            case 2:
                if n[0] > 0 { return [lower, Comparator(op: .lt, version: p.version([n[0] + 1]))] }
                return [lower, Comparator(op: .lt, version: p.version([0, n[1] + 1]))]
            default:
                if n[0] > 0 { return [lower, Comparator(op: .lt, version: p.version([n[0] + 1]))] }
                if n[1] > 0 { return [lower, Comparator(op: .lt, version: p.version([0, n[1] + 1]))] }
                return [lower, Comparator(op: .lt, version: p.version([0, 0, n[2] + 1]))]
            }
        default:
            return nil
        }
    }

    package init(exactly version: SemVer) {
        comparators = [Comparator(op: .eq, version: version)]
        text = version.tagString(forceV: true)
    }

    /// The version when the constraint names exactly one.
    package var exactVersion: SemVer? {
        comparators.count == 1 && comparators[0].op == .eq ? comparators[0].version : nil
    }

    /// All comparators hold. As in npm ranges, a pre-release only satisfies a constraint that
    /// names a pre-release of the same MAJOR.MINOR.PATCH (`<1.3.0` does not take `1.3.0-beta.1`).
    package func isSatisfied(by v: SemVer) -> Bool {
        if v.isPrerelease,
            !comparators.contains(where: {
                $0.version.isPrerelease && ($0.version.major, $0.version.minor, $0.version.patch) == (v.major, v.minor, v.patch)
            })
        {
            return false
        }
        return comparators.allSatisfy { c in
            switch c.op {
            case .eq: return v.hasSamePrecedence(as: c.version)
            case .gt: return c.version < v
            case .gte: return !(v < c.version)
            case .lt: return v < c.version
            case .lte: return !(c.version < v)
            }
        }
    }

    package var description: String { text }

    package static let expectedText = "a version constraint"
}

/// The platform compatibility matrix (unison-docs `dev/compatibility-matrix.md`): one row per
/// platform release, one column per platform service or service repo, each cell the version
/// that release ships (`v1.2.3`), a range (`>=1.2.0 <1.3.0`, `0.1.x`, `^0.1.0`, `~0.1.2`) or `-`
/// (not part of it):
///
///     | Release | unison-orchestrator | unison-context | …
///     |---------|---------------------|----------------|
///     | 0.0.1   | 0.1.x               | 0.1.x          |
///
/// The file is plain markdown; the table is the first one, outside code blocks, whose header
/// row starts with `| Release |` or `| platform |`. Text around it is kept out of the model and
/// rewritten on render. This is the one reading of the format: `compat` and `workspace check`
/// (through `scan`) both use it.
package struct CompatibilityMatrix: Sendable, Equatable, Codable {
    package struct Row: Sendable, Equatable, Codable {
        package var platform: SemVer
        /// Column name → constraint; a column absent here is `-` (not shipped).
        package var services: [String: VersionConstraint]

        package init(platform: SemVer, services: [String: VersionConstraint]) {
            self.platform = platform
            self.services = services
        }
    }

    package var schema = "unisonctl.compat-matrix/v1"
    /// The header of the first column as written (`Release` or `platform`); kept on render.
    package var firstColumn = "platform"
    /// Column order: service names or service repo names, as the header writes them.
    package var services: [String]
    /// Newest platform first.
    package var rows: [Row]

    enum CodingKeys: String, CodingKey { case schema, services, rows }

    package init(services: [String], rows: [Row] = [], firstColumn: String = "platform") {
        self.services = services
        self.firstColumn = firstColumn
        self.rows = rows.sorted { $1.platform < $0.platform }
    }

    package func row(for platform: SemVer) -> Row? { rows.first { $0.platform.hasSamePrecedence(as: platform) } }

    /// Header words that open the matrix's table (compared case-insensitively).
    package static let firstColumnNames: Set<String> = ["release", "platform"]

    // MARK: Scanning

    /// The table as written, every row and cell with its line, problems kept rather than
    /// thrown: what `workspace check` reports finding by finding and `parse` turns into errors.
    package struct Scan: Sendable {
        package enum Cell: Sendable, Equatable {
            /// Empty or `-`: the column is not part of that release.
            case unset
            case constraint(VersionConstraint)
            case invalid(String)
        }

        package struct ScannedCell: Sendable {
            package var column: String
            package var text: String
            package var value: Cell
        }

        package struct ScannedRow: Sendable {
            /// 1-based.
            package var line: Int
            package var platformText: String
            package var platform: SemVer?
            /// Number of cells, the platform cell included.
            package var cellCount: Int
            package var cells: [ScannedCell]
        }

        /// 1-based line of the header row.
        package var headerLine: Int
        package var firstColumn: String
        /// Column names after the first, in order.
        package var columns: [String]
        /// Whether a `|---|` delimiter row follows the header.
        package var hasDelimiter: Bool
        package var rows: [ScannedRow]
    }

    /// The table of `markdown`, or nil when it has none headed `| Release |` or `| platform |`.
    package static func scan(markdown: String) -> Scan? {
        let lines = markdown.replacing("\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var inFence = false
        for index in lines.indices {
            let trimmed = lines[index].trimming(.whitespaces)
            if trimmed.hasPrefix("```") || trimmed.hasPrefix("~~~") { inFence.toggle(); continue }
            guard !inFence, trimmed.hasPrefix("|"), let first = cells(trimmed).first,
                firstColumnNames.contains(first.lowercased())
            else { continue }
            let header = cells(trimmed)
            var r = index + 1
            let hasDelimiter = r < lines.count && isDelimiterRow(lines[r])
            if hasDelimiter { r += 1 }
            var scan = Scan(headerLine: index + 1, firstColumn: first, columns: Array(header.dropFirst()), hasDelimiter: hasDelimiter, rows: [])
            while r < lines.count, lines[r].trimming(.whitespaces).hasPrefix("|") {
                let values = cells(lines[r].trimming(.whitespaces))
                let platformText = values.first ?? ""
                var row = Scan.ScannedRow(
                    line: r + 1, platformText: platformText, platform: SemVer(platformText),
                    cellCount: values.count, cells: [])
                for (offset, column) in scan.columns.enumerated() {
                    let text = offset + 1 < values.count ? values[offset + 1] : ""
                    row.cells.append(.init(column: column, text: text, value: cell(text)))
                }
                scan.rows.append(row)
                r += 1
            }
            return scan
        }
        return nil
    }

    /// One cell: unset (empty or `-`), a constraint, or something else.
    package static func cell(_ text: String) -> Scan.Cell {
        if text.isEmpty || text == "-" { return .unset }
        return VersionConstraint(text).map(Scan.Cell.constraint) ?? .invalid(text)
    }

    static func isDelimiterRow(_ line: String) -> Bool { MarkdownTable.isDelimiterRow(line) }

    // MARK: Parsing

    /// Reads the matrix from markdown, stopping at the first problem. Errors carry `path:line`.
    package static func parse(markdown: String, path: String = "compatibility-matrix.md") throws -> CompatibilityMatrix {
        guard let scan = scan(markdown: markdown) else {
            throw ReleaseError.invalidMatrix(path: path, line: 1, reason: "no table with a '| Release |' (or '| platform |') header")
        }
        for (i, name) in scan.columns.enumerated() {
            guard !name.isEmpty else {
                throw ReleaseError.invalidMatrix(path: path, line: scan.headerLine, reason: "column \(i + 2) has no name")
            }
            guard scan.columns.firstIndex(of: name) == i else {
                throw ReleaseError.invalidMatrix(path: path, line: scan.headerLine, reason: "column '\(name)' appears twice")
            }
        }
        guard scan.hasDelimiter else {
            throw ReleaseError.invalidMatrix(path: path, line: scan.headerLine + 1, reason: "the header must be followed by a |---| separator row")
        }
        var rows: [Row] = []
        for row in scan.rows {
            guard row.cellCount == scan.columns.count + 1 else {
                throw ReleaseError.invalidMatrix(
                    path: path, line: row.line, reason: "\(row.cellCount) cells, the header has \(scan.columns.count + 1)")
            }
            guard let platform = row.platform else {
                throw ReleaseError.invalidMatrix(path: path, line: row.line, reason: "'\(row.platformText)' is not a platform version")
            }
            guard !rows.contains(where: { $0.platform.hasSamePrecedence(as: platform) }) else {
                throw ReleaseError.invalidMatrix(path: path, line: row.line, reason: "a second row for \(row.platformText)")
            }
            var cellsByService: [String: VersionConstraint] = [:]
            for cell in row.cells {
                switch cell.value {
                case .unset: continue
                case let .constraint(c): cellsByService[cell.column] = c
                case .invalid:
                    throw ReleaseError.invalidMatrix(path: path, line: row.line, reason: "\(cell.column): '\(cell.text)' is not a version or range")
                }
            }
            rows.append(Row(platform: platform, services: cellsByService))
        }
        return CompatibilityMatrix(services: scan.columns, rows: rows, firstColumn: scan.firstColumn)
    }

    /// Cells of a `| a | b |` line (`MarkdownTable.cells`).
    package static func cells(_ line: String) -> [String] { MarkdownTable.cells(line) }

    // MARK: Rendering

    package func markdown(displayName: String = "UnisonOS") -> String {
        var out = """
            # \(displayName) compatibility matrix

            <!-- Maintained by `unisonctl compat add` (one row per platform release); read by `unisonctl compat check` and `unisonctl workspace check`. -->

            Each row is a platform release and the version of every service image it ships
            (`ghcr.io/<org>/<repo>:<version>`). A cell is an exact version (`v1.2.3`), a range
            (`>=1.2.0 <1.3.0`, `0.1.x`, `^0.1.0`, `~0.1.2`), or `-` when the release does not ship
            the service. Newest release first. Columns are the services' repositories, as unison-docs'
            `dev/compatibility-matrix.md` heads them (`compat add --service` takes a service or repo name).

            | \(firstColumn) | \(services.joined(separator: " | ")) |
            |---|\(services.map { _ in "---|" }.joined())

            """
        for row in rows {
            let cells = services.map { row.services[$0]?.text ?? "-" }
            out += MarkdownTable.row([row.platform.tagString(forceV: true)] + cells) + "\n"
        }
        return out
    }

    /// Adds (or with `replace`, replaces) the row of a platform release; new services become
    /// columns at the end.
    package mutating func add(_ row: Row, replace: Bool = false) throws {
        if let existing = rows.firstIndex(where: { $0.platform.hasSamePrecedence(as: row.platform) }) {
            guard replace else { throw ReleaseError.matrixRowExists(platform: row.platform.tagString(forceV: true)) }
            rows.remove(at: existing)
        }
        for name in row.services.keys.sorted() where !services.contains(name) { services.append(name) }
        rows.append(row)
        rows.sort { $1.platform < $0.platform }
    }

    // MARK: Checking

    /// Compares installed service versions with the rows: which release they are, or what differs.
    package func check(installed: [String: SemVer], platform: SemVer? = nil) -> CompatCheck {
        func differences(_ row: Row) -> [CompatCheck.Difference] {
            var diffs: [CompatCheck.Difference] = []
            for service in services {
                let have = installed[service]
                let want = row.services[service]
                switch (have, want) {
                case let (h?, w?) where !w.isSatisfied(by: h):
                    diffs.append(.init(service: service, installed: h.tagString(forceV: true), expected: w.text))
                case let (h?, nil):
                    diffs.append(.init(service: service, installed: h.tagString(forceV: true), expected: "-"))
                case let (nil, w?):
                    diffs.append(.init(service: service, installed: nil, expected: w.text))
                default: break
                }
            }
            return diffs
        }
        let unknown = installed.keys.filter { !services.contains($0) }.sorted()
        let candidates = platform.map { p in rows.filter { $0.platform.hasSamePrecedence(as: p) } } ?? rows
        let scored = candidates.map { ($0, differences($0)) }
        if let match = scored.first(where: { $0.1.isEmpty }) {
            return CompatCheck(
                ok: true, platform: match.0.platform.tagString(forceV: true), matched: true,
                differences: [], unknownServices: unknown, rowFound: true)
        }
        guard let closest = scored.min(by: { $0.1.count < $1.1.count }) else {
            return CompatCheck(
                ok: false, platform: platform?.tagString(forceV: true), matched: false,
                differences: [], unknownServices: unknown, rowFound: false)
        }
        return CompatCheck(
            ok: false, platform: closest.0.platform.tagString(forceV: true), matched: false,
            differences: closest.1, unknownServices: unknown, rowFound: true)
    }
}

/// The result of `compat check`.
package struct CompatCheck: Sendable, Equatable, Codable {
    package struct Difference: Sendable, Equatable, Codable {
        package var service: String
        /// Nil when the service is not installed.
        package var installed: String?
        /// The cell of the row (`-`: the release does not ship it).
        package var expected: String
    }

    package var schema = "unisonctl.compat-check/v1"
    package var ok: Bool
    /// The matching row, or the closest one (fewest differences, newest on a tie).
    package var platform: String?
    package var matched: Bool
    package var differences: [Difference]
    /// Installed services the matrix has no column for (not counted as differences).
    package var unknownServices: [String]
    /// False when the matrix has no row to compare with (empty, or no row for `--platform`).
    package var rowFound: Bool

    package init(ok: Bool, platform: String?, matched: Bool, differences: [Difference], unknownServices: [String], rowFound: Bool) {
        self.ok = ok
        self.platform = platform
        self.matched = matched
        self.differences = differences
        self.unknownServices = unknownServices
        self.rowFound = rowFound
    }
}
