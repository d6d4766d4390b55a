import UnisonCore
import UnisonSpec

/// Two services of one repository given different cells: the repository's column holds one.
package struct CompatColumnConflict: Error, CustomStringConvertible, Sendable, Equatable, ExitCoded {
    package var column: String
    package var cells: [String]
    package var exitStatus: ExitStatus { .badInput }
    package var description: String {
        "column \(column): its services are given different cells (\(cells.joined(separator: ", "))); a repository's column holds one"
    }
}

/// Columns and services. unison-docs' `dev/compatibility-matrix.md` heads its columns with the
/// services' repositories (`unison-orchestrator`), so `compat add` writes repository columns and
/// readers map them back to services (`spec.services[].repo`). A matrix written earlier with a
/// service's own name as its column keeps that column.
extension CompatibilityMatrix {
    /// The columns of a new matrix: each platform service's repository once, in the spec's order.
    package static func columns(spec: PlatformSpec) -> [String] {
        var out: [String] = []
        for service in spec.services where !out.contains(service.repo ?? service.name) { out.append(service.repo ?? service.name) }
        return out
    }

    /// The column of `service` in this matrix: its repository's, unless the matrix already has
    /// a column of the service's own name (and none of the repository's).
    package func column(for service: Service) -> String {
        guard let repo = service.repo else { return service.name }
        return services.contains(service.name) && !services.contains(repo) ? service.name : repo
    }

    /// `cells` keyed by a service's or a repository's name, keyed by this matrix's columns; nil
    /// for a name that is neither a platform service nor one's repository.
    package func keyedByColumn(_ cells: [String: VersionConstraint], spec: PlatformSpec) throws -> [String: VersionConstraint] {
        var out: [String: VersionConstraint] = [:]
        var from: [String: [String]] = [:]
        for (name, cell) in cells.sorted(by: { $0.key < $1.key }) {
            let column: String
            if let service = spec.services.first(where: { $0.name == name }) {
                column = self.column(for: service)
            } else if let service = spec.services.first(where: { $0.repo == name }) {
                column = self.column(for: service)
            } else {
                throw ReleaseError.unknownService(name)
            }
            from[column, default: []].append("\(name)=\(cell.text)")
            if let other = out[column], other != cell {
                throw CompatColumnConflict(column: column, cells: from[column] ?? [])
            }
            out[column] = cell
        }
        return out
    }

    /// The cells of `row` by service name: a repository's column gives each of its services,
    /// a column that names a service (or nothing the spec knows) stays as it is.
    package static func cellsByService(_ row: Row, spec: PlatformSpec) -> [String: VersionConstraint] {
        var out: [String: VersionConstraint] = [:]
        for (column, cell) in row.services {
            let services =
                spec.allServices.contains(where: { $0.name == column })
                ? [column] : spec.services.filter { $0.repo == column }.map(\.name)
            for name in services.isEmpty ? [column] : services { out[name] = cell }
        }
        return out
    }

    /// Installed versions keyed by service (or repository) name, keyed by this matrix's columns.
    package func installedByColumn(_ installed: [String: SemVer], spec: PlatformSpec) -> [String: SemVer] {
        var out: [String: SemVer] = [:]
        for (name, version) in installed {
            if services.contains(name) { out[name] = version; continue }
            let service = spec.services.first { $0.name == name } ?? spec.services.first { $0.repo == name }
            out[service.map(column(for:)) ?? name] = version
        }
        return out
    }
}
