import FoundationEssentials
import UnisonCore

/// Where a file mentions a container image, and what it does with it.
struct ImageMention: Equatable {
    enum Use: Equatable {
        /// Pulled and run: a Compose `image:`, a job container or service, a `docker://` step,
        /// `docker pull`.
        case run
        /// A Dockerfile `FROM`.
        case base
        /// A Compose service that also has `build:`: the image is built locally under this name.
        case localBuild
        /// Pushed: `docker push`, build-push-action `tags:` with `push:` set, metadata-action
        /// `images:` (a name without tag).
        case publish
        /// A name given to a local build (`docker build -t`, `docker tag`, build-push-action
        /// `tags:` without `push:`): judged only when it names a registry.
        case localTag
    }

    /// The reference with variables resolved (unresolvable parts marked).
    var text: String
    /// The reference as the file writes it.
    var written: String
    /// Path relative to the repository.
    var file: String
    var line: Int
    var use: Use
    var nameOnly = false
}

/// Finds image references in the three kinds of files the GHCR rules read.
enum ImageScan {
    // MARK: files

    static let skippedDirectories: Set<String> = [
        "node_modules", "vendor", ".venv", "venv", "__pycache__", ".tox", ".mypy_cache", ".pytest_cache", ".build", "target",
    ]

    /// `compose.yaml`, `compose.*.yml`, `docker-compose.yml`, `docker-compose.ci.yml`, …
    static func isComposeFile(_ name: String) -> Bool {
        let n = name.lowercased()
        guard n.hasSuffix(".yml") || n.hasSuffix(".yaml") else { return false }
        return n.hasPrefix("compose.") || n.hasPrefix("compose-") || n.hasPrefix("docker-compose")
    }

    /// `Dockerfile`, `Dockerfile.dev`, `api.Dockerfile`, `Containerfile`.
    static func isDockerfile(_ name: String) -> Bool {
        let n = name.lowercased()
        return n == "dockerfile" || n.hasPrefix("dockerfile.") || n.hasSuffix(".dockerfile") || n == "containerfile" || n.hasPrefix("containerfile.")
    }

    /// Compose files and Dockerfiles anywhere in the repository (dependency and cache
    /// directories, hidden directories and nested repositories skipped), and the workflows of
    /// `.github/workflows`; paths relative to the repository, sorted.
    static func files(in repository: URL) -> (compose: [String], dockerfiles: [String], workflows: [String]) {
        var compose: [String] = [], dockerfiles: [String] = []
        let fm = FileManager.default
        func walk(_ directory: URL, _ relative: String, depth: Int) {
            guard depth < 12, let names = try? fm.contentsOfDirectory(atPath: directory.path) else { return }
            for name in names.sorted() {
                let url = directory.appendingPathComponent(name)
                let rel = relative.isEmpty ? name : relative + "/" + name
                var isDirectory = false
                guard fm.fileExists(atPath: url.path, isDirectory: &isDirectory) else { continue }
                if isDirectory {
                    if name.hasPrefix(".") || skippedDirectories.contains(name) { continue }
                    if fm.fileExists(atPath: url.appendingPathComponent(".git").path) { continue }
                    walk(url, rel, depth: depth + 1)
                } else if isComposeFile(name) {
                    compose.append(rel)
                } else if isDockerfile(name) {
                    dockerfiles.append(rel)
                }
            }
        }
        walk(repository, "", depth: 0)
        let workflowDir = repository.appendingPathComponent(".github/workflows")
        let workflows = ((try? fm.contentsOfDirectory(atPath: workflowDir.path)) ?? [])
            .filter { $0.hasSuffix(".yml") || $0.hasSuffix(".yaml") }.sorted().map { ".github/workflows/\($0)" }
        return (compose, dockerfiles, workflows)
    }

    // MARK: Compose

    /// `services.<name>.image` of a Compose file. Variables come from `environment` (the
    /// `.env` file beside it); `${VAR:-default}` uses the default.
    static func compose(_ text: String, file: String, environment: [String: String]) -> [ImageMention] {
        let yaml = BlockYAML(text)
        var out: [ImageMention] = []
        for service in yaml.root["services"]?.entries ?? [] {
            guard let image = service.value["image"]?.scalar else { continue }
            let resolved = Interpolation.shell(image.text) { environment[$0] }
            let use: ImageMention.Use = service.value["build"] != nil ? .localBuild : .run
            out.append(ImageMention(text: resolved, written: image.text, file: file, line: image.line, use: use))
        }
        return out
    }

    /// `KEY=VALUE` lines of a Compose `.env` file (quotes removed, comments skipped).
    static func dotEnv(_ text: String) -> [String: String] {
        EnvLine.values(text.replacing("\r\n", with: "\n"))
    }

    // MARK: Dockerfile

    /// `FROM` lines, with global `ARG` defaults substituted (Dockerfile reference, "Understand
    /// how ARG and FROM interact"); earlier stage names and `scratch` are not images.
    static func dockerfile(_ text: String, file: String) -> [ImageMention] {
        var out: [ImageMention] = []
        var args: [String: String] = [:]
        var stages: Set<String> = []
        var sawFrom = false
        var logical: [(Int, String)] = []
        var pending = "", pendingLine = 0
        for (index, raw) in text.replacing("\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = String(raw)
            if pending.isEmpty {
                if line.trimmingSpaces.hasPrefix("#") { continue }
                pendingLine = index + 1
            }
            if line.hasSuffix("\\") { pending += line.dropLast() + " "; continue }
            logical.append((pendingLine, pending + line))
            pending = ""
        }
        for (number, line) in logical {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard let instruction = words.first?.uppercased() else { continue }
            if instruction == "ARG", !sawFrom {
                for declaration in words.dropFirst() {
                    if let eq = declaration.firstIndex(of: "=") {
                        var value = String(declaration[declaration.index(after: eq)...])
                        if value.count >= 2, let f = value.first, f == value.last, f == "\"" || f == "'" {
                            value = String(value.dropFirst().dropLast())
                        }
                        args[String(declaration[..<eq])] = value
                    }
                }
            }
            guard instruction == "FROM" else { continue }
            sawFrom = true
            let operands = words.dropFirst().filter { !$0.hasPrefix("--") }
            guard let image = operands.first else { continue }
            let resolved = Interpolation.shell(image) { args[$0] }
            let isStage = stages.contains(resolved.lowercased()) && !resolved.contains("/") && !resolved.contains(":")
            if operands.count >= 3, operands[operands.startIndex + 1].uppercased() == "AS" {
                stages.insert(operands[operands.startIndex + 2].lowercased())
            }
            if resolved.lowercased() == "scratch" || isStage { continue }
            out.append(ImageMention(text: resolved, written: image, file: file, line: number, use: .base))
        }
        return out
    }
}
