// Manifests: GET/HEAD/PUT /v2/<name>/manifests/<reference> (distribution-spec "Pulling
// manifests", "Pushing manifests"). Every GET sends the full Accept list, is bounded by the
// manifest size limit, and is checked against the digest asked for or announced.
import FoundationEssentials
import UnisonCore

extension RegistryClient {
    /// Fetches a manifest or index by tag or digest. The bytes are verified against the
    /// reference's digest when it has one, else against `Docker-Content-Digest` when sent.
    package func fetchManifest(_ reference: ImageReference, accept: [String] = MediaType.manifestTypes) async throws -> ManifestDocument {
        let identifier = try reference.requireIdentifier()
        let response = try await execute(
            RegistryExchange(
                method: .GET, url: url(reference, "manifests/\(identifier)"),
                headers: ["Accept": accept.joined(separator: ", ")], registry: reference.registry,
                scopes: [.pull(reference.repository)], what: "GET manifest", reference: reference.description, expected: [200, 404]))
        if response.status == 404 {
            let body = try? await response.body.collect(limit: 64 << 10)
            let details = body.flatMap(RegistryErrorDetail.parse) ?? []
            throw OCIError.registry(
                status: 404, what: "GET manifest", reference: reference.description,
                errors: details.isEmpty ? [RegistryErrorDetail(code: "MANIFEST_UNKNOWN", message: "manifest unknown", detail: nil)] : details,
                bodyExcerpt: nil)
        }
        let bytes: Data
        do {
            bytes = try await response.body.collect(limit: configuration.manifestSizeLimit)
        } catch is BodyLimitExceeded {
            throw OCIError.manifestTooLarge(reference: reference.description, limit: configuration.manifestSizeLimit)
        } catch let error as TransportError {
            throw OCIError.transport(what: "GET manifest", reference: reference.description, detail: error.detail, attempts: 1)
        }
        let document = try ManifestDocument(bytes: bytes, contentType: response.headers["Content-Type"], reference: reference.description)
        if let wanted = reference.digest {
            let actual = wanted.algorithm == .sha256 ? document.digest : Self.digest(bytes, wanted.algorithm)
            guard actual == wanted else { throw OCIError.digestMismatch(what: "manifest \(reference)", expected: wanted, actual: actual) }
        } else if let announced = response.headers["Docker-Content-Digest"].flatMap(Digest.init), announced.algorithm == .sha256,
            announced != document.digest
        {
            throw OCIError.digestMismatch(what: "manifest \(reference)", expected: announced, actual: document.digest)
        }
        return document
    }

    /// HEAD on a manifest: its descriptor, or nil when the registry does not have it.
    package func manifestDescriptor(_ reference: ImageReference) async throws -> Descriptor? {
        let identifier = try reference.requireIdentifier()
        let response = try await execute(
            RegistryExchange(
                method: .HEAD, url: url(reference, "manifests/\(identifier)"),
                headers: ["Accept": MediaType.manifestTypes.joined(separator: ", ")], registry: reference.registry,
                scopes: [.pull(reference.repository)], what: "HEAD manifest", reference: reference.description, expected: [200, 404]))
        if response.status == 404 { return nil }
        guard let digest = response.headers["Docker-Content-Digest"].flatMap(Digest.init) ?? reference.digest else {
            // No digest header: fall back to fetching the manifest itself.
            return try await fetchManifest(reference).descriptor
        }
        let size = response.headers["Content-Length"].flatMap { Int64($0) } ?? 0
        let type =
            response.headers["Content-Type"].map { String($0.split(separator: ";")[0]).trimming(.whitespaces) }
            ?? MediaType.ociManifest
        return Descriptor(mediaType: type, digest: digest, size: size)
    }

    /// The result of a manifest PUT.
    package struct ManifestPushResult: Sendable {
        package var digest: Digest
        /// The registry processed `subject` itself (it sent `OCI-Subject`): no tag fallback needed.
        package var subjectHandled: Bool
    }

    /// PUTs the exact bytes of `document` under `reference`'s tag (or its digest) and checks the
    /// digest the registry computed.
    @discardableResult
    package func pushManifest(_ document: ManifestDocument, to reference: ImageReference) async throws -> ManifestPushResult {
        guard document.bytes.count <= configuration.manifestSizeLimit else {
            throw OCIError.manifestTooLarge(reference: reference.description, limit: configuration.manifestSizeLimit)
        }
        let identifier = reference.tag?.value ?? document.digest.description
        let target = reference.tag == nil ? reference.with(digest: document.digest) : reference.with(tag: reference.tag)
        let response = try await execute(
            RegistryExchange(
                method: .PUT, url: url(reference, "manifests/\(identifier)"),
                headers: ["Content-Type": document.mediaType], body: .data(document.bytes), registry: reference.registry,
                scopes: [.push(reference.repository)], what: "PUT manifest", reference: target.description, expected: [200, 201, 202]))
        _ = try? await response.body.collect(limit: 64 << 10)
        if let announced = response.headers["Docker-Content-Digest"].flatMap(Digest.init), announced.algorithm == .sha256,
            announced != document.digest
        {
            throw OCIError.digestMismatch(what: "manifest pushed to \(target)", expected: document.digest, actual: announced)
        }
        stats.update { $0.manifestsPushed += 1 }
        return ManifestPushResult(digest: document.digest, subjectHandled: response.headers["OCI-Subject"] != nil)
    }

    /// DELETE a manifest by digest (registries refuse deletion by tag).
    package func deleteManifest(_ reference: ImageReference) async throws {
        guard let digest = reference.digest else {
            throw OCIError.invalidReference(reference.description, reason: "deleting needs @digest")
        }
        let response = try await execute(
            RegistryExchange(
                method: .DELETE, url: url(reference, "manifests/\(digest)"), registry: reference.registry,
                scopes: [AuthScope(repository: reference.repository, actions: ["delete"])], what: "DELETE manifest",
                reference: reference.description, expected: [202]))
        _ = try? await response.body.collect(limit: 64 << 10)
    }

    static func digest(_ data: Data, _ algorithm: Digest.Algorithm) -> Digest {
        var h = DigestHasher(algorithm)
        h.update(data)
        return h.finalize()
    }
}
