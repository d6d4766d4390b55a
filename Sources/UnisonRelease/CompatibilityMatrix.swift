import Foundation
import UnisonCore

/// A version requirement in a matrix cell: `v1.2.3` (exactly that version) or comparators that
/// must all hold, separated by spaces: `>=1.2.0 <1.3.0`. Operators: `=`, `>`, `>=`, `<`, `<=`.
public struct VersionConstraint: Sendable, Equatable, Codable, CustomStringConvertible {
    public enum Operator: String, Sendable, Codable, CaseIterable { case gte = ">=", lte = "<=", gt = ">", lt = "<", eq = "=" }

    public struct Comparator: Sendable, Equatable, Codable {
        public var op: Operator
        public var version: SemVer
    }

    public var comparators: [Comparator]
    /// As written (normalized spacing).
    public var text: String

    public init?(_ raw: String) {
        let parts = raw.split(whereSeparator: \.isWhitespace).map(String.init)
        guard !parts.isEmpty else { return nil }
        var comparators: [Comparator] = []
        for part in parts {
            var op = Operator.eq
            var rest = Substring(part)
            for candidate in Operator.allCases where rest.hasPrefix(candidate.rawValue) {
                op = candidate
                rest = rest.dropFirst(candidate.rawValue.count)
                break
            }
            guard let v = SemVer(String(rest)) else { return nil }
            comparators.append(Comparator(op: op, version: v))
        }
        self.comparators = comparators
        text = parts.joined(separator: " ")
    }

    public init(exactly version: SemVer) {
        comparators = [Comparator(op: .eq, version: version)]
        text = version.tagString(forceV: true)
    }

    /// The version when the constraint names exactly one.
    public var exactVersion: SemVer? {
        comparators.count == 1 && comparators[0].op == .eq ? comparators[0].version : nil
    }

    /// All comparators hold. As in npm ranges, a pre-release only satisfies a constraint that
    /// names a pre-release of the same MAJOR.MINOR.PATCH (`<1.3.0` does not take `1.3.0-beta.1`).
    public func isSatisfied(by v: SemVer) -> Bool {
        if v.isPrerelease, !comparators.contains(where: {
            $0.version.isPrerelease && ($0.version.major, $0.version.minor, $0.version.patch) == (v.major, v.minor, v.patch)
        }) {
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

    public var description: String { text }

    public init(from decoder: any Decoder) throws {
        let s = try decoder.singleValueContainer().decode(String.self)
        guard let c = VersionConstraint(s) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "'\(s)' is not a version constraint"))
        }
        self = c
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(text)
    }
}

/// The platform compatibility matrix (`docs/compatibility-matrix.md`): one row per platform
/// release, one column per platform service, each cell the service version that release
/// ships (`v1.2.3`), a range (`>=1.2.0 <1.3.0`) or `-` (not part of it).
///
/// The file is plain markdown; the table is the first one whose header starts with
/// `| platform |`. Text around it is kept out of the model and rewritten on render.
public struct CompatibilityMatrix: Sendable, Equatable, Codable {
    public struct Row: Sendable, Equatable, Codable {
        public var platform: SemVer
        /// Service name → constraint; a service absent here is `-` (not shipped).
        public var services: [String: VersionConstraint]

        public init(platform: SemVer, services: [String: VersionConstraint]) {
            self.platform = platform
            self.services = services
        }
    }

    public var schema = "unisonctl.compat-matrix/v1"
    /// Column order.
    public var services: [String]
    /// Newest platform first.
    public var rows: [Row]

    public init(services: [String], rows: [Row] = []) {
        self.services = services
        self.rows = rows.sorted { $1.platform < $0.platform }
    }

    public func row(for platform: SemVer) -> Row? { rows.first { $0.platform.hasSamePrecedence(as: platform) } }

    // MARK: Parsing

    /// Reads the matrix from markdown. Errors carry `path:line`.
    public static func parse(markdown: String, path: String = "compatibility-matrix.md") throws -> CompatibilityMatrix {
        let lines = markdown.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let headerIndex = lines.firstIndex(where: { line in
            let t = line.trimmingCharacters(in: .whitespaces)
            return t.hasPrefix("|") && cells(t).first?.lowercased() == "platform"
        }) else {
            throw ReleaseError.invalidMatrix(path: path, line: 1, reason: "no table with a '| platform |' header")
        }
        let header = cells(lines[headerIndex].trimmingCharacters(in: .whitespaces))
        let services = Array(header.dropFirst())
        for (i, name) in services.enumerated() {
            guard !name.isEmpty else {
                throw ReleaseError.invalidMatrix(path: path, line: headerIndex + 1, reason: "column \(i + 2) has no service name")
            }
            guard services.firstIndex(of: name) == i else {
                throw ReleaseError.invalidMatrix(path: path, line: headerIndex + 1, reason: "service '\(name)' appears twice")
            }
        }
        let separatorIndex = headerIndex + 1
        guard separatorIndex < lines.count,
              cells(lines[separatorIndex].trimmingCharacters(in: .whitespaces)).allSatisfy({ cell in
                  !cell.isEmpty && cell.allSatisfy { $0 == "-" || $0 == ":" }
              }) else {
            throw ReleaseError.invalidMatrix(path: path, line: separatorIndex + 1, reason: "the header must be followed by a |---| separator row")
        }
        var rows: [Row] = []
        var index = separatorIndex + 1
        while index < lines.count {
            let line = lines[index].trimmingCharacters(in: .whitespaces)
            guard line.hasPrefix("|") else { break }
            let lineNumber = index + 1
            let row = cells(line)
            guard row.count == header.count else {
                throw ReleaseError.invalidMatrix(path: path, line: lineNumber, reason: "\(row.count) cells, the header has \(header.count)")
            }
            guard let platform = SemVer(row[0]) else {
                throw ReleaseError.invalidMatrix(path: path, line: lineNumber, reason: "'\(row[0])' is not a platform version")
            }
            guard !rows.contains(where: { $0.platform.hasSamePrecedence(as: platform) }) else {
                throw ReleaseError.invalidMatrix(path: path, line: lineNumber, reason: "a second row for \(row[0])")
            }
            var cellsByService: [String: VersionConstraint] = [:]
            for (service, cell) in zip(services, row.dropFirst()) where !(cell.isEmpty || cell == "-") {
                guard let constraint = VersionConstraint(cell) else {
                    throw ReleaseError.invalidMatrix(path: path, line: lineNumber, reason: "\(service): '\(cell)' is not a version or range")
                }
                cellsByService[service] = constraint
            }
            rows.append(Row(platform: platform, services: cellsByService))
            index += 1
        }
        return CompatibilityMatrix(services: services, rows: rows)
    }

    /// Cells of a `| a | b |` line, trimmed, backticks around a cell removed, `\|` unescaped.
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
            var t = cell.trimmingCharacters(in: .whitespaces)
            if t.count >= 2, t.hasPrefix("`"), t.hasSuffix("`") { t = String(t.dropFirst().dropLast()) }
            return t
        }
    }

    // MARK: Rendering

    public func markdown(displayName: String = "UnisonOS") -> String {
        var out = """
        # \(displayName) compatibility matrix

        <!-- Maintained by `unisonctl compat add` (one row per platform release); read by `unisonctl compat check` and `unisonctl workspace check`. -->

        Each row is a platform release and the version of every service image it ships
        (`ghcr.io/<org>/<repo>:<version>`). A cell is an exact version (`v1.2.3`), a range whose
        comparators must all hold (`>=1.2.0 <1.3.0`), or `-` when the release does not ship the
        service. Newest release first.

        | platform | \(services.joined(separator: " | ")) |
        |---|\(services.map { _ in "---|" }.joined())

        """
        for row in rows {
            let cells = services.map { row.services[$0]?.text ?? "-" }
            out += "| \(row.platform.tagString(forceV: true)) | \(cells.joined(separator: " | ")) |\n"
        }
        return out
    }

    /// Adds (or with `replace`, replaces) the row of a platform release; new services become
    /// columns at the end.
    public mutating func add(_ row: Row, replace: Bool = false) throws {
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
    public func check(installed: [String: SemVer], platform: SemVer? = nil) -> CompatCheck {
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
            return CompatCheck(ok: true, platform: match.0.platform.tagString(forceV: true), matched: true,
                               differences: [], unknownServices: unknown, rowFound: true)
        }
        guard let closest = scored.min(by: { $0.1.count < $1.1.count }) else {
            return CompatCheck(ok: false, platform: platform?.tagString(forceV: true), matched: false,
                               differences: [], unknownServices: unknown, rowFound: false)
        }
        return CompatCheck(ok: false, platform: closest.0.platform.tagString(forceV: true), matched: false,
                           differences: closest.1, unknownServices: unknown, rowFound: true)
    }
}

/// The result of `compat check`.
public struct CompatCheck: Sendable, Equatable, Codable {
    public struct Difference: Sendable, Equatable, Codable {
        public var service: String
        /// Nil when the service is not installed.
        public var installed: String?
        /// The cell of the row (`-`: the release does not ship it).
        public var expected: String
    }

    public var schema = "unisonctl.compat-check/v1"
    public var ok: Bool
    /// The matching row, or the closest one (fewest differences, newest on a tie).
    public var platform: String?
    public var matched: Bool
    public var differences: [Difference]
    /// Installed services the matrix has no column for (not counted as differences).
    public var unknownServices: [String]
    /// False when the matrix has no row to compare with (empty, or no row for `--platform`).
    public var rowFound: Bool

    public init(ok: Bool, platform: String?, matched: Bool, differences: [Difference], unknownServices: [String], rowFound: Bool) {
        self.ok = ok
        self.platform = platform
        self.matched = matched
        self.differences = differences
        self.unknownServices = unknownServices
        self.rowFound = rowFound
    }
}
