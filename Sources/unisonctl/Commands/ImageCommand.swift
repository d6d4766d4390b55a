import ArgumentParser
import Foundation
import UnisonArchive
import UnisonCore
import UnisonImage
import UnisonSpec

struct ImageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image",
        abstract: "Build and inspect the release artifacts (WSL, VM disks, ISO).",
        subcommands: [ImageBuildCommand.self, ImageInspect.self, ImageTarCommand.self]
    )
}

struct ImageBuildCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Build an image target from the spec.",
        subcommands: [ImageBuildWSL.self, ImageBuildVM.self, ImageBuildISO.self]
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

    @Option(help: ArgumentHelp("Directory for the artifacts (default: the spec's release.artifacts).", valueName: "dir"))
    var out: String?

    @Option(help: ArgumentHelp("Version in the artifact names (default: platform.version).", valueName: "version"))
    var version: String?

    @Option(help: ArgumentHelp("gzip level, 1-9.", valueName: "n"))
    var level: Int32 = 6

    func validate() throws {
        guard (1...9).contains(level) else { throw ValidationError("--level must be between 1 and 9") }
    }

    func run() async throws {
        let (specURL, spec) = try specOptions.loadWithURL()
        let outDir = out.map { URL(fileURLWithPath: $0).standardizedFileURL }
            ?? specURL.deletingLastPathComponent().appendingPathComponent(spec.release.artifacts)
        var options = try WSLBuildOptions(spec: spec, base: try base.map { try BaseSource.parse($0, spec: spec) },
                                          outputDirectory: outDir, version: version)
        options.gzipLevel = level
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("unisonctl-models-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: work) }
        let overlay = try await platform.overlay(spec: spec, specURL: specURL, mode: .wsl, targetPack: spec.targets.wsl?.models,
                                                 version: options.version, epoch: options.epoch, workDir: work,
                                                 ollama: spec.targets.wsl?.ollama)
        let result = try WSLImage.build(options, overlay: overlay, status: ImageStatus.line)
        if jsonOption.json {
            try Output.json(result)
        } else {
            for a in result.artifacts {
                Output.line("\(a.path)  \(ProgressReporter.formatBytes(a.size))  sha256:\(a.sha256)")
            }
        }
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
        let result = try ImagePack.pack(try BaseSource.parse(source, spec: nil),
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
            FileHandle.standardError.write(Data("image: \(text)\n".utf8))
        }
    }
}
