import ArgumentParser
import FoundationEssentials
import UnisonArchive
import UnisonCore
import UnisonImage
import UnisonSpec

struct ImageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image",
        abstract: "Build and inspect the release artifacts (WSL, VM disks, ISO).",
        subcommands: [ImageBuildCommand.self, ImageInspect.self, ImageTarCommand.self, ImageVerifyStore.self]
    )
}

struct ImageBuildCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Build an image target from the spec, or several in one run.",
        subcommands: [ImageBuildWSL.self, ImageBuildVM.self, ImageBuildISO.self, ImageBuildAll.self]
    )
}

struct ImageBuildWSL: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wsl",
        abstract: "Build the WSL distribution: <name>-wsl2-<version>.tar.gz and .wsl.",
        discussion: """
            The base is targets.wsl.base from the spec unless --base is given: a rootfs tarball
            (.tar, .tar.gz, .tar.zst, .tar.xz), a directory, oci:DIR[:TAG] (an OCI image layout), or
            the name of a base in the spec. The default Debian base is built once by
            scripts/build-base.sh into ~/.cache/unisonctl/bases. Timestamps are clamped to
            SOURCE_DATE_EPOCH: the same inputs give the same bytes.
            """
    )

    @OptionGroup var specOptions: SpecOptions
    @OptionGroup var jsonOption: JSONOption
    @OptionGroup var platform: ImagePlatformOptions

    @Option(help: ArgumentHelp("Base to build from (default: targets.wsl.base).", valueName: "tarball|dir|oci:DIR[:TAG]|name"))
    var base: String?

    @OptionGroup var output: ImageOutputOptions

    @Option(help: ArgumentHelp("gzip level, 1-9.", valueName: "n"))
    var level: Int32 = WSLImage.defaultGzipLevel

    func validate() throws {
        guard (1...9).contains(level) else { throw ValidationError("--level must be between 1 and 9") }
    }

    func run() async throws {
        let request = try ImageBuildRequest(
            try specOptions.loadDocument(), .wsl(gzipLevel: level),
            flags: platform.flags(base: base, output: output))
        try ImageOutput.print(try await ImagePipeline.build(request, status: ImageStatus.line), json: jsonOption.json)
    }
}

struct ImageTarCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tar",
        abstract: "Write a directory, tarball or OCI layout as one deterministic tarball.",
        discussion: "Compression follows the output name: .tar, .tar.gz/.tgz/.wsl (parallel gzip), .tar.zst."
    )

    @OptionGroup var jsonOption: JSONOption

    @Argument(help: ArgumentHelp("Directory, tarball, or oci:DIR[:TAG].", valueName: "source"))
    var source: String

    @Option(help: ArgumentHelp("Output file.", valueName: "file"))
    var out: String

    @Option(help: ArgumentHelp("Compression level (gzip 1-9, zstd 1-19).", valueName: "n"))
    var level: Int32?

    @Flag(help: "Write member names as ./etc/… with a ./ root member (default: etc/…).")
    var dotSlash = false

    func run() async throws {
        let result = try ImagePack.pack(
            try BaseSource.parse(source, spec: nil),
            to: URL(fileURLWithPath: out).standardizedFileURL,
            level: level, nameStyle: dotSlash ? .dotSlash : .plain)
        if jsonOption.json {
            try Output.json(result)
        } else {
            Output.line("\(result.path)  \(ProgressReporter.formatBytes(result.size))  sha256:\(result.sha256)")
        }
    }
}

/// Status lines on stderr, silent with UNISONCTL_QUIET.
enum ImageStatus {
    static let line: @Sendable (String) -> Void = { text in
        if ProcessInfo.processInfo.environment["UNISONCTL_QUIET"] == nil {
            FileIO.standardError.write("image: \(text)\n")
        }
    }
}
