import FoundationEssentials
import UnisonCore
import UnisonSpec

/// Writes the release files: the manifest and the checksum list.
package enum ReleaseFiles {
    /// Builds the manifest: every platform service needs a tag and a digest; artifacts are
    /// the files of the artifacts directory (not the manifest or checksum files), by name.
    package static func manifest(_ request: ManifestRequest, spec: PlatformSpec) throws -> ReleaseManifest {
        let version = request.version.tagString(forceV: true)
        guard request.commit.count == 40, request.commit.allSatisfy(\.isHexDigit) else {
            throw ReleaseError.invalidOption(option: "--commit", value: request.commit, reason: "a commit is 40 hex digits")
        }
        for (name, digest) in request.digests.sorted(by: { $0.key < $1.key }) {
            guard spec.services.contains(where: { $0.name == name }) else { throw ReleaseError.unknownService(name) }
            guard isDigest(digest) else {
                throw ReleaseError.invalidOption(
                    option: "--digest", value: "\(name)=\(digest)", reason: "a digest is sha256: and 64 lower-case hex digits")
            }
        }
        for name in request.serviceTags.keys.sorted() where !spec.services.contains(where: { $0.name == name }) {
            throw ReleaseError.unknownService(name)
        }
        let missingTags = spec.services.map(\.name).filter { request.serviceTags[$0] == nil }
        guard missingTags.isEmpty else { throw ReleaseError.missingServiceTags(missingTags) }
        let missingDigests = spec.services.map(\.name).filter { request.digests[$0] == nil }
        guard missingDigests.isEmpty else { throw ReleaseError.missingDigests(missingDigests) }

        var fromCompose: [String: String] = [:], pinned: [String: String] = [:]
        var resolved: [String: ReleaseManifest.ResolvedImage] = [:]
        for s in spec.services {
            let tag = request.serviceTags[s.name]!, digest = request.digests[s.name]!
            let ref = "\(s.image):\(tag)"
            fromCompose[s.name] = ref
            pinned[s.name] = "\(ref)@\(digest)"
            resolved[s.name] = .init(
                requestedRef: ref, resolvedRef: ref, pinnedRef: "\(ref)@\(digest)", imageID: "",
                repoDigests: ["\(s.image)@\(digest)"], repoTags: [ref], source: "registry")
        }
        for i in spec.infrastructure { fromCompose[i.name] = i.image }
        let packs = spec.models.packs.map {
            ReleaseManifest.Pack(
                name: $0.name, description: $0.description, preload: $0.preload,
                ramGBMin: gigabytes($0.minRam.bytes), diskGBMin: gigabytes($0.minDisk.bytes))
        }
        let profile = request.modelPackProfile ?? "alpha/default"
        let profilePack = packs.first { $0.name == profile.split(separator: "/").last.map(String.init) }
        let profileHash = try profilePack.map { SHA256Hex.hex(try JSONOutput.encoder().encode($0)) } ?? ""
        // The floor for an install: the pack the profile names, else the smallest.
        let floor = profilePack ?? packs.min { ($0.ramGBMin, $0.diskGBMin) < ($1.ramGBMin, $1.diskGBMin) }
        let channel =
            request.channel
            ?? ChannelResolver.channel(for: "refs/tags/\(version)", event: "push", channels: spec.channels)?.name
            ?? ((request.version.isPrerelease) ? "alpha" : "stable")
        var files: [String: String] = [:]
        for url in request.composeFiles {
            do { files[url.path] = try SHA256Hex.file(url).hex } catch {
                throw ReleaseError.unreadable(path: url.path, reason: "cannot read the compose file")
            }
        }
        var assets: [String: ReleaseManifest.Asset] = [:]
        for a in try artifacts(in: request.artifactsDirectory, version: version) { assets[a.name] = .init(sizeBytes: a.size, sha256: a.sha256) }
        let builtAt = Date(timeIntervalSince1970: TimeInterval(request.sourceDateEpoch)).formatted(.iso8601)
        return ReleaseManifest(
            release: .init(
                version: version, channel: channel, builtAt: builtAt,
                git: .init(repo: spec.repos.first { $0.role == .platform }?.name ?? "unison-platform", commit: request.commit.lowercased())),
            assets: assets,
            compose: .init(files: files, imagesFromCompose: fromCompose, imagesPinned: pinned, imagesResolved: resolved),
            modelPacks: .init(defaultProfile: profile, profileManifestSHA256: profileHash, packs: packs),
            requirements: .init(
                cpuCoresMin: 4, ramGBMin: floor?.ramGBMin ?? 8, diskGBMin: floor?.diskGBMin ?? 20,
                notes: "From the spec's model pack \(floor?.name ?? "-"); larger packs need more RAM and disk."))
    }

    /// Whole gigabytes (10^9, as the spec's GB means), rounded up.
    static func gigabytes(_ bytes: Int64) -> Int { Int((bytes + 999_999_999) / 1_000_000_000) }

    /// Writes the manifest atomically into `directory`; returns its URL.
    @discardableResult
    package static func writeManifest(_ manifest: ReleaseManifest, to directory: URL) throws -> URL {
        let url = directory.appendingPathComponent(ReleaseManifest.fileName(version: manifest.release.version))
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
        return try names.filter {
            !$0.hasPrefix(".") && !$0.hasPrefix("SHA256SUMS") && !$0.hasSuffix(".sig") && $0 != ReleaseManifest.fileName(version: version)
        }
        .sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        .compactMap { name -> URL? in
            let url = directory.appendingPathComponent(name)
            let attrs = try fm.attributesOfItem(atPath: url.path)
            guard attrs[.type] as? FileAttributeType == .typeRegular else { return nil }
            guard !name.contains("\n"), !name.contains("\\") else {
                throw ReleaseError.invalidOption(
                    option: "artifact", value: name, reason: "names with newlines or backslashes are not allowed in checksum files")
            }
            return url
        }
    }

    static func artifacts(in directory: URL, version: String) throws -> [(name: String, size: Int64, sha256: String)] {
        try releaseFiles(in: directory, version: version).map { url in
            let (hex, size) = try SHA256Hex.file(url)
            return (url.lastPathComponent, size, hex)
        }
    }

    /// `SHA256SUMS-<v>.txt`: `<hex>  <name>` per file of the directory (the manifest included),
    /// sorted by name, as GoReleaser writes it and `sha256sum -c` reads it.
    package static func checksums(directory: URL, version: SemVer) throws -> (url: URL, text: String) {
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
    package static func digests(pairs: [String], file: URL?) throws -> [String: String] {
        try nameValues(pairs: pairs, option: "--digest", file: file)
    }

    /// `NAME=VALUE` options over a JSON object file of strings (the options win).
    package static func nameValues(pairs: [String], option: String, file: URL?) throws -> [String: String] {
        var out: [String: String] = [:]
        if let file {
            let data: Data
            do { data = try Data(contentsOf: file) } catch {
                throw ReleaseError.unreadable(path: file.path, reason: "cannot read the file")
            }
            guard let object = (try? JSONValue.parse(data))?.object else {
                throw ReleaseError.unreadable(path: file.path, reason: "expected a JSON object {\"name\": \"value\"}")
            }
            for (key, value) in object {
                guard let s = value.string else {
                    throw ReleaseError.unreadable(path: file.path, reason: "the value of '\(key)' is not a string")
                }
                out[key] = s
            }
        }
        for (k, v) in try keyValues(pairs, option: option) { out[k] = v }
        return out
    }

    /// `name=value` options.
    package static func keyValues(_ pairs: [String], option: String) throws -> [String: String] {
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
