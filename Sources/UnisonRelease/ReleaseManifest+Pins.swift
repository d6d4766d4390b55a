import FoundationEssentials
import UnisonCore
import UnisonSpec

/// The images a release pins, read from its manifest (`unisonos-manifest-<v>.json`): what an
/// install (and an image build) takes from `ReleaseManifest`.
///
/// The manifest is read with `ReleaseManifest`'s own keys (`ReleaseManifest.Pinning`), but only
/// the fields an install needs are required: `release.version`, `release.channel`,
/// `compose.images_pinned` (service → `image[:tag]@sha256:…`) and `compose.images_from_compose`
/// for images not pinned by digest (infrastructure). unison-platform's generator writes the
/// same schema without this project's additions, and its manifests must install too.
///
/// The older form this module once wrote (schema `unisonos.release-manifest/v1`) is still
/// read: `version` (SemVer, `v` optional), optional `channel`, `services` as
/// `{name, image, tag?, digest, reference?}` with `digest` a `sha256:` digest and `reference`
/// the `image:tag@digest` to run, and optional `infrastructure` as `{name, image}`. Other
/// fields are ignored.
package struct ReleasePins: Sendable, Equatable {
    package struct Pin: Sendable, Equatable, Codable {
        package var name: String
        package var image: String?
        package var tag: String?
        package var digest: String
        package var reference: String?
    }

    package struct Infrastructure: Sendable, Equatable, Codable {
        package var name: String
        package var image: String
    }

    package var version: SemVer
    package var channel: String?
    package var pins: [String: Pin]
    /// Infrastructure images as the release pinned them.
    package var infrastructure: [String: String] = [:]

    /// The older form (`unisonos.release-manifest/v1`).
    private struct LegacyFile: Decodable {
        var schema: String?
        var version: String
        var channel: String?
        var services: [Pin]
        var infrastructure: [Infrastructure]?
    }

    /// Reads either form; `source` names the file in errors (`ReleaseError.badManifest`).
    package static func parse(_ data: Data, source: String) throws -> ReleasePins {
        if let object = (try? JSONValue.parse(data))?.object,
            let schema = object[ReleaseManifest.CodingKeys.schemaVersion.rawValue]?.string
        {
            guard schema == ReleaseManifest.schemaID else {
                throw ReleaseError.badManifest(path: source, reason: "schema_version '\(schema)' is not \(ReleaseManifest.schemaID)")
            }
            return try parsePlatform(data, source: source)
        }
        let file: LegacyFile
        do { file = try JSONDecoder().decode(LegacyFile.self, from: data) } catch {
            throw ReleaseError.badManifest(path: source, reason: Self.describe(error))
        }
        if let schema = file.schema, !schema.hasPrefix("unisonos.release-manifest/") {
            throw ReleaseError.badManifest(path: source, reason: "schema '\(schema)' is not a release manifest")
        }
        guard let version = SemVer(file.version) else {
            throw ReleaseError.badManifest(path: source, reason: "version '\(file.version)' is not a SemVer version")
        }
        var pins: [String: Pin] = [:]
        for pin in file.services {
            guard isSHA256(pin.digest) else {
                throw ReleaseError.badManifest(
                    path: source, reason: "service '\(pin.name)' has digest '\(pin.digest)', not sha256:<64 lowercase hex>")
            }
            guard pins[pin.name] == nil else {
                throw ReleaseError.badManifest(path: source, reason: "service '\(pin.name)' is listed twice")
            }
            if let reference = pin.reference, !reference.hasSuffix("@" + pin.digest) {
                throw ReleaseError.badManifest(
                    path: source, reason: "service '\(pin.name)' has reference '\(reference)', which does not end in its digest")
            }
            pins[pin.name] = pin
        }
        var infrastructure: [String: String] = [:]
        for entry in file.infrastructure ?? [] where ImageName(entry.image) != nil { infrastructure[entry.name] = entry.image }
        return ReleasePins(version: version, channel: file.channel, pins: pins, infrastructure: infrastructure)
    }

    /// A `unison.platform.release.manifest.v1` manifest: pins from `compose.images_pinned`.
    static func parsePlatform(_ data: Data, source: String) throws -> ReleasePins {
        let file: ReleaseManifest.Pinning
        do { file = try JSONDecoder().decode(ReleaseManifest.Pinning.self, from: data) } catch {
            throw ReleaseError.badManifest(path: source, reason: Self.describe(error))
        }
        guard let version = SemVer(file.version) else {
            throw ReleaseError.badManifest(path: source, reason: "release.version '\(file.version)' is not a SemVer version")
        }
        var pins: [String: Pin] = [:]
        for (name, reference) in file.imagesPinned {
            guard let at = reference.firstRange(of: "@sha256:") else {
                throw ReleaseError.badManifest(path: source, reason: "compose.images_pinned.\(name) '\(reference)' is not pinned by a sha256 digest")
            }
            let digest = String(reference[reference.index(after: at.lowerBound)...])
            guard isSHA256(digest) else {
                throw ReleaseError.badManifest(path: source, reason: "service '\(name)' has digest '\(digest)', not sha256:<64 lowercase hex>")
            }
            pins[name] = Pin(name: name, image: nil, tag: nil, digest: digest, reference: reference)
        }
        var infrastructure: [String: String] = [:]
        for (name, image) in file.imagesFromCompose where pins[name] == nil && ImageName(image) != nil {
            infrastructure[name] = image
        }
        return ReleasePins(version: version, channel: file.channel, pins: pins, infrastructure: infrastructure)
    }

    /// `sha256:` and 64 lowercase hex digits.
    static func isSHA256(_ digest: String) -> Bool {
        let hex = digest.dropFirst(7)
        return digest.hasPrefix("sha256:") && hex.count == 64 && hex.allSatisfy { $0.isHexDigit && !$0.isUppercase }
    }

    /// A JSON decoding failure in a few words, with the path of the field that failed.
    package static func describe(_ error: Error) -> String {
        switch error {
        case let DecodingError.keyNotFound(key, ctx):
            return "missing '\(key.stringValue)'" + (ctx.codingPath.isEmpty ? "" : " at \(ctx.codingPath.map(\.stringValue).joined(separator: "."))")
        case let DecodingError.typeMismatch(_, ctx), let DecodingError.valueNotFound(_, ctx):
            return "wrong type at \(ctx.codingPath.map(\.stringValue).joined(separator: "."))"
        case let DecodingError.dataCorrupted(ctx):
            return ctx.codingPath.isEmpty ? "not JSON" : "bad value at \(ctx.codingPath.map(\.stringValue).joined(separator: "."))"
        default:
            return "\(error)"
        }
    }
}

extension ReleaseManifest {
    /// The part of a manifest that pins images, read with the manifest's own keys. Everything
    /// else (assets, model packs, requirements, resolved images) may be absent or shaped as
    /// another writer shapes it.
    package struct Pinning: Sendable, Equatable, Decodable {
        package var schemaVersion: String
        /// `release.version`.
        package var version: String
        /// `release.channel`.
        package var channel: String?
        /// `compose.images_pinned` (empty when absent).
        package var imagesPinned: [String: String]
        /// `compose.images_from_compose` (empty when absent).
        package var imagesFromCompose: [String: String]

        package init(from decoder: any Decoder) throws {
            let manifest = try decoder.container(keyedBy: ReleaseManifest.CodingKeys.self)
            schemaVersion = try manifest.decode(String.self, forKey: .schemaVersion)
            let release = try manifest.nestedContainer(keyedBy: Release.CodingKeys.self, forKey: .release)
            version = try release.decode(String.self, forKey: .version)
            channel = try release.decodeIfPresent(String.self, forKey: .channel)
            let compose = try manifest.nestedContainer(keyedBy: Compose.CodingKeys.self, forKey: .compose)
            imagesPinned = try compose.decodeIfPresent([String: String].self, forKey: .imagesPinned) ?? [:]
            imagesFromCompose = try compose.decodeIfPresent([String: String].self, forKey: .imagesFromCompose) ?? [:]
        }
    }
}
