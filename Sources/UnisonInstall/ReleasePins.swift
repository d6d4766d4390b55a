import Foundation
import UnisonCore
import UnisonSpec

/// The images a release pins, read from its manifest (`unisonos-manifest-<v>.json`).
///
/// The manifest UnisonRelease writes is `unison.platform.release.manifest.v1` (the schema
/// unison-platform's generator writes and unison-updates reads): `release.version`,
/// `release.channel`, `compose.images_pinned` (service → `image[:tag]@sha256:…`) and
/// `compose.images_from_compose` for images not pinned by digest (infrastructure).
/// The older form below is still read.
///
/// Only the fields an install needs are read (UnisonRelease's `ReleaseManifest`,
/// schema `unisonos.release-manifest/v1`, writes them): `version` (SemVer, `v` optional),
/// optional `channel`, `services` as `{name, image, tag?, digest, reference?}` with `digest` a
/// `sha256:` digest and `reference` the `image:tag@digest` to run, and optional
/// `infrastructure` as `{name, image}`. Other fields are ignored.
public struct ReleasePins: Sendable, Equatable {
    public struct Pin: Sendable, Equatable, Codable {
        public var name: String
        public var image: String?
        public var tag: String?
        public var digest: String
        public var reference: String?
    }

    public struct Infrastructure: Sendable, Equatable, Codable {
        public var name: String
        public var image: String
    }

    public var version: SemVer
    public var channel: String?
    public var pins: [String: Pin]
    /// Infrastructure images as the release pinned them.
    public var infrastructure: [String: String] = [:]

    private struct File: Decodable {
        var schema: String?
        var version: String
        var channel: String?
        var services: [Pin]
        var infrastructure: [Infrastructure]?
    }

    public static func load(_ url: URL) throws -> ReleasePins {
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw InstallError.unreadable(path: url.path, reason: "\(error.localizedDescription)") }
        return try parse(data, source: url.path)
    }

    private struct PlatformFile: Decodable {
        struct Release: Decodable { var version: String; var channel: String? }
        struct Compose: Decodable {
            var images_pinned: [String: String]?
            var images_from_compose: [String: String]?
        }
        var schema_version: String
        var release: Release
        var compose: Compose
    }

    /// A v1 platform manifest: pins from `compose.images_pinned`.
    static func parsePlatform(_ data: Data, source: String) throws -> ReleasePins {
        let file: PlatformFile
        do { file = try JSONDecoder().decode(PlatformFile.self, from: data) } catch {
            throw InstallError.badManifest(path: source, reason: Self.describe(error))
        }
        guard let version = SemVer(file.release.version) else {
            throw InstallError.badManifest(path: source, reason: "release.version '\(file.release.version)' is not a SemVer version")
        }
        var pins: [String: Pin] = [:]
        for (name, reference) in file.compose.images_pinned ?? [:] {
            guard let at = reference.range(of: "@sha256:") else {
                throw InstallError.badManifest(path: source, reason: "compose.images_pinned.\(name) '\(reference)' is not pinned by a sha256 digest")
            }
            let digest = String(reference[reference.index(after: at.lowerBound)...])
            let hex = digest.dropFirst(7)
            guard hex.count == 64, hex.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else {
                throw InstallError.badManifest(path: source, reason: "service '\(name)' has digest '\(digest)', not sha256:<64 lowercase hex>")
            }
            pins[name] = Pin(name: name, image: nil, tag: nil, digest: digest, reference: reference)
        }
        var infrastructure: [String: String] = [:]
        for (name, image) in file.compose.images_from_compose ?? [:] where pins[name] == nil && ImageName(image) != nil {
            infrastructure[name] = image
        }
        return ReleasePins(version: version, channel: file.release.channel, pins: pins, infrastructure: infrastructure)
    }

    public static func parse(_ data: Data, source: String) throws -> ReleasePins {
        if let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
           let schema = object["schema_version"] as? String {
            guard schema == "unison.platform.release.manifest.v1" else {
                throw InstallError.badManifest(path: source, reason: "schema_version '\(schema)' is not unison.platform.release.manifest.v1")
            }
            return try parsePlatform(data, source: source)
        }
        let file: File
        do { file = try JSONDecoder().decode(File.self, from: data) } catch {
            throw InstallError.badManifest(path: source, reason: Self.describe(error))
        }
        if let schema = file.schema, !schema.hasPrefix("unisonos.release-manifest/") {
            throw InstallError.badManifest(path: source, reason: "schema '\(schema)' is not a release manifest")
        }
        guard let version = SemVer(file.version) else {
            throw InstallError.badManifest(path: source, reason: "version '\(file.version)' is not a SemVer version")
        }
        var pins: [String: Pin] = [:]
        for pin in file.services {
            let hex = pin.digest.dropFirst(7)
            guard pin.digest.hasPrefix("sha256:"), hex.count == 64, hex.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else {
                throw InstallError.badManifest(path: source, reason: "service '\(pin.name)' has digest '\(pin.digest)', not sha256:<64 lowercase hex>")
            }
            guard pins[pin.name] == nil else {
                throw InstallError.badManifest(path: source, reason: "service '\(pin.name)' is listed twice")
            }
            if let reference = pin.reference, !reference.hasSuffix("@" + pin.digest) {
                throw InstallError.badManifest(path: source, reason: "service '\(pin.name)' has reference '\(reference)', which does not end in its digest")
            }
            pins[pin.name] = pin
        }
        var infrastructure: [String: String] = [:]
        for entry in file.infrastructure ?? [] where ImageName(entry.image) != nil { infrastructure[entry.name] = entry.image }
        return ReleasePins(version: version, channel: file.channel, pins: pins, infrastructure: infrastructure)
    }

    static func describe(_ error: Error) -> String {
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

/// The image reference each service runs, for a version/channel or a release manifest.
public enum ImagePinning {
    /// The tag platform images carry for this install: `v<version>` (the stable and beta
    /// channels' `type=semver,pattern=v{{version}}` rule), or `edge-main` on the nightly channel
    /// when no version is asked for.
    public static func platformTag(spec: PlatformSpec, version: SemVer?, channel: String?) -> String {
        if let version { return "v" + version.description }
        if channel == "nightly" { return "edge-main" }
        return "v" + spec.platform.version.description
    }

    /// `service name -> image reference` for every service of the spec.
    public static func references(spec: PlatformSpec, version: SemVer?, channel: String?,
                                  pins: ReleasePins?) throws -> [String: String] {
        let tag = platformTag(spec: spec, version: version ?? pins?.version, channel: channel)
        var out: [String: String] = [:]
        for service in spec.allServices {
            let pin = pins?.pins[service.name]
            switch service.kind {
            case .platform:
                if let pins, pin == nil {
                    throw InstallError.badManifest(path: "release manifest \(pins.version)",
                                                   reason: "it pins no digest for platform service '\(service.name)'")
                }
                if let pin {
                    // The release's own reference, else the spec's image with the release's tag.
                    out[service.name] = pin.reference ?? "\(pin.image ?? service.image):\(pin.tag ?? tag)@\(pin.digest)"
                } else {
                    out[service.name] = "\(service.image):\(tag)"
                }
            case .infrastructure:
                // The release's pin, else the spec's pinned tag (plus a digest when listed as a service).
                if let pinned = pins?.infrastructure[service.name] {
                    out[service.name] = pinned
                } else {
                    let base = service.image.split(separator: "@").first.map(String.init) ?? service.image
                    out[service.name] = base + (pin.map { "@" + $0.digest } ?? "")
                }
            }
        }
        return out
    }
}
