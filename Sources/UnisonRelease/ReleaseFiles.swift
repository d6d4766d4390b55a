import Foundation
import UnisonCore
import UnisonSpec

/// Writes the release files: the manifest and the checksum list.
public enum ReleaseFiles {
    /// Builds the manifest: every platform service needs a tag and a digest; artifacts are
    /// the files of the artifacts directory (not the manifest or checksum files), by name.
    public static func manifest(_ request: ManifestRequest, spec: PlatformSpec) throws -> ReleaseManifest {
        let version = request.version.tagString(forceV: true)
        guard request.commit.count == 40, request.commit.allSatisfy(\.isHexDigit) else {
            throw ReleaseError.invalidOption(option: "--commit", value: request.commit, reason: "a commit is 40 hex digits")
        }
        for (name, digest) in request.digests.sorted(by: { $0.key < $1.key }) {
            guard spec.services.contains(where: { $0.name == name }) else { throw ReleaseError.unknownService(name) }
            guard isDigest(digest) else {
                throw ReleaseError.invalidOption(option: "--digest", value: "\(name)=\(digest)", reason: "a digest is sha256: and 64 lower-case hex digits")
            }
        }
        for name in request.serviceTags.keys.sorted() where !spec.services.contains(where: { $0.name == name }) {
            throw ReleaseError.unknownService(name)
        }
        let missingTags = spec.services.map(\.name).filter { request.serviceTags[$0] == nil }
        guard missingTags.isEmpty else { throw ReleaseError.missingServiceTags(missingTags) }
        let missingDigests = spec.services.map(\.name).filter { request.digests[$0] == nil }
        guard missingDigests.isEmpty else { throw ReleaseError.missingDigests(missingDigests) }

        let services = spec.services.map { s in
            let tag = request.serviceTags[s.name]!, digest = request.digests[s.name]!
            return ReleaseManifest.ServiceImage(name: s.name, image: s.image, tag: tag, digest: digest, reference: "\(s.image):\(tag)@\(digest)")
        }
        let packs = spec.models.packs.map {
            ReleaseManifest.ModelPackEntry(name: $0.name, description: $0.description, preload: $0.preload,
                                           minRam: $0.minRam.text, minDisk: $0.minDisk.text)
        }
        let smallest = spec.models.packs.min { ($0.minRam, $0.minDisk) < ($1.minRam, $1.minDisk) }
        let channel = request.channel
            ?? ChannelResolver.channel(for: "refs/tags/\(version)", event: "push", channels: spec.channels)?.name
            ?? "stable"
        return ReleaseManifest(
            platform: spec.platform.name, version: version, channel: channel, commit: request.commit.lowercased(),
            created: MetadataAction.isoString(Date(timeIntervalSince1970: TimeInterval(request.sourceDateEpoch))),
            services: services,
            infrastructure: spec.infrastructure.map { .init(name: $0.name, image: $0.image) },
            modelPacks: packs,
            artifacts: try artifacts(in: request.artifactsDirectory, version: version),
            requirements: .init(os: "linux", architecture: "amd64", minRam: smallest?.minRam.text ?? "", minDisk: smallest?.minDisk.text ?? ""))
    }

    /// Writes the manifest atomically into `directory`; returns its URL.
    @discardableResult
    public static func writeManifest(_ manifest: ReleaseManifest, to directory: URL) throws -> URL {
        let url = directory.appendingPathComponent(ReleaseManifest.fileName(version: manifest.version))
        var data = try JSONOutput.encoder().encode(manifest)
        data.append(0x0A)
        try AtomicFile.write(data, to: url)
        return url
    }

    static func isDigest(_ s: String) -> Bool {
        s.hasPrefix("sha256:") && s.count == 71 && s.dropFirst(7).allSatisfy { $0.isHexDigit && !$0.isUppercase }
    }

    /// Regular, non-hidden files of `directory` sorted by name (byte order), without this
    /// version's manifest, any checksum file and any SSH signature (`.sig`: signatures are
    /// made over the checksum file, so it cannot list them).
    static func releaseFiles(in directory: URL, version: String) throws -> [URL] {
        let fm = FileManager.default
        let names: [String]
        do {
            names = try fm.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw ReleaseError.unreadable(path: directory.path, reason: "not a readable directory")
        }
        return try names.filter { !$0.hasPrefix(".") && !$0.hasPrefix("SHA256SUMS") && !$0.hasSuffix(".sig") && $0 != ReleaseManifest.fileName(version: version) }
            .sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
            .compactMap { name -> URL? in
                let url = directory.appendingPathComponent(name)
                let attrs = try fm.attributesOfItem(atPath: url.path)
                guard attrs[.type] as? FileAttributeType == .typeRegular else { return nil }
                guard !name.contains("\n"), !name.contains("\\") else {
                    throw ReleaseError.invalidOption(option: "artifact", value: name, reason: "names with newlines or backslashes are not allowed in checksum files")
                }
                return url
            }
    }

    static func artifacts(in directory: URL, version: String) throws -> [ReleaseManifest.Artifact] {
        try releaseFiles(in: directory, version: version).map { url in
            let (hex, size) = try SHA256Hex.file(url)
            return ReleaseManifest.Artifact(name: url.lastPathComponent, size: size, sha256: hex)
        }
    }

    /// `SHA256SUMS-<v>.txt`: `<hex>  <name>` per file of the directory (the manifest included),
    /// sorted by name, as GoReleaser writes it and `sha256sum -c` reads it.
    public static func checksums(directory: URL, version: SemVer) throws -> (url: URL, text: String) {
        let v = version.tagString(forceV: true)
        var files = try releaseFiles(in: directory, version: v)
        let manifest = directory.appendingPathComponent(ReleaseManifest.fileName(version: v))
        if FileManager.default.fileExists(atPath: manifest.path) {
            files.append(manifest)
            files.sort { Array($0.lastPathComponent.utf8).lexicographicallyPrecedes(Array($1.lastPathComponent.utf8)) }
        }
        var text = ""
        for url in files {
            text += "\(try SHA256Hex.file(url).hex)  \(url.lastPathComponent)\n"
        }
        let out = directory.appendingPathComponent("SHA256SUMS-\(v).txt")
        try AtomicFile.write(Data(text.utf8), to: out)
        return (out, text)
    }

    /// Reads `name=sha256:…` pairs and a JSON file `{"service": "sha256:…"}` into one map.
    public static func digests(pairs: [String], file: URL?) throws -> [String: String] {
        try nameValues(pairs: pairs, option: "--digest", file: file)
    }

    /// `NAME=VALUE` options over a JSON object file of strings (the options win).
    public static func nameValues(pairs: [String], option: String, file: URL?) throws -> [String: String] {
        var out: [String: String] = [:]
        if let file {
            let data: Data
            do { data = try Data(contentsOf: file) } catch {
                throw ReleaseError.unreadable(path: file.path, reason: "cannot read the file")
            }
            guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw ReleaseError.unreadable(path: file.path, reason: "expected a JSON object {\"name\": \"value\"}")
            }
            for (key, value) in object {
                guard let s = value as? String else {
                    throw ReleaseError.unreadable(path: file.path, reason: "the value of '\(key)' is not a string")
                }
                out[key] = s
            }
        }
        for (k, v) in try keyValues(pairs, option: option) { out[k] = v }
        return out
    }

    /// `name=value` options.
    public static func keyValues(_ pairs: [String], option: String) throws -> [String: String] {
        var out: [String: String] = [:]
        for pair in pairs {
            guard let eq = pair.firstIndex(of: "="), eq != pair.startIndex, pair.index(after: eq) != pair.endIndex else {
                throw ReleaseError.invalidOption(option: option, value: pair, reason: "expected NAME=VALUE")
            }
            out[String(pair[..<eq])] = String(pair[pair.index(after: eq)...])
        }
        return out
    }
}
