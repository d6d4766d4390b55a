import FoundationEssentials
import UnisonCore
import UnisonRelease
import UnisonSpec

/// Release tags and the compatibility matrix: tag names, the matrix's shape and cells, platform
/// releases without a row, and service versions a row names that the service repo never tagged.
extension WorkspaceCheck.Context {
    mutating func tags(of located: WorkspaceCheck.Located) throws -> [String] {
        if let cached = tagCache[located.repo.name] { return cached }
        let tags = try git(located.directory).tags()
        tagCache[located.repo.name] = tags
        return tags
    }

    mutating func checkTagNames(_ located: WorkspaceCheck.Located) throws {
        let all = try tags(of: located)
        if all.isEmpty, located.repo.role == .service {
            let gitC = located.relativePath.isEmpty ? "git" : "git -C \(WorkspaceCheck.Context.quote(located.relativePath))"
            findings.append(
                Finding(
                    .tagsNeverTagged, .warning, repo: located.repo.name,
                    "\(located.repo.name) has never been tagged: no release of it can be named in the matrix or pinned by version",
                    hint: "tag its first release: \(gitC) tag v0.1.0 <commit> && \(gitC) push origin v0.1.0"))
        }
        for tag in all {
            if let version = SemVer(tag) {
                if !version.hasPrefixV {
                    findings.append(
                        Finding(
                            .tagsNotSemver, .warning, repo: located.repo.name,
                            "tag '\(tag)' is a version without the 'v' prefix the release channels match (v*.*.*)",
                            hint: "tag the same commit as v\(version) (git tag v\(version) \(tag)^{})"))
                }
            } else {
                findings.append(
                    Finding(
                        .tagsNotSemver, .warning, repo: located.repo.name,
                        "tag '\(tag)' is not a SemVer 2.0.0 version (vMAJOR.MINOR.PATCH[-PRERELEASE])",
                        hint: "release tags are vX.Y.Z or vX.Y.0-beta.N; use a branch or a note for other markers"))
            }
        }
    }

    /// Maps a matrix column to the service it names: a service name, or the repo of a platform service.
    func service(forColumn column: String) -> Service? {
        let key = column.lowercased()
        return spec.allServices.first { $0.name.lowercased() == key || $0.repo?.lowercased() == key }
    }

    /// What a column that names no service stands for: a repo of the spec, a repository on disk
    /// in the workspace, or nothing at all.
    func columnTarget(_ column: String) -> (specRepo: Bool, onDisk: Bool) {
        let key = column.lowercased()
        let specRepo = spec.repos.contains { $0.name.lowercased() == key }
        let onDisk = repoDirectories.contains { $0.lowercased() == key || PathText.lastComponent($0).lowercased() == key }
        return (specRepo, onDisk)
    }

    mutating func checkCompatibilityAndReleases() throws {
        guard let docs = repos.first(where: { $0.repo.name == spec.compatibility.repo }) else { return }
        let file = docs.display(spec.compatibility.file)
        let url = docs.directory.appendingPathComponent(spec.compatibility.file)
        guard let text = try? String(contentsOf: url, encoding: .utf8) else {
            findings.append(
                Finding(
                    .compatMissingMatrix, .error, repo: docs.repo.name, file: file,
                    "the compatibility matrix \(file) does not exist",
                    hint:
                        "write it: a table headed | Release | \(spec.services.compactMap(\.repo).prefix(3).joined(separator: " | ")) | … | with one row per platform release, or point compatibility.file in unison.yaml at it"
                ))
            return
        }
        guard let matrix = CompatibilityMatrix.scan(markdown: text) else {
            findings.append(
                Finding(
                    .compatMissingMatrix, .error, repo: docs.repo.name, file: file,
                    "\(file) has no table whose header row starts with '| Release |' (or '| platform |')",
                    hint: "head the matrix | Release | <service repo> | … | with a delimiter row below it"))
            return
        }

        // Columns.
        var covered: Set<String> = []
        for column in matrix.columns {
            if let service = service(forColumn: column) {
                covered.insert(service.name)
                continue
            }
            let target = columnTarget(column)
            if target.specRepo { continue }  // a repo of the spec that builds no platform service (a library)
            if target.onDisk {
                findings.append(
                    Finding(
                        .compatUnknownColumn, .warning, repo: docs.repo.name, file: file, line: matrix.headerLine,
                        "column '\(column)' names a repository of the workspace that the spec does not declare",
                        hint: "add \(column) to repos: in unison.yaml, or drop the column"))
            } else {
                findings.append(
                    Finding(
                        .compatUnknownColumn, .warning, repo: docs.repo.name, file: file, line: matrix.headerLine,
                        "column '\(column)' names a repository that exists nowhere: no service or repo of the spec, no repository in the workspace",
                        hint:
                            "drop the column, or rename it after the repo that ships it (\(spec.services.compactMap(\.repo).prefix(3).joined(separator: ", ")), …)"
                    ))
            }
        }
        for service in spec.services where !covered.contains(service.name) {
            // Core services are part of every release; optional ones only of some.
            let status = service.repo.flatMap { spec.repo(named: $0)?.status } ?? .core
            guard status == .core || status == .optional else { continue }
            findings.append(
                Finding(
                    .compatMissingServiceColumn, status == .core ? .error : .warning, repo: docs.repo.name, file: file, line: matrix.headerLine,
                    "the matrix has no column for \(status.rawValue) service '\(service.name)' (\(service.repo ?? service.name))",
                    hint: "add the column '\(service.repo ?? service.name)'; leave a cell empty (or '-') for releases the service is not part of"))
        }

        // Rows and cells.
        var seen: [SemVer: Int] = [:]
        for row in matrix.rows {
            if row.cellCount != matrix.columns.count + 1 {
                findings.append(
                    Finding(
                        .compatBadCell, .error, repo: docs.repo.name, file: file, line: row.line,
                        "the row has \(row.cellCount) cells, the header has \(matrix.columns.count + 1)",
                        hint: "give every row one cell per column ('-' for a service the release does not ship)"))
            }
            if let platform = row.platform {
                if let first = seen[platform] {
                    findings.append(
                        Finding(
                            .compatDuplicateRow, .error, repo: docs.repo.name, file: file, line: row.line,
                            "a second row for platform \(row.platformText) (the first is on line \(first))",
                            hint: "keep one row per platform release"))
                } else {
                    seen[platform] = row.line
                }
            } else {
                findings.append(
                    Finding(
                        .compatBadCell, .error, repo: docs.repo.name, file: file, line: row.line,
                        "platform cell '\(row.platformText)' is not a version",
                        hint: "write the platform release as vX.Y.Z"))
            }
            for cell in row.cells {
                if case .invalid = cell.value {
                    findings.append(
                        Finding(
                            .compatBadCell, .error, repo: docs.repo.name, file: file, line: row.line,
                            "cell '\(cell.text)' (column \(cell.column), platform \(row.platformText)) is neither a version nor a range",
                            hint:
                                "write v1.2.3, a range such as >=1.2.0 <1.3.0, 0.1.x or ^0.1.0, or leave it empty ('-') when the service is not part of the release"
                        ))
                }
            }
        }

        // The release tooling's own reading of the file: anything it rejects that the scan above
        // did not already report at that line.
        do {
            _ = try CompatibilityMatrix.parse(markdown: text, path: file)
        } catch let ReleaseError.invalidMatrix(_, line, reason) {
            let reported = findings.contains {
                $0.file == file && $0.line == line && ($0.rule == .compatBadCell || $0.rule == .compatDuplicateRow)
            }
            if !reported {
                findings.append(
                    Finding(
                        .compatUnreadable, .error, repo: docs.repo.name, file: file, line: line,
                        "the release tooling cannot read the matrix: \(reason)",
                        hint: "unisonctl compat reads the same file; fix the table there"))
            }
        }

        // Platform releases: stable vX.Y.Z tags of the platform repo.
        let platformRepo = repos.first { $0.repo.role == .platform }
        let platformTags = try platformRepo.map { try tags(of: $0) } ?? []
        let platformVersions = platformTags.compactMap(SemVer.init).filter(\.hasPrefixV)
        for version in platformVersions where !version.isPrerelease {
            if !matrix.rows.contains(where: { $0.platform?.hasSamePrecedence(as: version) == true }) {
                findings.append(
                    Finding(
                        .compatReleaseWithoutRow, .error, repo: docs.repo.name, file: file,
                        "platform release \(version.tagString()) (a tag of \(platformRepo?.repo.name ?? "the platform repo")) has no row in the matrix",
                        hint: "add a row | \(version.tagString()) | … | with the version of each service it ships"))
            }
        }

        // Service tags behind each row.
        for row in matrix.rows {
            guard let platform = row.platform else { continue }
            let released = platformVersions.contains { $0.hasSamePrecedence(as: platform) }
            for cell in row.cells {
                guard case let .constraint(constraint) = cell.value else { continue }
                guard let service = service(forColumn: cell.column), let repoName = service.repo,
                    let serviceRepo = repos.first(where: { $0.repo.name == repoName })
                else { continue }
                let versions = try tags(of: serviceRepo).compactMap(SemVer.init)
                if versions.contains(where: constraint.isSatisfied) { continue }
                let wanted = constraint.exactVersion.map { "no tag \($0.tagString(forceV: true))" } ?? "no tag in \(cell.text)"
                let state = released ? "platform release \(row.platformText)" : "platform \(row.platformText) (not tagged yet)"
                findings.append(
                    Finding(
                        .tagsServiceMissingReleaseTag, released ? .error : .warning, repo: repoName, file: file, line: row.line,
                        "\(state) lists \(service.name) \(cell.text), and \(repoName) has \(wanted)",
                        hint: constraint.exactVersion.map {
                            "tag the released commit: git -C \(serviceRepo.relativePath) tag \($0.tagString(forceV: true)) <commit>, then push the tag; or correct the row"
                        } ?? "tag a release of \(repoName) inside the range, or correct the row"))
            }
        }
    }
}
