import FoundationEssentials
import UnisonCore
import UnisonInstall
import UnisonSpec

/// Staged updates as unison-platform's own `unisonctl` (installer/unisonctl.sh with
/// scripts/install-staged-update.py and finalize-staged-update.py) does them, with the files
/// unison-updates writes:
///
/// - unison-updates' `updates.apply` leaves `<data>/updates/artifacts/<job>-apply-override.json`
///   (schema `unison.updates.compose.override.v1`: `services` → `{image, action}`).
/// - `stage` turns it into `<prefix>/staged/compose.next-boot.override.yaml` (each service's new
///   image; `remove-image` skipped) and `compose.next-boot.metadata.json` (installed_from,
///   installed_at, artifact_kind, job_id, plan_id, override_path). Every compose command of the
///   stack adds the override while it is there.
/// - `finalize` tells unison-updates (`POST /v1/tools/updates.record_applied`) and moves both
///   files to `staged/archive/<job>.next-boot.*`; `clear` drops them.
package struct StagedUpdate: Sendable {
    package static let artifactSchema = "unison.updates.compose.override.v1"

    package enum Failure: Error, CustomStringConvertible, Sendable, Equatable, ExitCoded {
        case unreadable(path: String, reason: String)
        case badArtifact(path: String, reason: String)
        case notInManifest(service: String, image: String, pinned: String)
        case nothingStaged(path: String)
        case updatesService(url: String, reason: String)

        package var exitStatus: ExitStatus {
            switch self {
            case .nothingStaged, .updatesService: return .checkFailed
            default: return .badInput
            }
        }

        package var description: String {
            switch self {
            case let .unreadable(path, reason): return "\(path): \(reason)"
            case let .badArtifact(path, reason): return "\(path): \(reason)"
            case let .notInManifest(service, image, pinned):
                return "service \(service): the artifact stages \(image), the release manifest pins \(pinned)"
            case let .nothingStaged(path): return "no staged update (\(path) does not exist)"
            case let .updatesService(url, reason): return "unison-updates at \(url): \(reason); the staged files are kept"
            }
        }
    }

    /// `compose.next-boot.metadata.json`, keys as the platform's script writes them.
    package struct Metadata: Sendable, Codable, Equatable {
        package var installedFrom: String
        package var installedAt: String?
        package var artifactKind: String?
        package var jobID: String
        package var planID: String?
        package var overridePath: String
        enum CodingKeys: String, CodingKey {
            case installedFrom = "installed_from", installedAt = "installed_at", artifactKind = "artifact_kind"
            case jobID = "job_id", planID = "plan_id", overridePath = "override_path"
        }
    }

    package var spec: PlatformSpec
    /// The installed system's root; tests use a temporary one.
    package var root: URL

    package init(spec: PlatformSpec, root: URL = URL(fileURLWithPath: "/")) {
        self.spec = spec
        self.root = root
    }

    /// Installed paths (as the host sees them, under `root`).
    package var stagedDir: String { spec.installer.prefix + "/staged" }
    package var overridePath: String { InstallLayout(spec: spec).stagedOverride }
    package var metadataPath: String { stagedDir + "/compose.next-boot.metadata.json" }
    package var archiveDir: String { stagedDir + "/archive" }
    /// unison-updates' `UNISON_UPDATES_DATA_DIR` default, under the platform's data dir.
    package var updatesArtifactsDir: String { spec.installer.dataDir + "/updates/artifacts" }

    package func host(_ path: String) -> URL {
        root.path == "/" ? URL(fileURLWithPath: path) : root.appendingPathComponent(String(path.drop { $0 == "/" }))
    }

    /// The artifact `path`, else the file of that name among unison-updates' artifacts (the
    /// path unison-updates reports is the one inside its container).
    /// A path is tried as given, then under `root`.
    package func locate(_ path: String) -> URL? {
        for candidate in [URL(fileURLWithPath: path)] + (path.hasPrefix("/") ? [host(path)] : [])
        where FileManager.default.fileExists(atPath: candidate.path) {
            return candidate
        }
        let name = PathText.lastComponent(path)
        let inStore = host(updatesArtifactsDir + "/" + name)
        return FileManager.default.fileExists(atPath: inStore.path) ? inStore : nil
    }

    /// Reads and checks an apply (or rollback) artifact: service → image to run.
    package func read(artifact url: URL) throws -> (document: [String: JSONValue], images: [(service: String, image: String)]) {
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw Failure.unreadable(path: url.path, reason: "cannot read it") }
        guard data.count < 4 << 20 else { throw Failure.badArtifact(path: url.path, reason: "larger than 4 MiB") }
        guard let document = (try? JSONValue.parse(data))?.object else {
            throw Failure.badArtifact(path: url.path, reason: "not a JSON object")
        }
        guard document["schema_version"]?.string == Self.artifactSchema else {
            throw Failure.badArtifact(path: url.path, reason: "schema_version is not \(Self.artifactSchema)")
        }
        guard let jobID = document["job_id"]?.string, Self.isSafeName(jobID) else {
            throw Failure.badArtifact(path: url.path, reason: "job_id missing or not [A-Za-z0-9._-]")
        }
        guard let services = document["services"]?.object else {
            throw Failure.badArtifact(path: url.path, reason: "services is not an object")
        }
        let known = Set(spec.allServices.map(\.name))
        var images: [(String, String)] = []
        for name in services.keys.sorted() {
            guard Self.isSafeName(name), known.contains(name) else {
                throw Failure.badArtifact(path: url.path, reason: "service '\(name)' is not a service of this platform")
            }
            let entry = services[name]?.object ?? [:]
            let image = entry["image"]?.string ?? ""
            let action = entry["action"]?.string ?? ""
            if image.isEmpty || action == "remove-image" { continue }
            guard image.count < 512, image.allSatisfy({ $0.isASCII && !$0.isWhitespace && $0 != "\"" && $0 != "\\" && !$0.isNewline }),
                image.unicodeScalars.allSatisfy({ $0.value >= 0x21 && $0.value < 0x7f })
            else {
                throw Failure.badArtifact(path: url.path, reason: "service '\(name)' has an image reference that is not one")
            }
            images.append((name, image))
        }
        return (document, images)
    }

    /// Compose service names and job ids: nothing that YAML or a file name could misread.
    static func isSafeName(_ s: String) -> Bool {
        !s.isEmpty && s.count <= 128 && s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }
    }

    /// The override file's text.
    static func overrideYAML(images: [(service: String, image: String)], planID: String) -> String {
        var out = "# Written by unisonctl stage-update; applied with the compose file on the next start.\n"
        out += "# source plan: \(isSafeName(planID) ? planID : "unknown")\n"
        let services = images.map { ($0.service, YAMLValue.map([("image", .string($0.image))])) }
        return out + YAMLValue.map([("services", .map(services))]).render()
    }

    /// Stages `artifact`; with `manifest`, every staged image of a service the release
    /// manifest pins must be that pin.
    @discardableResult
    package func stage(artifact path: String, manifest: URL? = nil) throws -> Metadata {
        guard let url = locate(path) else {
            throw Failure.unreadable(path: path, reason: "no such file (nor in \(updatesArtifactsDir))")
        }
        let (document, images) = try read(artifact: url)
        if let manifest {
            let pinned = try Self.pinned(manifest)
            for (service, image) in images {
                if let pin = pinned[service], pin != image { throw Failure.notInManifest(service: service, image: image, pinned: pin) }
            }
        }
        let planID = document["plan_id"]?.string ?? "unknown"
        let metadata = Metadata(
            installedFrom: path, installedAt: document["generated_at"]?.string,
            artifactKind: document["artifact_kind"]?.string, jobID: document["job_id"]!.string!,
            planID: document["plan_id"]?.string, overridePath: overridePath)
        try FileManager.default.createDirectory(at: host(stagedDir), withIntermediateDirectories: true)
        try AtomicFile.write(Data(Self.overrideYAML(images: images, planID: planID).utf8), to: host(overridePath))
        var json = try JSONOutput.encoder().encode(metadata)
        json.append(0x0A)
        try AtomicFile.write(json, to: host(metadataPath))
        return metadata
    }

    /// `compose.images_pinned` of a `unison.platform.release.manifest.v1` manifest.
    static func pinned(_ url: URL) throws -> [String: String] {
        guard let data = try? Data(contentsOf: url), let object = (try? JSONValue.parse(data))?.object else {
            throw Failure.unreadable(path: url.path, reason: "not a readable JSON release manifest")
        }
        guard object["schema_version"]?.string == "unison.platform.release.manifest.v1" else {
            throw Failure.unreadable(path: url.path, reason: "schema_version is not unison.platform.release.manifest.v1")
        }
        // Every value a string, or none taken (the cast to [String: String] did the same).
        guard let pinned = object["compose"]?["images_pinned"]?.object,
            pinned.values.allSatisfy({ $0.string != nil })
        else { return [:] }
        return pinned.compactMapValues(\.string)
    }

    /// The staged metadata, nil when nothing is staged.
    package func staged() throws -> Metadata? {
        let url = host(metadataPath)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        do { return try JSONDecoder().decode(Metadata.self, from: Data(contentsOf: url)) } catch {
            throw Failure.unreadable(path: url.path, reason: "not staged-update metadata")
        }
    }

    /// Removes the staged files; true when there were any.
    @discardableResult
    package func clear() throws -> Bool {
        var removed = false
        for path in [overridePath, metadataPath] where FileManager.default.fileExists(atPath: host(path).path) {
            try FileManager.default.removeItem(at: host(path))
            removed = true
        }
        return removed
    }

    /// Records the staged job as applied with unison-updates, then archives the staged files
    /// (kept in place with `retain`). Returns the archived paths.
    package func finalize(updatesHost: String, updatesPort: Int, retain: Bool = false) throws -> [String] {
        guard let metadata = try staged() else { throw Failure.nothingStaged(path: metadataPath) }
        guard Self.isSafeName(metadata.jobID) else { throw Failure.unreadable(path: metadataPath, reason: "job_id is not [A-Za-z0-9._-]") }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let body = try encoder.encode(["arguments": ["job_id": metadata.jobID]])
        let url = "http://\(updatesHost):\(updatesPort)/v1/tools/updates.record_applied"
        let request = HTTPExchange.Request(
            method: "POST", target: "/v1/tools/updates.record_applied",
            headers: [.init(name: "Content-Type", value: "application/json")], body: body)
        switch HTTPExchange.perform(request, host: updatesHost, port: updatesPort, timeout: 10) {
        case let .failure(failure):
            throw Failure.updatesService(url: url, reason: failure.description)
        case let .success(response):
            guard (200..<300).contains(response.status) else {
                throw Failure.updatesService(url: url, reason: "HTTP \(response.status)")
            }
        }
        try FileManager.default.createDirectory(at: host(archiveDir), withIntermediateDirectories: true)
        var archived: [String] = []
        for path in [overridePath, metadataPath] where FileManager.default.fileExists(atPath: host(path).path) {
            let name = PathText.lastComponent(path).replacing("compose.next-boot", with: "\(metadata.jobID).next-boot")
            let target = archiveDir + "/" + name
            try? FileManager.default.removeItem(at: host(target))
            try FileManager.default.copyItem(at: host(path), to: host(target))
            if !retain { try FileManager.default.removeItem(at: host(path)) }
            archived.append(target)
        }
        return archived
    }
}
