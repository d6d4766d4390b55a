import ArgumentParser
import FoundationEssentials
import UnisonCore
import UnisonOCI

struct OCICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "oci",
        abstract: "Push, pull, copy, tag and inspect images and artifacts in OCI registries.",
        discussion: """
            References are plain (127.0.0.1:5000/team/app:v1, ghcr.io/org/app@sha256:…; docker.io/library is implied for \
            short names). OCI layout directories are written oci:DIR[:TAG]. Loopback registries are spoken to over plain \
            HTTP, others over HTTPS unless --plain-http. Credentials: --username with --password-stdin (for the registry \
            written to, or read from when nothing is written), else UNISON_REGISTRY_USER/UNISON_REGISTRY_PASSWORD (for \
            UNISON_REGISTRY_HOST when set, else for that same registry only), else GITHUB_TOKEN for ghcr.io, else \
            ~/.docker/config.json. Credentials go only to their registry's origin (scheme, host, port): never to an \
            upload Location or redirect elsewhere. Only localhost, 127.0.0.0/8 and ::1 count as loopback. HTTPS checks the \
            certificate chain and name always; a private registry's CA and client certificate come from \
            /etc/containers/certs.d and /etc/docker/certs.d (HOST:PORT/*.crt, NAME.cert and NAME.key), or --certs-dir.
            """,
        subcommands: [
            OCIPush.self, OCIPull.self, OCICopy.self, OCITag.self, OCIList.self, OCIInspect.self,
            OCIPushArtifact.self, OCIReferrers.self,
        ]
    )
}

/// Flags shared by every command that talks to a registry.
struct RegistryOptions: ParsableArguments {
    @Flag(
        name: .long,
        help: "Use plain HTTP for every registry (localhost, 127.0.0.0/8 and ::1 use it anyway, unless a certs.d folder names them).")
    var plainHTTP = false

    @Option(name: .long, help: "Registry user name, for the registry written to (the password comes from --password-stdin).")
    var username: String?

    @Flag(name: .long, help: "Read the registry password or token from standard input.")
    var passwordStdin = false

    @Option(
        name: .long,
        help: ArgumentHelp("Registry password or token (visible to other users of this machine; prefer --password-stdin).", visibility: .hidden))
    var password: String?

    @Option(name: .long, help: "Upload chunk size for large blobs (e.g. 8MiB; GHCR refuses very large chunks).")
    var chunkSize: String = "8MiB"

    @Flag(name: .long, help: "Upload each blob in a single PUT.")
    var monolithic = false

    @Option(name: .long, help: "Blob transfers running at once.")
    var jobs: Int = 4

    @Option(name: .long, help: "Tries per request before giving up (dropped connections, 429, 5xx).")
    var retries: Int = 5

    @Option(
        name: .long,
        help: ArgumentHelp(
            "certs.d directory read instead of /etc/containers/certs.d and /etc/docker/certs.d: <dir>/HOST:PORT/*.crt are CAs "
                + "trusted for that registry, NAME.cert with NAME.key its client certificate; a loopback registry with a folder "
                + "is spoken to over HTTPS.", valueName: "dir"))
    var certsDir: String?

    func validate() throws {
        guard ByteSize(chunkSize).map({ $0.bytes > 0 }) ?? false else { throw ValidationError("--chunk-size '\(chunkSize)' is not a size") }
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1") }
        guard retries >= 1 else { throw ValidationError("--retries must be at least 1") }
        if passwordStdin || password != nil { guard username != nil else { throw ValidationError("a password needs --username") } }
        if username != nil, !passwordStdin, password == nil { throw ValidationError("--username needs --password-stdin") }
        if let certsDir {
            var isDirectory = false
            guard FileManager.default.fileExists(atPath: certsDir, isDirectory: &isDirectory), isDirectory else {
                throw ValidationError("--certs-dir '\(certsDir)' is not a directory")
            }
        }
    }

    /// A client for a command. Credentials given on the command line go to `host` only (the
    /// registry the command writes to, or reads from when it only reads), never to another
    /// registry the same command talks to.
    func client(for host: String, plainHTTP extraPlain: Bool = false) throws -> RegistryClient {
        var credential: RegistryCredential?
        if let username {
            var secret = password ?? ""
            if passwordStdin {
                secret = String(decoding: FileIO.standardInput.readDataToEndOfFile(), as: UTF8.self)
                while secret.hasSuffix("\n") || secret.hasSuffix("\r") { secret.removeLast() }
            }
            credential = RegistryCredential(username: username, password: secret)
        }
        var policy = RetryPolicy.standard
        policy.attempts = retries
        return RegistryClient(
            configuration: .init(
                credentials: CredentialSource(explicit: credential, for: host), plainHTTP: plainHTTP || extraPlain, retry: policy,
                chunkSize: ByteSize(chunkSize)?.bytes ?? 8 << 20, monolithicUploads: monolithic, maxConcurrentTransfers: jobs),
            transport: certsDir.map { HTTPClientTransport(trust: TLSTrust(directories: [$0])) } ?? HTTPClientTransport.shared)
    }

    var progress: ProgressReporter.Style { ProgressReporter.defaultStyle }
}

/// The registry command-line credentials are for: the destination when it is a registry, else
/// the source ("" when neither is, so they go nowhere).
private func credentialHost(writing destination: ImageLocation, reading source: ImageLocation) -> String {
    if case let .registry(ref) = destination { return ref.registry }
    if case let .registry(ref) = source { return ref.registry }
    return ""
}

/// Prints a copy's outcome.
private func printCopy(_ report: CopyReport, json: Bool) throws {
    if json { return try Output.json(report) }
    Output.line("\(report.destination)@\(report.digest)")
    Output.line(
        "  \(report.manifests) manifest(s), \(report.blobs) blob(s): \(report.blobsTransferred) transferred "
            + "(\(ProgressReporter.formatBytes(report.bytesTransferred))), \(report.blobsSkipped) already there, \(report.blobsMounted) mounted")
}

struct OCIPush: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "push", abstract: "Push an image from an OCI layout to a registry.")

    @Argument(help: "Source layout: oci:DIR[:TAG] (or a directory).") var source: String
    @Argument(help: "Destination reference, e.g. 127.0.0.1:5000/team/app:v1.") var destination: String
    @OptionGroup var registry: RegistryOptions
    @OptionGroup var output: JSONOption

    func run() async throws {
        let src = try ImageLocation(parsing: source.hasPrefix("oci:") ? source : "oci:\(source)")
        let dst = try ImageReference(parsing: destination)
        let report = try await registry.client(for: dst.registry).copy(
            from: src, to: .registry(dst), options: CopyOptions(progress: registry.progress))
        try printCopy(report, json: output.json)
    }
}

struct OCIPull: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pull", abstract: "Pull an image into an OCI layout directory.")

    @Argument(help: "Image reference.") var reference: String
    @Option(name: .long, help: "OCI layout directory to write (created when absent).") var output: String
    @Option(name: .long, help: "Tag to record in the layout (default: the reference's tag).") var tag: String?
    @Option(name: .long, help: "Only this platform of a multi-platform image, e.g. linux/amd64.") var platform: String?
    @OptionGroup var registry: RegistryOptions
    @OptionGroup var json: JSONOption

    func validate() throws {
        if let platform, Platform(platform) == nil { throw ValidationError("--platform '\(platform)' is not os/arch[/variant]") }
        if let tag, Tag(tag) == nil { throw ValidationError("--tag '\(tag)' is not a valid tag") }
    }

    func run() async throws {
        let ref = try ImageReference(parsing: reference)
        let report = try await registry.client(for: ref.registry).pull(
            reference: ref, toLayout: URL(fileURLWithPath: output), tag: tag.flatMap(Tag.init),
            platform: platform.flatMap(Platform.init), progress: registry.progress)
        try printCopy(report, json: json.json)
    }
}

struct OCICopy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy", abstract: "Copy an image between registries and OCI layouts, digests unchanged.")

    @Argument(help: "Source: a reference or oci:DIR[:TAG].") var source: String
    @Argument(help: "Destination: a reference or oci:DIR[:TAG].") var destination: String
    @Option(name: .long, help: "Only this platform of a multi-platform image, e.g. linux/amd64.") var platform: String?
    @OptionGroup var registry: RegistryOptions
    @OptionGroup var output: JSONOption

    func validate() throws {
        if let platform, Platform(platform) == nil { throw ValidationError("--platform '\(platform)' is not os/arch[/variant]") }
    }

    func run() async throws {
        let (src, dst) = try (ImageLocation(parsing: source), ImageLocation(parsing: destination))
        let report = try await registry.client(for: credentialHost(writing: dst, reading: src)).copy(
            from: src, to: dst,
            options: CopyOptions(platform: platform.flatMap(Platform.init), progress: registry.progress))
        try printCopy(report, json: output.json)
    }
}

struct OCITag: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tag", abstract: "Give an existing manifest more tags (no blob is sent).")

    @Argument(help: "Existing image reference (tag or digest).") var reference: String
    @Argument(help: "New tags.") var tags: [String]
    @OptionGroup var registry: RegistryOptions
    @OptionGroup var output: JSONOption

    func validate() throws {
        guard !tags.isEmpty else { throw ValidationError("give at least one tag") }
        for t in tags where Tag(t) == nil { throw ValidationError("'\(t)' is not a valid tag") }
    }

    func run() async throws {
        let ref = try ImageReference(parsing: reference)
        let result = try await registry.client(for: ref.registry).tag(ref, as: tags.compactMap(Tag.init))
        if output.json { return try Output.json(TagOutput(result: result)) }
        Output.line(
            "\(result.image)@\(result.digest): tagged \(result.tagged.joined(separator: ", "))"
                + (result.unchanged.isEmpty ? "" : "; already \(result.unchanged.joined(separator: ", "))"))
    }

    struct TagOutput: Encodable {
        var schema = "unisonctl.oci-tag/v1"
        var result: TagResult
    }
}

struct OCIList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List the tags of a repository.")

    @Argument(help: "Repository, e.g. 127.0.0.1:5000/team/app.") var repository: String
    @OptionGroup var registry: RegistryOptions
    @OptionGroup var output: JSONOption

    func run() async throws {
        let ref = try ImageReference(parsing: repository)
        let tags = try await registry.client(for: ref.registry).listTags(ref)
        if output.json { return try Output.json(TagList(repository: ref.name, tags: tags)) }
        tags.forEach(Output.line)
    }

    struct TagList: Encodable {
        var schema = "unisonctl.oci-tags/v1"
        var repository: String
        var tags: [String]
    }
}

struct OCIInspect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inspect", abstract: "Show a manifest or index: digest, media type, config, layers.")

    @Argument(help: "A reference or oci:DIR[:TAG].") var reference: String
    @Flag(name: .long, help: "Include the manifest's exact bytes.") var raw = false
    @OptionGroup var registry: RegistryOptions
    @OptionGroup var output: JSONOption

    func run() async throws {
        let location = try ImageLocation(parsing: reference)
        let report = try await registry.client(for: credentialHost(writing: location, reading: location)).inspect(location, includeRaw: raw)
        if output.json { return try Output.json(report) }
        report.lines.forEach(Output.line)
        if let raw = report.raw { Output.line(raw) }
    }
}

struct OCIPushArtifact: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push-artifact",
        abstract: "Publish files as an OCI artifact (ORAS-style), optionally attached to a subject image.",
        discussion:
            "Each FILE may end in :MEDIATYPE; the default comes from its name (.iso application/vnd.efi.iso, .qcow2/.vmdk application/vnd.unisonos.disk.*, .tar.gz/.wsl application/gzip, .json, .txt/.sha256/SHA256SUMS text, else application/octet-stream). The config is the empty descriptor {}."
    )

    @Argument(help: "Destination reference (tag, or none to push by digest).") var reference: String
    @Argument(help: "Files, each FILE[:MEDIATYPE].") var files: [String]
    @Option(name: .long, help: "The artifact's type, e.g. application/vnd.unisonos.disk.qcow2.") var artifactType: String
    @Option(name: .long, help: "Image this artifact refers to (same repository), e.g. REPO@sha256:… or REPO:TAG.") var subject: String?
    @Option(name: .long, parsing: .singleValue, help: "Manifest annotation KEY=VALUE (repeatable).") var annotation: [String] = []
    @OptionGroup var registry: RegistryOptions
    @OptionGroup var output: JSONOption

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give at least one file") }
        for a in annotation where !a.contains("=") { throw ValidationError("--annotation '\(a)' is not KEY=VALUE") }
    }

    func run() async throws {
        var annotations: [String: String] = [:]
        for a in annotation {
            let parts = a.split(separator: "=", maxSplits: 1)
            annotations[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
        }
        let ref = try ImageReference(parsing: reference)
        let report = try await registry.client(for: ref.registry).pushArtifact(
            to: ref, files: files.map(ArtifactFile.init(argument:)), artifactType: artifactType,
            subject: try subject.map(ImageReference.init(parsing:)), annotations: annotations, progress: registry.progress)
        if output.json { return try Output.json(report) }
        Output.line("\(report.reference)")
        Output.line("  digest: \(report.digest)")
        if let s = report.subject { Output.line("  subject: \(s)" + (report.referrersTagUpdated ? " (referrers tag updated)" : "")) }
    }
}

struct OCIReferrers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "referrers",
        abstract: "List artifacts that refer to an image (referrers API, or the sha256-<hex> tag).")

    @Argument(help: "Subject reference (tag or digest).") var reference: String
    @Option(name: .long, help: "Only this artifact type.") var artifactType: String?
    @OptionGroup var registry: RegistryOptions
    @OptionGroup var output: JSONOption

    func run() async throws {
        let ref = try ImageReference(parsing: reference)
        let result = try await registry.client(for: ref.registry).referrers(named: ref, artifactType: artifactType)
        if output.json { return try Output.json(result) }
        for d in result.referrers { Output.line("\(d.digest) \(d.artifactType ?? d.mediaType)") }
    }
}
