import FoundationEssentials
import UnisonCore
import UnisonSpec

extension SpecDrift {
    /// The services a repo's image runs as its own command (workers with a `command` of their
    /// own, such as the Telegram worker, run something else from the same image).
    func imageServices(of repo: Repo) -> [Service] {
        spec.allServices.filter { $0.repo == repo.name && $0.command == nil }
    }

    // MARK: Dockerfile

    func checkDockerfile(_ repo: Repo, _ dir: URL) -> [Drift] {
        guard let path = repo.dockerfile else { return [] }
        let url = dir.appendingPathComponent(path)
        guard let text = try? String(contentsOf: url, encoding: .utf8) else {
            return [
                Drift(
                    .dockerfileMissing, repo: repo.name, "the spec builds \(repo.name) from \(path), which the repo does not have",
                    spec: specLocation("repo:\(repo.name).dockerfile"), found: DriftLocation(file: display(dir)))
            ]
        }
        let services = imageServices(of: repo)
        guard !services.isEmpty else { return [] }
        let facts = DockerfileFacts.parse(text)
        var out: [Drift] = []
        let file = display(url)
        for service in services {
            if !facts.exposed.isEmpty, !facts.exposed.contains(where: { $0.port == service.port }) {
                let line = facts.exposed.first?.line
                out.append(
                    Drift(
                        .dockerfilePort, repo: repo.name,
                        "\(file) exposes \(facts.exposed.map { String($0.port) }.joined(separator: ", ")); the spec gives service '\(service.name)' port \(service.port)",
                        spec: specLocation("service:\(service.name).port"), found: DriftLocation(file: file, line: line)))
            }
            if let cmd = facts.commandPort, cmd.port != service.port {
                out.append(
                    Drift(
                        .dockerfilePort, repo: repo.name,
                        "\(file) starts the server with --port \(cmd.port); the spec gives service '\(service.name)' port \(service.port)",
                        spec: specLocation("service:\(service.name).port"), found: DriftLocation(file: file, line: cmd.line)))
            }
        }
        return out
    }

    // MARK: workflows

    /// Image names published by the repo's workflows: `image_name:` of unison-platform's
    /// reusable build, and `ghcr.io/<org>/<name>`, `ghcr.io/${{ github.repository_owner }}/<name>`
    /// or `ghcr.io/${{ github.repository }}` references.
    /// A workflow whose jobs are switched off (`if: false`) publishes nothing.
    func checkWorkflows(_ repo: Repo, _ dir: URL) -> [Drift] {
        let workflows = dir.appendingPathComponent(".github/workflows")
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: workflows.path) else { return [] }
        var out: [Drift] = []
        for name in names.sorted() where name.hasSuffix(".yml") || name.hasSuffix(".yaml") {
            let url = workflows.appendingPathComponent(name)
            guard let text = try? String(contentsOf: url, encoding: .utf8) else { continue }
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            let trimmed = lines.map { $0.trimming(.whitespaces) }
            let publishes = text.contains("packages: write") || text.contains("reusable-build.yml") || text.contains("push: true")
            guard publishes, !trimmed.contains("if: false") else { continue }
            for (i, line) in trimmed.enumerated() {
                for image in Self.publishedImages(in: line, org: spec.platform.org, repo: repo.name)
                where !repo.images.contains(image) && image != repo.name + "-ci" {
                    out.append(
                        Drift(
                            .workflowImage, repo: repo.name,
                            "\(display(url)) publishes image '\(image)'; the spec's images for \(repo.name): "
                                + (repo.images.isEmpty ? "none" : repo.images.joined(separator: ", ")),
                            spec: specLocation(repo.images.isEmpty ? "repo:\(repo.name)" : "repo:\(repo.name).images"),
                            found: DriftLocation(file: display(url), line: i + 1)))
                }
            }
        }
        return out
    }

    static func publishedImages(in line: String, org: String, repo: String) -> [String] {
        var out: [String] = []
        let t = line.hasPrefix("- ") ? String(line.dropFirst(2)) : line
        if t.hasPrefix("image_name:") {
            let value = BlockYAML.unquote(String(t.dropFirst("image_name:".count)).trimming(.whitespaces))
            if !value.isEmpty, !value.contains("${{") { out.append(value.lowercased()) }
        }
        let lower = t.lowercased()
        for prefix in ["ghcr.io/\(org.lowercased())/", "ghcr.io/${{ github.repository_owner }}/", "ghcr.io/${{ github.repository }}"] {
            var rest = Substring(lower)
            while let r = rest.firstRange(of: prefix) {
                let after = rest[r.upperBound...]
                if prefix.hasSuffix("}}") {
                    out.append(repo)
                } else {
                    let name = after.prefix { $0.isLetter || $0.isNumber || "-_./".contains($0) }
                    if !name.isEmpty { out.append(String(name)) }
                }
                rest = after
            }
        }
        return Array(Set(out)).sorted()
    }

    // MARK: git

    /// The branch the repo's origin names as HEAD (what a clone checks out), else the branch
    /// checked out.
    func checkBranch(_ repo: Repo, _ dir: URL) -> [Drift] {
        guard WorkspaceGit.isRepository(dir) else { return [] }
        func git(_ args: [String]) -> String? {
            guard
                let r = try? runner.run(
                    ["git", "-C", dir.path] + args, environment: ["GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"],
                    input: nil, workingDirectory: nil), r.status == 0
            else { return nil }
            let s = r.stdoutString.trimming(.whitespacesAndNewlines)
            return s.isEmpty ? nil : s
        }
        var branch: String?
        var source = "refs/remotes/origin/HEAD"
        if let remote = git(["symbolic-ref", "-q", "--short", "refs/remotes/origin/HEAD"]) {
            branch = remote.hasPrefix("origin/") ? String(remote.dropFirst("origin/".count)) : remote
        } else if let head = git(["symbolic-ref", "-q", "--short", "HEAD"]) {
            branch = head
            source = "HEAD"
        }
        guard let branch, branch != repo.defaultBranch else { return [] }
        return [
            Drift(
                .defaultBranch, repo: repo.name,
                "\(repo.name)'s \(source) names branch '\(branch)'; the spec says '\(repo.defaultBranch)'",
                spec: specLocation("repo:\(repo.name).defaultBranch"), found: DriftLocation(file: display(dir) + " (\(source))"))
        ]
    }

    // MARK: README

    func checkReadme(_ repo: Repo, _ dir: URL) -> [Drift] {
        let url = dir.appendingPathComponent("README.md")
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return [] }
        var out: [Drift] = []
        let file = display(url)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if let (title, line) = Self.title(lines) {
            let slug = Self.slug(title)
            let names = [repo.name] + repo.images
            if !names.contains(where: { slug.contains(Self.slug($0)) }) {
                out.append(
                    Drift(
                        .readmeTitle, repo: repo.name,
                        "\(file) is titled '\(title)', which names neither \(repo.name) nor its images",
                        spec: specLocation("repo:\(repo.name)"), found: DriftLocation(file: file, line: line)))
            }
        }
        let flat = text.replacing("`", with: "")
        for (key, command) in repo.entrypoints.sorted(by: { $0.key < $1.key }) where !flat.contains(command) {
            out.append(
                Drift(
                    .readmeEntrypoint, repo: repo.name,
                    "\(file) does not show the \(key) entry point the spec gives: \(command)",
                    spec: specLocation("repo:\(repo.name).entrypoints"), found: DriftLocation(file: file)))
        }
        return out
    }

    /// The first level-1 heading, ATX (`# Title`) or setext (`Title` over `===`), outside code fences.
    static func title(_ lines: [String]) -> (String, Int)? {
        var fenced = false
        for (i, line) in lines.enumerated() {
            let t = line.trimming(.whitespaces)
            if t.hasPrefix("```") || t.hasPrefix("~~~") { fenced.toggle(); continue }
            if fenced { continue }
            if t.hasPrefix("# ") { return (String(t.dropFirst(2)).trimming(.whitespaces), i + 1) }
            if !t.isEmpty, i + 1 < lines.count, lines[i + 1].hasPrefix("==="),
                lines[i + 1].allSatisfy({ $0 == "=" || $0 == " " })
            {
                return (t, i + 1)
            }
        }
        return nil
    }

    /// Lowercase words joined by `-` (`Unison Consent Service` → `unison-consent-service`).
    static func slug(_ s: String) -> String {
        s.lowercased().split { !($0.isLetter || $0.isNumber) }.joined(separator: "-")
    }

    // MARK: repos on disk

    func checkUnknownRepos(_ found: [String: URL]) -> [Drift] {
        var out: [Drift] = []
        let known = Set(spec.repos.map(\.name))
        let fm = FileManager.default
        let entries = (try? fm.contentsOfDirectory(atPath: workspace.path)) ?? []
        for name in entries.sorted() where !known.contains(name) && !name.hasPrefix(".") {
            let dir = workspace.appendingPathComponent(name)
            guard WorkspaceGit.isRepository(dir) else { continue }
            out.append(
                Drift(
                    .repoUnknown, repo: name, "'\(name)' is a repository in the workspace that the spec does not list",
                    spec: DriftLocation(file: sourceMap.file), found: DriftLocation(file: name)))
        }
        // Submodules of the workspace repo against the spec's checkout kinds.
        guard let meta = spec.repos.first(where: { $0.role == .workspace }), let metaDir = found[meta.name],
            let gitmodules = try? String(contentsOf: metaDir.appendingPathComponent(".gitmodules"), encoding: .utf8)
        else {
            return out
        }
        var submodules: [String: Int] = [:]
        for (i, line) in gitmodules.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if case let .entry(key: "path", value) = INILine(line) { submodules[value] = i + 1 }
        }
        let gitmodulesFile = display(metaDir.appendingPathComponent(".gitmodules"))
        for (path, line) in submodules.sorted(by: { $0.key < $1.key }) {
            if let repo = spec.repo(named: path) {
                if repo.checkout != .submodule {
                    out.append(
                        Drift(
                            .repoCheckout, repo: repo.name,
                            "\(repo.name) is a submodule of \(meta.name); the spec says checkout: \(repo.checkout.rawValue)",
                            spec: specLocation("repo:\(repo.name).checkout"), found: DriftLocation(file: gitmodulesFile, line: line)))
                }
            } else if !out.contains(where: { $0.kind == .repoUnknown && $0.repo == path }) {
                out.append(
                    Drift(
                        .repoUnknown, repo: path, "submodule '\(path)' of \(meta.name) is not a repo of the spec",
                        spec: DriftLocation(file: sourceMap.file), found: DriftLocation(file: gitmodulesFile, line: line)))
            }
        }
        for repo in spec.repos where repo.checkout == .submodule && submodules[repo.name] == nil {
            out.append(
                Drift(
                    .repoCheckout, repo: repo.name,
                    "the spec says \(repo.name) is a submodule of \(meta.name); its .gitmodules does not list it",
                    spec: specLocation("repo:\(repo.name).checkout"), found: DriftLocation(file: gitmodulesFile)))
        }
        return out
    }
}

/// What `spec drift` reads from a Dockerfile: its `EXPOSE` ports and the `--port` its
/// `CMD`/`ENTRYPOINT` passes (the default of `${VAR:-N}`), each with its line. Continuation
/// lines are joined; the last stage's instructions win, as in a build.
struct DockerfileFacts {
    var exposed: [(port: Int, line: Int)] = []
    var commandPort: (port: Int, line: Int)?

    static func parse(_ text: String) -> DockerfileFacts {
        var facts = DockerfileFacts()
        var logical: [(text: String, line: Int)] = []
        var current = ""
        var start = 0
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = String(raw)
            if current.isEmpty {
                let t = line.trimming(.whitespaces)
                if t.hasPrefix("#") || t.isEmpty { continue }
                start = i + 1
            }
            if line.hasSuffix("\\") {
                current += String(line.dropLast()) + " "
            } else {
                current += line
                logical.append((current, start))
                current = ""
            }
        }
        if !current.isEmpty { logical.append((current, start)) }
        for (text, line) in logical {
            let t = text.trimming(.whitespaces)
            let upper = t.uppercased()
            if upper.hasPrefix("FROM ") {
                facts = DockerfileFacts()
            } else if upper.hasPrefix("EXPOSE ") {
                for word in t.dropFirst(7).split(separator: " ") {
                    let w = ComposeFile.resolve(String(word)).split(separator: "/").first.map(String.init) ?? ""
                    if let n = Int(w) { facts.exposed.append((n, line)) }
                }
            } else if upper.hasPrefix("CMD ") || upper.hasPrefix("ENTRYPOINT ") {
                if upper.hasPrefix("HEALTHCHECK") { continue }
                let body = t.drop { $0 != " " }
                let words = ComposeFile.flowItems(body.trimming(.whitespaces).trimming(ScalarSet(charactersIn: "[]")))
                    .flatMap { $0.split(separator: " ").map(String.init) }
                if let i = words.firstIndex(where: { $0 == "--port" || $0.hasPrefix("--port=") }) {
                    let value = words[i].hasPrefix("--port=") ? String(words[i].dropFirst(7)) : (i + 1 < words.count ? words[i + 1] : "")
                    if let n = Int(ComposeFile.resolve(value).trimming(ScalarSet(charactersIn: "\"'"))) {
                        facts.commandPort = (n, line)
                    }
                }
            }
        }
        return facts
    }
}
