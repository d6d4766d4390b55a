import FoundationEssentials
import UnisonCore
import UnisonSpec

/// Entry points: each command of a repo's `entrypoints` must be documented in its README and
/// must exist in the repo — a `make` target of its Makefile, or a script path that exists (and
/// is executable when it is run directly).
extension ReadmeAudit {
    /// One simple command of an entry point (`make a b`, `./scripts/x.sh`, `bash ci.sh`).
    package enum Invocation: Equatable {
        /// `make` with its targets (empty: the default goal) and, for `-C dir`/`-f file`, where
        /// the Makefile is.
        case make(targets: [String], directory: String?, file: String?)
        /// A script run directly (must be executable) or through an interpreter (must exist).
        case script(path: String, direct: Bool)
        /// `docker compose` (or `docker-compose`) with the files its `-f` options name.
        case compose(files: [String])
        /// Anything else (`pip install -e .`, `npm test`): not checkable against the tree.
        case other
    }

    static let interpreters: Set<String> = ["bash", "sh", "zsh", "dash", "python", "python3", "node", "perl", "ruby", "pwsh"]

    /// Splits a command line into its simple commands (at `&&`, `||`, `;`, `|`) and reads each.
    package static func invocations(_ command: String) -> [Invocation] {
        var segments: [String] = []
        var current = ""
        var chars = Array(command)
        chars.append(" ")
        var index = 0
        while index < chars.count - 1 {
            let c = chars[index], next = chars[index + 1]
            if (c == "&" && next == "&") || (c == "|" && next == "|") {
                segments.append(current); current = ""; index += 2; continue
            }
            if c == ";" || c == "|" { segments.append(current); current = ""; index += 1; continue }
            current.append(c)
            index += 1
        }
        segments.append(current)
        return segments.compactMap { segment -> Invocation? in
            var tokens = segment.split(whereSeparator: { $0 == " " || $0 == "\t" }).map { token -> String in
                var t = String(token)
                if t.count >= 2, let f = t.first, f == t.last, f == "\"" || f == "'" { t = String(t.dropFirst().dropLast()) }
                return t
            }
            // Leading environment assignments: `FOO=1 make x`.
            while let first = tokens.first, first.contains("="), !first.hasPrefix("-"), !first.contains("/") { tokens.removeFirst() }
            guard let program = tokens.first else { return nil }
            if program == "make" || program == "gmake" {
                var targets: [String] = [], directory: String?, file: String?
                var i = 1
                while i < tokens.count {
                    let t = tokens[i]
                    if t == "-C" || t == "--directory" { directory = i + 1 < tokens.count ? tokens[i + 1] : nil; i += 2; continue }
                    if t.hasPrefix("--directory=") { directory = String(t.dropFirst(12)); i += 1; continue }
                    if t.hasPrefix("-C"), t.count > 2 { directory = String(t.dropFirst(2)); i += 1; continue }
                    if t == "-f" || t == "--file" || t == "--makefile" { file = i + 1 < tokens.count ? tokens[i + 1] : nil; i += 2; continue }
                    if t.hasPrefix("-") || t.contains("=") { i += 1; continue }
                    targets.append(t)
                    i += 1
                }
                return .make(targets: targets, directory: directory, file: file)
            }
            if program == "docker-compose" || (program == "docker" && tokens.count > 1 && tokens[1] == "compose") {
                var files: [String] = []
                var i = program == "docker" ? 2 : 1
                while i < tokens.count {
                    let t = tokens[i]
                    if t == "-f" || t == "--file" { if i + 1 < tokens.count { files.append(tokens[i + 1]) }; i += 2; continue }
                    if t.hasPrefix("--file=") { files.append(String(t.dropFirst(7))) }
                    i += 1
                }
                return .compose(files: files.filter { !$0.contains("$") && $0 != "-" })
            }
            if interpreters.contains(program), tokens.count > 1, looksLikePath(tokens[1]) {
                return .script(path: tokens[1], direct: false)
            }
            if looksLikePath(program) { return .script(path: program, direct: true) }
            return .other
        }
    }

    static func looksLikePath(_ token: String) -> Bool {
        guard !token.hasPrefix("-"), !token.contains("$") else { return false }
        return token.contains("/") || [".sh", ".py", ".js", ".ps1", ".bash"].contains { token.hasSuffix($0) }
    }

    /// The first README line (1-based) that mentions `needle` as the rule reads it: the whole
    /// command, or for one `make` target a line with the word `make` and the target.
    static func mentionLine(_ document: MarkdownDocument, command: String) -> Int? {
        let wanted = squeeze(command)
        if let exact = document.lines.firstIndex(where: { squeeze($0).contains(wanted) }) { return exact + 1 }
        // The command as READMEs write it: without the environment assignments in front
        // (`OTEL_SDK_DISABLED=true python -m pytest` shown as `python -m pytest`), `python3`
        // for `python`.
        let core = commandCore(command)
        guard !core.isEmpty else { return nil }
        return document.lines.firstIndex { line in
            let words = " " + commandWords(line).joined(separator: " ") + " "
            return words.contains(" " + core + " ")
        }.map { $0 + 1 }
    }

    /// The words of a line with backticks and `$ ` prompts dropped and `python3` read as `python`.
    static func commandWords(_ text: String) -> [String] {
        text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "`" }).map { $0 == "python3" ? "python" : String($0) }
            .filter { $0 != "$" }
    }

    /// A command's words after its leading `NAME=value` assignments, as `commandWords` reads them.
    static func commandCore(_ command: String) -> String {
        var words = commandWords(command)
        while let first = words.first, let eq = first.firstIndex(of: "="), eq != first.startIndex,
            first[..<eq].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" })
        { words.removeFirst() }
        return words.joined(separator: " ")
    }

    static func mentionLine(_ document: MarkdownDocument, makeTarget target: String) -> Int? {
        document.lines.firstIndex { line in
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "`" }).map(String.init)
            return words.contains("make") && words.contains(target)
        }.map { $0 + 1 }
    }

    static func squeeze(_ text: String) -> String {
        text.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
    }

    static func entrypointFindings(
        _ document: MarkdownDocument, spec: PlatformSpec, repo: Repo, directory: URL,
        file: String, prefix: String
    ) -> [Finding] {
        var findings: [Finding] = []
        let fm = FileManager.default
        for (key, command) in repo.entrypoints.sorted(by: { $0.key < $1.key }) {
            let section = spec.readme.sections.first { $0.id == key }
            let sectionLine = section.flatMap { headings(for: $0, in: document).first?.line }
            let invocations = invocations(command)

            // Documented?
            var documented = mentionLine(document, command: command) != nil
            if !documented {
                let makeTargets = invocations.flatMap { inv -> [String] in
                    if case let .make(targets, _, _) = inv { return targets }
                    return []
                }
                let onlyMake = invocations.allSatisfy { if case .make = $0 { return true } else { return false } }
                documented = onlyMake && !makeTargets.isEmpty && makeTargets.allSatisfy { mentionLine(document, makeTarget: $0) != nil }
            }
            if !documented {
                let where_ = section.map { " (in its \"\($0.title)\" section)" } ?? ""
                findings.append(
                    Finding(
                        .readmeEntrypointUndocumented, .warning, repo: repo.name, file: file, line: sectionLine,
                        "README does not show the \(key) command `\(command)` the spec declares\(where_)",
                        hint: "show the command in the README, e.g. in a sh code block under the \(section?.title ?? key) heading"))
            }

            // Exists?
            for invocation in invocations {
                switch invocation {
                case let .make(targets, makeDirectory, makeFile):
                    let base = makeDirectory.map { directory.appendingPathComponent($0) } ?? directory
                    let makefile: MakefileTargets?
                    if let makeFile, let text = try? String(contentsOf: base.appendingPathComponent(makeFile), encoding: .utf8) {
                        makefile = MakefileTargets(text: text, fileName: makeFile)
                    } else if makeFile == nil {
                        makefile = MakefileTargets.load(repository: base)
                    } else {
                        makefile = nil
                    }
                    let makefilePath = WorkspaceCheck.Located.join(
                        prefix, WorkspaceCheck.Located.join(makeDirectory ?? "", makeFile ?? makefile?.fileName ?? "Makefile"))
                    guard let makefile else {
                        findings.append(
                            Finding(
                                .readmeEntrypointMissing, .error, repo: repo.name,
                                file: mentionLine(document, command: command).map { _ in file },
                                line: mentionLine(document, command: command),
                                "entry point `\(command)` (\(key)) needs a Makefile, and \(repo.name) has none (\(makefilePath))",
                                hint:
                                    "add a Makefile with the target\(targets.count == 1 ? "" : "s") \(targets.joined(separator: ", ")), or change entrypoints.\(key) of \(repo.name) in unison.yaml"
                            ))
                        continue
                    }
                    if targets.isEmpty, makefile.targets.isEmpty {
                        findings.append(
                            Finding(
                                .readmeEntrypointMissing, .error, repo: repo.name, file: makefilePath,
                                "entry point `\(command)` (\(key)) runs the default goal, and \(makefilePath) defines no target",
                                hint: "add a first target to \(makefilePath)"))
                    }
                    for target in targets where !makefile.defines(target) {
                        let line = mentionLine(document, makeTarget: target)
                        findings.append(
                            Finding(
                                .readmeEntrypointMissing, .error, repo: repo.name,
                                file: line == nil ? makefilePath : file, line: line,
                                "entry point `\(command)` (\(key)) needs the make target '\(target)', which \(makefilePath) does not define",
                                hint: "add a '\(target):' rule to \(makefilePath), or change entrypoints.\(key) of \(repo.name) in unison.yaml"))
                    }
                case let .script(path, direct):
                    let relative = path.hasPrefix("./") ? String(path.dropFirst(2)) : path
                    let url = directory.appendingPathComponent(relative)
                    let display = WorkspaceCheck.Located.join(prefix, relative)
                    let line = mentionLine(document, command: path)
                    if !fm.fileExists(atPath: url.path) {
                        findings.append(
                            Finding(
                                .readmeEntrypointMissing, .error, repo: repo.name, file: line == nil ? nil : file, line: line,
                                "entry point `\(command)` (\(key)) runs \(path), which does not exist (\(display))",
                                hint: "add the script, or change entrypoints.\(key) of \(repo.name) in unison.yaml"))
                    } else if direct, !fm.isExecutableFile(atPath: url.path) {
                        findings.append(
                            Finding(
                                .readmeEntrypointMissing, .error, repo: repo.name, file: display,
                                "entry point `\(command)` (\(key)) runs \(path) directly, and it is not executable",
                                hint: "chmod +x \(display) && git -C \(prefix.isEmpty ? "." : prefix) add --chmod=+x \(relative)"))
                    }
                case let .compose(files):
                    for path in files {
                        let relative = path.hasPrefix("./") ? String(path.dropFirst(2)) : path
                        guard !fm.fileExists(atPath: directory.appendingPathComponent(relative).path) else { continue }
                        let line = mentionLine(document, command: command)
                        findings.append(
                            Finding(
                                .readmeEntrypointMissing, .error, repo: repo.name, file: line == nil ? nil : file, line: line,
                                "entry point `\(command)` (\(key)) names the Compose file \(path), which does not exist (\(WorkspaceCheck.Located.join(prefix, relative)))",
                                hint: "add the file, or change entrypoints.\(key) of \(repo.name) in unison.yaml"))
                    }
                case .other:
                    continue
                }
            }
        }
        return findings
    }
}
