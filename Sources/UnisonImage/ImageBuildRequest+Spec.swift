import FoundationEssentials
import UnisonCore
import UnisonDisk
import UnisonInstall
import UnisonSpec

/// What the command line says about an image build; every nil takes the spec's default.
package struct ImageBuildFlags: Sendable {
    package var base: String?
    package var outputDirectory: String?
    package var version: String?
    package var unisonctlBinary: String?
    package var models: String?
    package var modelRegistry: String?
    /// `preload` or `pull` for the stack's service images (nil: the target's, else the spec's).
    package var images: ImageDelivery?
    /// Where preloaded service images are pulled from instead of their own registries.
    package var imageRegistry: String?
    package var releaseManifest: String?
    package var answers: String?
    /// Where first boot reads the answers file in the image.
    package var answersPath: String

    package init(
        base: String? = nil, outputDirectory: String? = nil, version: String? = nil, unisonctlBinary: String? = nil,
        models: String? = nil, modelRegistry: String? = nil, images: ImageDelivery? = nil, imageRegistry: String? = nil,
        releaseManifest: String? = nil, answers: String? = nil, answersPath: String = "/etc/unison/answers.yaml"
    ) {
        self.base = base
        self.outputDirectory = outputDirectory
        self.version = version
        self.unisonctlBinary = unisonctlBinary
        self.models = models
        self.modelRegistry = modelRegistry
        self.images = images
        self.imageRegistry = imageRegistry
        self.releaseManifest = releaseManifest
        self.answers = answers
        self.answersPath = answersPath
    }
}

/// The target a command builds, with the command line's own settings for it (nil: the spec's).
package enum ImageTargetChoice: Sendable {
    case wsl(gzipLevel: Int32)
    case vm(formats: [DiskFormat]?, diskSize: Int64?, kernelArguments: [String])
    /// `payload`: a disk built elsewhere (no platform is installed); else the VM disk of this build.
    case iso(payload: URL?, firmware: [ISOFirmware]?, splitAbove: Int64?, kernelArguments: [String])

    /// The targets' names in build order: the ISO after the VM, whose disk it carries.
    package static let order = ["wsl", "vm", "iso"]

    /// Target `name` (one of `order`) with the spec's settings throughout.
    package static func spec(_ name: String) -> ImageTargetChoice? {
        switch name {
        case "wsl": return .wsl(gzipLevel: WSLImage.defaultGzipLevel)
        case "vm": return .vm(formats: nil, diskSize: nil, kernelArguments: [])
        case "iso": return .iso(payload: nil, firmware: nil, splitAbove: nil, kernelArguments: [])
        default: return nil
        }
    }
}

/// A command line that cannot make a request.
package enum ImageRequestError: Error, CustomStringConvertible, Sendable, Equatable, ExitCoded {
    case unreadableBinary(String)
    case answersNeedBuiltDisk
    case answersDiskNotWhole(String)
    case noTargets

    package var exitStatus: ExitStatus { .badInput }

    package var description: String {
        switch self {
        case let .unreadableBinary(path): return "--unisonctl-binary \(path) cannot be read"
        case .answersNeedBuiltDisk: return "--answers needs the VM disk built in this run (not --payload)"
        case let .answersDiskNotWhole(disk):
            return "--answers: unison.disk \(disk): the ISO installer takes a whole-disk name such as /dev/vda (not a /dev/disk/by-* link)"
        case .noTargets: return "the spec defines no image target (targets.wsl, targets.vm, targets.iso)"
        }
    }
}

extension ImageBuildRequest {
    /// One request per target, in build order, each with the spec's settings: `names` (from
    /// `ImageTargetChoice.order`), or every target the spec defines.
    package static func all(_ document: SpecDocument, targets names: [String]?, flags: ImageBuildFlags) throws -> [ImageBuildRequest] {
        let targets = document.spec.targets
        let defined = ["wsl": targets.wsl != nil, "vm": targets.vm != nil, "iso": targets.iso != nil]
        let wanted = names ?? ImageTargetChoice.order.filter { defined[$0] == true }
        let requests = try ImageTargetChoice.order.filter(wanted.contains).compactMap(ImageTargetChoice.spec).map {
            try ImageBuildRequest(document, $0, flags: flags)
        }
        guard !requests.isEmpty else { throw ImageRequestError.noTargets }
        return requests
    }

    /// The request for `choice`, resolved once from the spec and the command line: the
    /// target's base, the version (`platform.version` unless given), the output directory
    /// (`release.artifacts` beside the spec unless given), the platform with its model pack
    /// checked, and the target's settings.
    package init(
        _ document: SpecDocument, _ choice: ImageTargetChoice, flags: ImageBuildFlags,
        epoch: Int64 = SourceDateEpoch.current(), cacheDir: URL = BaseCache.directory()
    ) throws {
        let spec = document.spec
        if case .iso(_?, _, _, _) = choice, flags.answers != nil { throw ImageRequestError.answersNeedBuiltDisk }
        var answersDisk: String?
        if case .iso = choice, let file = flags.answers {
            answersDisk = try AnswersLoader.load(
                file: URL(fileURLWithPath: file),
                context: .init(target: .iso, packs: spec.models.packs.map(\.name))
            ).disk
        }
        let section = try SpecSection(spec, choice, answersDisk: answersDisk)
        let base: BaseSource
        if let given = flags.base {
            base = try BaseSource.parse(given, spec: spec)
        } else if let named = spec.base(named: section.base) {
            base = .named(named)
        } else {
            throw BaseError.notFound(section.base, hint: "targets.\(section.name).base names no entry of bases:")
        }
        self.init(
            base: base,
            outputDirectory: flags.outputDirectory.map { URL(fileURLWithPath: $0).standardizedFileURL }
                ?? document.directory.appendingPathComponent(spec.release.artifacts),
            version: flags.version.map { ImageVersion($0) } ?? ImageVersion(spec.platform.version), epoch: epoch,
            cacheDir: cacheDir, artifactPrefix: spec.platform.name, title: spec.platform.displayName,
            modelStores: section.listsModels ? [spec.models.store] : [], targets: [section.target])
        // A payload disk built elsewhere already holds the platform.
        if case .iso(_?, _, _, _) = choice { return }
        platform = try ImagePlatform(document, section: section, flags: flags)
    }
}

extension ImagePlatform {
    init(_ document: SpecDocument, section: SpecSection, flags: ImageBuildFlags) throws {
        let spec = document.spec
        let binary =
            flags.unisonctlBinary.map { URL(fileURLWithPath: $0).standardizedFileURL }
            ?? URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        guard FileManager.default.isReadableFile(atPath: binary.path) else { throw ImageRequestError.unreadableBinary(binary.path) }
        let packName = flags.models ?? section.models
        guard let pack = spec.modelPack(named: packName) else {
            throw InstallError.unknownModelPack(packName, known: spec.models.packs.map(\.name))
        }
        let answers = try flags.answers.map { file in
            let url = URL(fileURLWithPath: file)
            _ = try AnswersLoader.load(
                file: url,
                context: .init(
                    target: section.mode == .wsl ? .wsl : .vm,
                    packs: spec.models.packs.map(\.name)))
            return (path: flags.answersPath, text: try String(contentsOf: url, encoding: .utf8))
        }
        let preload = (flags.images ?? spec.targets.delivery(section.images)) == .preload
        self.init(
            spec: spec, specText: document.text, mode: section.mode, modelPack: pack,
            modelRegistry: flags.modelRegistry ?? spec.models.registry,
            releaseManifest: flags.releaseManifest.map { URL(fileURLWithPath: $0) }, unisonctl: binary,
            ollama: section.ollama, answers: answers,
            serviceImages: preload ? ServiceImagePreload.Request(registry: flags.imageRegistry) : nil)
    }
}

/// The spec's `targets.<name>` section a choice reads, and the target made from it with the
/// command line's settings.
struct SpecSection {
    var name: String
    var base: String
    var models: String
    var ollama: OllamaPlacement
    var mode: InstallMode
    /// The target's own `images` (the ISO carries the VM target's disk, so the VM's).
    var images: ImageDelivery?
    /// The ISO's payload disk has listed no model store in its SBOM so far; kept as it was.
    var listsModels = true
    var target: any ImageTarget

    /// `answersDisk`: the answers file's `unison.disk`, which the ISO installer writes.
    init(_ spec: PlatformSpec, _ choice: ImageTargetChoice, answersDisk: String?) throws {
        switch choice {
        case let .wsl(gzipLevel):
            guard let t = spec.targets.wsl else { throw WSLError.badDistribution("the spec has no targets.wsl") }
            (name, base, models, ollama, mode, images) = ("wsl", t.base, t.models, t.ollama, .wsl, t.images)
            target = WSLImage(
                distribution: WSLDistribution(defaultName: spec.platform.displayName, defaultUser: t.defaultUser),
                formats: t.formats.compactMap(WSLFormat.init(rawValue:)), gzipLevel: gzipLevel)
        case let .vm(formats, diskSize, kernelArguments):
            guard let t = spec.targets.vm else { throw VMError.noVMTarget }
            (name, base, models, ollama, mode, images) = ("vm", t.base, t.models, t.ollama, .image, t.images)
            let specFormats = t.formats.compactMap { DiskFormat(rawValue: $0.lowercased()) }
            target = VMImage(
                formats: formats ?? (specFormats.isEmpty ? [.qcow2, .vmdk] : specFormats),
                diskSize: diskSize ?? t.diskSize.bytes, kernelArguments: kernelArguments)
        case let .iso(payload, firmware, splitAbove, kernelArguments):
            guard let t = spec.targets.iso else { throw ISOError.noISOTarget }
            (name, base, models, ollama, mode, listsModels) = ("iso", t.base, t.models, t.ollama, .image, false)
            images = spec.targets.vm?.images
            var fromSpec: [ISOFirmware] = []
            for name in t.firmware {
                guard let f = ISOFirmware(rawValue: name.lowercased()) else { throw ISOError.unknownFirmware(name) }
                if !fromSpec.contains(f) { fromSpec.append(f) }
            }
            // The answers' disk is the installer's target (unisonos.target= takes a /sys/block name).
            var arguments = kernelArguments
            if let disk = answersDisk {
                let name = String(disk.dropFirst("/dev/".count))
                guard !name.contains("/") else { throw ImageRequestError.answersDiskNotWhole(disk) }
                arguments.append("unisonos.target=\(name)")
            }
            let disk = VMImage(formats: [.raw], diskSize: spec.targets.vm?.diskSize.bytes ?? 4 << 30)
            target = ISOImage(
                payload: payload.map(ISOPayloadSource.image) ?? .build(disk), firmware: firmware ?? fromSpec,
                splitAbove: splitAbove ?? t.splitAbove.bytes, kernelArguments: arguments)
        }
    }
}
