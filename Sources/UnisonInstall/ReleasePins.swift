import FoundationEssentials
import UnisonCore
import UnisonRelease
import UnisonSpec

extension ReleasePins {
    /// Reads a release manifest (`ReleasePins.parse`: the release's own model) for an install.
    package static func load(_ url: URL) throws -> ReleasePins {
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw InstallError.unreadable(path: url.path, reason: ErrorText.describe(error)) }
        do {
            return try parse(data, source: url.path)
        } catch let ReleaseError.badManifest(path, reason) {
            throw InstallError.badManifest(path: path, reason: reason)
        }
    }
}

/// The image reference each service runs, for a version/channel or a release manifest.
package enum ImagePinning {
    /// The tag platform images carry for this install: `v<version>` (the stable and beta
    /// channels' `type=semver,pattern=v{{version}}` rule), or `edge-main` on the nightly channel
    /// when no version is asked for.
    package static func platformTag(spec: PlatformSpec, version: SemVer?, channel: String?) -> String {
        if let version { return "v" + version.description }
        if channel == "nightly" { return "edge-main" }
        return "v" + spec.platform.version.description
    }

    /// `service name -> image reference` for every service of the spec.
    package static func references(
        spec: PlatformSpec, version: SemVer?, channel: String?,
        pins: ReleasePins?
    ) throws -> [String: String] {
        let tag = platformTag(spec: spec, version: version ?? pins?.version, channel: channel)
        var out: [String: String] = [:]
        for service in spec.allServices {
            let pin = pins?.pins[service.name]
            switch service.kind {
            case .platform:
                if let pins, pin == nil {
                    throw InstallError.badManifest(
                        path: "release manifest \(pins.version)",
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
