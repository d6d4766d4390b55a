// `release manifest --resolve-digests`: the digest each service's image has at its release
// tag, read from the registry (the digest is computed from the manifest bytes fetched, never
// taken from a header alone; see `RegistryClient.resolveDigests`).
import FoundationEssentials
import UnisonOCI
import UnisonSpec

package enum DigestResolution {
    /// `service -> sha256:…` for every service of `spec` that is not in `known` and has a
    /// valid tag in `serviceTags`, resolved with `client` (which must speak to
    /// `ServiceImages.registry`). The first image the registry does not have stops the run
    /// with an error naming it.
    package static func resolve(
        spec: PlatformSpec, serviceTags: [String: String], known: Set<String>,
        override: RegistryEndpoint?, client: RegistryClient
    ) async throws -> [String: String] {
        var wanted: [String: ImageReference] = [:]
        for service in spec.services where !known.contains(service.name) {
            guard let tag = serviceTags[service.name], let t = Tag(tag) else { continue }
            wanted[service.name] = try ServiceImages.repository(service, spec: spec, override: override).with(tag: t)
        }
        return try await client.resolveDigests(wanted).mapValues(\.description)
    }
}
