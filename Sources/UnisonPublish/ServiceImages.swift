// Where a release's service images live: the spec's image repositories, optionally moved to a
// registry that stands in for the spec's (a test registry or a mirror of GHCR).
import FoundationEssentials
import UnisonOCI
import UnisonSpec

package enum ServiceImages {
    /// The registry a release talks to: the override's host, else the spec's registry.
    package static func registry(spec: PlatformSpec, override: RegistryEndpoint?) -> (host: String, plainHTTP: Bool) {
        (override?.host ?? spec.platform.registry.lowercased(), override?.plainHTTP ?? false)
    }

    /// A service's image repository, moved to `override`'s host when it lives on the spec's
    /// registry.
    package static func repository(_ service: Service, spec: PlatformSpec, override: RegistryEndpoint?) throws -> ImageReference {
        let image = try ImageReference(parsing: service.image).repositoryReference
        guard let override, image.registry == spec.platform.registry.lowercased() else { return image }
        return try image.with(registry: override.host)
    }

    /// Every platform service's repository, each once, in spec order.
    package static func platformRepositories(spec: PlatformSpec, override: RegistryEndpoint?) throws -> [ImageReference] {
        var images: [ImageReference] = []
        for service in spec.services where service.kind == .platform {
            let image = try repository(service, spec: spec, override: override)
            if !images.contains(image) { images.append(image) }
        }
        return images
    }
}
