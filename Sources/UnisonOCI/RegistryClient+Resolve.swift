// Resolving tags to digests for release pinning: the digest is computed from the manifest bytes
// fetched (and checked against what the registry announced), never taken from a header alone.
import FoundationEssentials

extension RegistryClient {
    /// The manifest digest every reference has now, by name, in name order. The first reference
    /// the registry does not have stops the run with an error naming it.
    package func resolveDigests(_ references: [String: ImageReference]) async throws -> [String: Digest] {
        var out: [String: Digest] = [:]
        for (name, reference) in references.sorted(by: { $0.key < $1.key }) {
            out[name] = try await fetchManifest(reference).digest
        }
        return out
    }
}
