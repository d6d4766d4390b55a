import ArgumentParser
import FoundationEssentials
import UnisonCore
import UnisonOCI
import UnisonPublish
import UnisonRelease
import UnisonSpec

struct ReleaseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "release",
        abstract: "Versions, channels, GHCR tags, plans and release files.",
        subcommands: [
            Version.self, Channel.self, Tags.self, Targets.self, Plan.self, Manifest.self, Checksums.self, Notes.self,
            ReleasePromote.self, SplitISO.self,
            Attest.self, Verify.self, Attach.self,
        ]
    )

    struct Version: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "version",
            abstract: "Print the next version of a repository from its Conventional Commits since the last release tag.")

        @Option(help: ArgumentHelp("Repository to read (default: the current directory).", valueName: "path"))
        var repo: String = "."
        @OptionGroup var specOptions: SpecOptions
        @OptionGroup var output: JSONOption

        func run() async throws {
            let rules = BumpRules(bumpMinorPreMajor: try specOptions.loadReleaseSpecIfPresent()?.release.bumpMinorPreMajor ?? false)
            let next = try VersionCalculator.next(repository: GitRepository(directory: URL(fileURLWithPath: repo)), rules: rules)
            if output.json { try Output.json(next); return }
            print(ReleaseText.version(next))
        }
    }

    struct Channel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "channel",
            abstract: "Print the channel a git ref publishes to and the version it carries (beta branch: numbered by the CI run).")

        @Option(
            help: ArgumentHelp("Git ref: refs/heads/main, refs/heads/release/0.5, refs/tags/v0.5.0-alpha.1, refs/pull/7/merge.", valueName: "ref"))
        var ref: String
        @Option(help: "GitHub event name.")
        var event: String = "push"
        @Option(help: ArgumentHelp("Repository whose tags count for a channel numbered by tag (default: the current directory).", valueName: "path"))
        var repo: String = "."
        @OptionGroup var ci: RunOptions
        @Option(
            name: .customLong("github-output"),
            help: ArgumentHelp(
                "Append channel, version, prerelease, github-release, target (empty when none) to this file ($GITHUB_OUTPUT).", valueName: "file"))
        var githubOutput: String?
        @OptionGroup var specOptions: SpecOptions
        @OptionGroup var output: JSONOption

        func run() async throws {
            let spec = try specOptions.load()
            let resolution = try ChannelResolver.resolve(
                ref: ref, event: event, channels: spec.channels,
                repository: GitRepository(directory: URL(fileURLWithPath: repo)),
                run: ci.context(spec: spec))
            if let githubOutput {
                try GitHubOutput.append(
                    [
                        ("channel", resolution.channel ?? ""), ("version", resolution.version ?? ""),
                        ("prerelease", resolution.prerelease ? "true" : "false"),
                        ("github-release", resolution.githubRelease ?? ""), ("target", resolution.target ?? ""),
                    ],
                    to: URL(fileURLWithPath: githubOutput))
            }
            if output.json { try Output.json(resolution); return }
            print("\(resolution.channel ?? "none")\(resolution.version.map { " \($0)" } ?? "")  (\(resolution.reason))")
        }
    }

    struct Tags: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "tags",
            abstract: "Compute image tags and OCI labels exactly as docker/metadata-action does.",
            discussion: """
                Without --tag/--flavor the rules come from the spec channel the ref resolves to; a ref no channel \
                takes gets the action's defaults (type=schedule, type=ref,event=branch|tag|pr). Labels title, \
                description, url and source come from --title/--description/--url (or the spec's service repo), \
                licenses from --license: unisonctl does not ask the GitHub API.
                """)

        @Option(help: "GitHub event name (push, pull_request, schedule, workflow_dispatch, …).")
        var event: String = "push"
        @Option(help: ArgumentHelp("Git ref (GITHUB_REF).", valueName: "ref"))
        var ref: String
        @Option(help: ArgumentHelp("Commit SHA (GITHUB_SHA), 40 hex digits.", valueName: "sha"))
        var sha: String = ""
        @Option(name: .customLong("image"), help: ArgumentHelp("Image (repeatable), e.g. ghcr.io/project-unisonos/unison-auth.", valueName: "image"))
        var images: [String] = []
        @Option(help: ArgumentHelp("Platform service whose image (from the spec) is tagged.", valueName: "name"))
        var service: String?
        @Option(name: .customLong("tag"), help: ArgumentHelp("A metadata-action tags: line (repeatable).", valueName: "rule"))
        var tagRules: [String] = []
        @Option(name: .customLong("flavor"), help: ArgumentHelp("A metadata-action flavor: line (repeatable).", valueName: "rule"))
        var flavorRules: [String] = []
        @Option(name: .customLong("label"), help: ArgumentHelp("An extra label key=value (expressions allowed; repeatable).", valueName: "label"))
        var labels: [String] = []
        @Option(help: ArgumentHelp("Fixed 'now' (ISO 8601); default SOURCE_DATE_EPOCH when set, else the clock.", valueName: "date"))
        var date: String?
        @Option(
            name: .customLong("commit-date"),
            help: ArgumentHelp("Commit date for {{commit_date}} (default: the committer date of --sha in --repo, else --date).", valueName: "date"))
        var commitDate: String?
        @Option(help: ArgumentHelp("Repository where --sha's commit date is looked up (default: the current directory).", valueName: "path"))
        var repo: String = "."
        @OptionGroup var ci: RunOptions
        @Option(name: .customLong("base-ref"), help: ArgumentHelp("Base branch for {{base_ref}}.", valueName: "branch"))
        var baseRef: String?
        @Option(help: "org.opencontainers.image.title (the action: the GitHub repo name).")
        var title: String?
        @Option(help: "org.opencontainers.image.description.")
        var description: String?
        @Option(help: "org.opencontainers.image.url and .source.")
        var url: String?
        @Option(help: "org.opencontainers.image.licenses (SPDX).")
        var license: String?
        @Option(
            name: .customLong("github-output"),
            help: ArgumentHelp("Append version, tags, tag-names, labels, annotations to this file ($GITHUB_OUTPUT).", valueName: "file"))
        var githubOutput: String?
        @OptionGroup var specOptions: SpecOptions
        @OptionGroup var output: JSONOption

        func validate() throws {
            if !sha.isEmpty, !(sha.count == 40 && sha.allSatisfy(\.isHexDigit)) {
                throw ValidationError("--sha must be 40 hex digits, got '\(sha)'")
            }
        }

        func run() async throws {
            let env = ProcessInfo.processInfo.environment
            var shortLength = 7
            if let raw = env["DOCKER_METADATA_SHORT_SHA_LENGTH"] {
                guard let n = Int(raw), n > 0 else { throw ValidationError("DOCKER_METADATA_SHORT_SHA_LENGTH is not a valid number: \(raw)") }
                shortLength = n
            }
            let now = try ReleaseTags.now(explicit: date)
            // As the action's git context does: the commit's own date when the commit is at hand.
            let commitDay =
                try commitDate.map(ReleaseTags.parseDate)
                ?? (sha.isEmpty ? nil : try? GitRepository(directory: URL(fileURLWithPath: repo)).commitDate(sha))
            let request = TagRequest(
                event: event, ref: ref, sha: sha, date: now, commitDate: commitDay,
                defaultBranch: ci.defaultBranch, baseRef: baseRef, images: images, service: service,
                tags: tagRules.isEmpty && flavorRules.isEmpty ? nil : tagRules,
                flavor: tagRules.isEmpty && flavorRules.isEmpty ? nil : flavorRules,
                labels: labels, title: title, description: description, url: url, license: license,
                shortSHALength: shortLength, runNumber: ci.runNumber, runAttempt: ci.runAttempt,
                existingTags: (try? GitRepository(directory: URL(fileURLWithPath: repo)).tags().map(\.name)) ?? [])
            let needsSpec = service != nil || (tagRules.isEmpty && flavorRules.isEmpty)
            let plan = try ReleaseTags.plan(request, spec: needsSpec ? try specOptions.loadReleaseSpecIfPresent() : nil)
            for warning in plan.warnings { FileIO.standardError.write("warning: \(warning)\n") }
            if let githubOutput { try GitHubOutput.append(plan.githubOutputs, to: URL(fileURLWithPath: githubOutput)) }
            if output.json { try Output.json(plan); return }
            for tag in plan.tags { print(tag) }
        }
    }
}

/// What a CI run adds to a ref: the repository's default branch, the run number and attempt.
struct RunOptions: ParsableArguments {
    @Option(
        name: .customLong("default-branch"),
        help: ArgumentHelp("The repository's default branch, main or master (default: the spec's platform.defaultBranch).", valueName: "branch"))
    var defaultBranch: String?
    @Option(
        name: .customLong("run-number"), help: ArgumentHelp("CI run number (GITHUB_RUN_NUMBER): numbers a release branch's beta.", valueName: "n"))
    var runNumber: UInt64?
    @Option(name: .customLong("run-attempt"), help: ArgumentHelp("CI run attempt (GITHUB_RUN_ATTEMPT).", valueName: "n"))
    var runAttempt: UInt64 = 1

    func context(spec: PlatformSpec?) -> RunContext {
        RunContext(defaultBranch: defaultBranch ?? spec?.platform.defaultBranch ?? "main", runNumber: runNumber, runAttempt: runAttempt)
    }
}

extension ReleaseCommand {
    struct Targets: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "targets",
            abstract:
                "Print a release's per-target git tags (vX.Y.Z-wsl2, -linux-vm, -bare-metal), the rolling latest-* tags they move, and their asset names.",
            discussion: """
                An alpha (vX.Y.Z-alpha.N) is one immutable tag carrying every target; a pre-release moves no \
                rolling tag. Rolling tags are force-moved: git tag -fa latest-wsl vX.Y.Z-wsl2.
                """)

        @Option(help: ArgumentHelp("Release version, e.g. v0.5.0 or v0.5.0-alpha.1.", valueName: "version"))
        var version: String
        @OptionGroup var specOptions: SpecOptions
        @OptionGroup var output: JSONOption

        func run() async throws {
            let v = try ReleaseOptions.version(version).tagString(forceV: true)
            let spec = try specOptions.loadReleaseSpecIfPresent()
            let channel = spec.flatMap { ChannelResolver.channel(for: "refs/tags/\(v)", event: "push", channels: $0.channels)?.name }
            let plan = TargetTagPlan.plan(version: v, channel: channel)
            if output.json { try Output.json(plan); return }
            for t in plan.targets {
                print(
                    "\(t.target.padded(to: 10)) \(t.tag)\(t.rolling.map { " -> \($0)" } ?? "")  \(t.assets.joined(separator: " "))"
                )
            }
        }
    }

    struct Plan: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "plan",
            abstract:
                "Plan a platform release: every repo's last tag, commits since, whether it takes part, the image tag pinned, and the matrix row.")

        @Option(help: ArgumentHelp("Platform version to release, e.g. v0.5.0.", valueName: "version"))
        var version: String
        @Option(help: ArgumentHelp("Directory holding one checkout per repo (default: the current directory).", valueName: "dir"))
        var workspace: String = "."
        @Flag(help: "Print markdown.")
        var markdown = false
        @OptionGroup var specOptions: SpecOptions
        @OptionGroup var output: JSONOption

        func run() async throws {
            let spec = try specOptions.load()
            let plan = try ReleasePlanner.plan(
                spec: spec, version: try ReleaseOptions.version(version),
                workspace: URL(fileURLWithPath: workspace))
            if output.json { try Output.json(plan); return }
            if markdown { print(ReleasePlanner.markdown(plan, spec: spec), terminator: ""); return }
            print(
                "\(spec.platform.displayName) \(plan.version) (channel \(plan.channel ?? "none")): \(plan.participating.count) of \(plan.repos.count) repos take part"
            )
            for r in plan.repos {
                let mark = r.participates ? "+" : " "
                print(
                    "\(mark) \(r.repo.padded(to: 28)) \((r.lastTag ?? "-").padded(to: 10)) -> \((r.nextVersion ?? "-").padded(to: 10)) \(r.branch ?? "-") \(r.commits.count) commits  \(r.status == .ok ? r.reason : "\(r.status.rawValue): \(r.reason)")"
                )
            }
        }
    }

    struct Manifest: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "manifest",
            abstract: "Write unisonos-manifest-<v>.json (schema unison.platform.release.manifest.v1, as unison-updates reads it).",
            discussion: """
                release (version, channel, built_at, git), assets (size and sha256 of each file of the artifacts \
                directory), compose (files hashed, images, each service pinned image:tag@digest), model_packs \
                (default_profile) and requirements. JSON Schema: docs/schemas/unison.platform.release.manifest.v1.schema.json.
                """)

        @Option(help: ArgumentHelp("Platform version, e.g. v0.5.0.", valueName: "version"))
        var version: String
        @Option(help: "Channel (default: from the spec's tag patterns).")
        var channel: String?
        @Option(help: ArgumentHelp("Platform commit (40 hex digits; default: HEAD of --repo).", valueName: "sha"))
        var commit: String?
        @Option(help: ArgumentHelp("Repository whose HEAD is the release commit.", valueName: "path"))
        var repo: String = "."
        @Option(name: .customLong("digest"), help: ArgumentHelp("Image digest of a service (repeatable).", valueName: "name=sha256:hex"))
        var digests: [String] = []
        @Option(name: .customLong("digests"), help: ArgumentHelp("JSON file {\"service\": \"sha256:…\"}.", valueName: "file"))
        var digestsFile: String?
        @Option(
            name: .customLong("service-tag"),
            help: ArgumentHelp("Image tag of a service (repeatable; overrides --matrix/--workspace).", valueName: "name=vX.Y.Z"))
        var serviceTags: [String] = []
        @Option(help: ArgumentHelp("Compatibility matrix whose row for --version gives the service tags.", valueName: "file"))
        var matrix: String?
        @Option(help: ArgumentHelp("Workspace whose release plan gives the service tags.", valueName: "dir"))
        var workspace: String?
        @Option(help: ArgumentHelp("Artifacts directory (default: the spec's release.artifacts).", valueName: "dir"))
        var artifacts: String?
        @Option(name: .customLong("compose"), help: ArgumentHelp("Compose file whose sha256 is recorded (repeatable).", valueName: "file"))
        var composeFiles: [String] = []
        @Option(
            name: .customLong("model-pack-profile"),
            help: ArgumentHelp("Model pack profile devices are offered (default: alpha/default).", valueName: "profile"))
        var modelPackProfile: String?
        @Flag(
            name: .customLong("resolve-digests"),
            help: "Take every digest not given from the registry: the service image at its release tag.")
        var resolveDigests = false
        @Option(
            name: .customLong("registry-override"),
            help: ArgumentHelp("Registry that stands in for the spec's when resolving (e.g. a mirror).", valueName: "host[:port]|url"))
        var registryOverride: String?
        @OptionGroup var registry: RegistryOptions
        @OptionGroup var specOptions: SpecOptions

        func validate() throws {
            if registryOverride != nil, !resolveDigests { throw ValidationError("--registry-override needs --resolve-digests") }
            if let registryOverride, (try? RegistryEndpoint(parsing: registryOverride)) == nil {
                throw ValidationError("--registry-override '\(registryOverride)' is not host[:port] or a URL")
            }
        }

        func run() async throws {
            let (specURL, spec) = try specOptions.loadWithURL()
            let v = try ReleaseOptions.version(version)
            let tags = try ReleaseOptions.serviceTags(explicit: serviceTags, matrix: matrix, workspace: workspace, version: v, spec: spec)
            var known = try ReleaseFiles.digests(pairs: digests, file: digestsFile.map { URL(fileURLWithPath: $0) })
            if resolveDigests {
                let override = try registryOverride.map { try RegistryEndpoint(parsing: $0) }
                let target = ServiceImages.registry(spec: spec, override: override)
                known.merge(
                    try await DigestResolution.resolve(
                        spec: spec, serviceTags: tags, known: Set(known.keys), override: override,
                        client: try registry.client(for: target.host, plainHTTP: target.plainHTTP))
                ) { $1 }
            }
            let request = ManifestRequest(
                version: v, channel: channel,
                commit: try commit ?? ReleaseOptions.head(repo),
                digests: known,
                serviceTags: tags,
                artifactsDirectory: ReleaseOptions.artifactsDirectory(artifacts, spec: spec, specURL: specURL),
                sourceDateEpoch: SourceDateEpoch.current(),
                composeFiles: composeFiles.map { URL(fileURLWithPath: $0) }, modelPackProfile: modelPackProfile)
            let url = try ReleaseFiles.writeManifest(try ReleaseFiles.manifest(request, spec: spec), to: request.artifactsDirectory)
            print(url.path)
        }
    }

    struct Checksums: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "checksums",
            abstract: "Write SHA256SUMS-<v>.txt for the artifacts directory (checkable with sha256sum -c).")

        @Option(help: ArgumentHelp("Platform version, e.g. v0.5.0.", valueName: "version"))
        var version: String
        @Option(help: ArgumentHelp("Artifacts directory (default: the spec's release.artifacts).", valueName: "dir"))
        var artifacts: String?
        @OptionGroup var specOptions: SpecOptions

        func run() async throws {
            let dir: URL
            if let artifacts {
                dir = URL(fileURLWithPath: artifacts)
            } else {
                let (url, spec) = try specOptions.loadWithURL()
                dir = ReleaseOptions.artifactsDirectory(nil, spec: spec, specURL: url)
            }
            let result = try ReleaseFiles.checksums(directory: dir, version: try ReleaseOptions.version(version))
            print(result.url.path)
        }
    }

    struct Notes: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "notes",
            abstract: "Write release notes grouped by type from the commits of every participating repo.")

        @Option(help: ArgumentHelp("Platform version, e.g. v0.5.0.", valueName: "version"))
        var version: String
        @Option(help: ArgumentHelp("Directory holding one checkout per repo.", valueName: "dir"))
        var workspace: String = "."
        @Option(name: .customLong("output"), help: ArgumentHelp("Write to this file (atomically) instead of stdout.", valueName: "file"))
        var outputFile: String?
        @OptionGroup var specOptions: SpecOptions

        func run() async throws {
            let spec = try specOptions.load()
            let plan = try ReleasePlanner.plan(
                spec: spec, version: try ReleaseOptions.version(version),
                workspace: URL(fileURLWithPath: workspace))
            let text = ReleaseNotes.markdown(plan, displayName: spec.platform.displayName)
            if let outputFile {
                try AtomicFile.write(Data(text.utf8), to: URL(fileURLWithPath: outputFile))
            } else {
                print(text, terminator: "")
            }
        }
    }
}

/// Option parsing shared by the release commands.
enum ReleaseOptions {
    static func version(_ text: String) throws -> SemVer {
        guard let v = SemVer(text) else { throw ValidationError("'\(text)' is not a SemVer 2.0.0 version (e.g. v0.5.0)") }
        return v
    }

    static func head(_ repo: String) throws -> String {
        guard let sha = try GitRepository(directory: URL(fileURLWithPath: repo)).head() else {
            throw ValidationError("\(repo) has no commits; pass --commit")
        }
        return sha
    }

    static func artifactsDirectory(_ explicit: String?, spec: PlatformSpec, specURL: URL) -> URL {
        if let explicit { return URL(fileURLWithPath: explicit) }
        let dir = spec.release.artifacts
        return dir.hasPrefix("/") ? URL(fileURLWithPath: dir) : specURL.deletingLastPathComponent().appendingPathComponent(dir)
    }

    /// Service tags: --service-tag pairs over the matrix row over the workspace plan.
    static func serviceTags(explicit: [String], matrix: String?, workspace: String?, version: SemVer, spec: PlatformSpec) throws -> [String: String] {
        var tags: [String: String] = [:]
        if let workspace {
            tags.merge(try ReleasePlanner.plan(spec: spec, version: version, workspace: URL(fileURLWithPath: workspace)).matrixRow) { $1 }
        }
        if let matrix {
            let m = try CompatFile.read(matrix)
            guard let row = m.row(for: version) else {
                throw ValidationError("\(matrix) has no row for \(version.tagString(forceV: true))")
            }
            // A repository's column gives each of its services (comms and its worker share one).
            for (service, constraint) in CompatibilityMatrix.cellsByService(row, spec: spec) {
                if let exact = constraint.exactVersion { tags[service] = exact.tagString(forceV: true) }
            }
        }
        tags.merge(try ReleaseFiles.keyValues(explicit, option: "--service-tag")) { $1 }
        return tags
    }
}

extension SpecOptions {
    /// The spec when one is given or found; nil when none exists (commands that can run without it).
    func loadReleaseSpecIfPresent() throws -> PlatformSpec? {
        do {
            return try load()
        } catch SpecLocationError.notFound {
            return nil
        }
    }
}

/// Human-readable forms of release results.
enum ReleaseText {
    static func version(_ next: NextVersion) -> String {
        var lines: [String] = []
        let from = next.previousTag ?? "no release tag"
        if let v = next.next {
            lines.append("\(v.tagString()) (\(next.bump), \(next.reason); previous: \(from))")
        } else {
            lines.append("no release (\(next.reason); previous: \(from))")
        }
        for c in next.commits {
            let mark = next.deciding.contains(c.sha) ? "*" : " "
            lines.append("\(mark) \(String(c.sha.prefix(7))) \(c.bump.description.padded(to: 5)) \(c.subject)")
        }
        return lines.joined(separator: "\n")
    }
}
