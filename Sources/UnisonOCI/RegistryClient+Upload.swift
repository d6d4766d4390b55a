// Blob uploads (distribution-spec "Pushing blobs"):
//   HEAD /v2/<name>/blobs/<digest>                        → 200: already there, nothing sent
//   POST /v2/<name>/blobs/uploads/?mount=<d>&from=<repo>  → 201 mounted, 202 fell back to upload
//   POST /v2/<name>/blobs/uploads/                        → 202 Location
//   PATCH <location>  Content-Range: <first>-<last>       → 202 Location, Range: 0-<last>
//   GET <location>                                        → 204 Range: 0-<last> (after a failure)
//   PUT <location>?digest=<d> [final bytes]               → 201
// docker-registry 2.8 does not support `POST ?digest=` with a body, so a small blob is POST then
// PUT. The session itself is `BlobUploadStateMachine`; this file performs its actions.
import FoundationEssentials
import UnisonCore

/// What pushing one blob took.
package enum BlobPushOutcome: Sendable, Equatable {
    /// The repository already had it (HEAD answered): no bytes sent.
    case existed
    /// Mounted from another repository of the same registry: no bytes sent.
    case mounted
    /// Uploaded; `bytesSent` counts every body byte sent, retries included.
    case uploaded(bytesSent: Int64)
}

/// Where an upload's bytes come from.
package enum BlobSource: Sendable {
    case file(URL)
    case data(Data)

    func body(_ range: Range<Int64>) -> RequestBody {
        switch self {
        case let .file(url): return .file(url, range: range)
        case let .data(data): return .data(data.subdata(in: Int(range.lowerBound)..<Int(range.upperBound)))
        }
    }
}

extension RegistryClient {
    /// Mounts a blob from another repository of the same registry. True when the registry
    /// mounted it (201); false when it declined (the upload session it opened is cancelled).
    package func mountBlob(_ digest: Digest, from source: ImageReference, to repository: ImageReference) async throws -> Bool {
        let ref = repository.repositoryReference
        let start = url(
            ref, "blobs/uploads/",
            query: [
                URLQueryItem(name: "mount", value: digest.description),
                URLQueryItem(name: "from", value: source.repository),
            ])
        let response = try await execute(
            RegistryExchange(
                method: .POST, url: start, registry: ref.registry, scopes: [.push(ref.repository), .pull(source.repository)],
                what: "POST blob mount", reference: "\(ref.name)@\(digest) from \(source.repository)", expected: [201, 202]))
        _ = try? await response.body.collect(limit: 64 << 10)
        if response.status == 201 {
            stats.update { $0.blobsMounted += 1 }
            return true
        }
        if let session = try? location(response, base: start, what: "POST blob mount") {
            let cancel = try? await execute(
                RegistryExchange(
                    method: .DELETE, url: session, registry: ref.registry, scopes: [.push(ref.repository)],
                    what: "DELETE blob upload", reference: ref.name, expected: [200, 202, 204, 404], retryable: false))
            _ = try? await cancel?.body.collect(limit: 64 << 10)
        }
        return false
    }

    /// Pushes one blob unless the repository has it (`knownMissing` skips that HEAD when the
    /// caller just asked).
    @discardableResult
    package func pushBlob(
        _ source: BlobSource, descriptor: Descriptor, to repository: ImageReference,
        progress: ProgressReporter? = nil, knownMissing: Bool = false
    ) async throws -> BlobPushOutcome {
        let ref = repository.repositoryReference
        let digest = descriptor.digest
        if !knownMissing, try await blobSize(digest, in: ref) != nil {
            stats.update { $0.blobsSkipped += 1 }
            progress?.advance(by: descriptor.size)
            return .existed
        }
        var machine = BlobUploadStateMachine(
            size: descriptor.size, chunkSize: configuration.chunkSize,
            monolithic: configuration.monolithicUploads,
            maxFailures: configuration.retry.attempts + 1)

        let what = "\(ref.name)@\(digest)"
        var sent: Int64 = 0
        var progressed: Int64 = 0
        func report(_ offset: Int64) {
            guard let progress, offset != progressed else { return }
            progress.advance(by: offset - progressed)
            progressed = offset
        }
        while true {
            switch machine.nextAction {
            case .start:
                let start = url(ref, "blobs/uploads/")
                let response = try await execute(
                    RegistryExchange(
                        method: .POST, url: start, registry: ref.registry, scopes: [.push(ref.repository)],
                        what: "POST blob upload", reference: what, expected: [202]))
                _ = try? await response.body.collect(limit: 64 << 10)
                machine.sessionOpened(location: try location(response, base: start, what: "POST blob upload"))
                report(0)

            case let .sendChunk(location, range):
                sent += range.count64
                stats.update { $0.blobBytesUploaded += range.count64 }
                do {
                    let response = try await execute(
                        RegistryExchange(
                            method: .PATCH, url: location,
                            headers: [
                                "Content-Type": MediaType.octetStream,
                                "Content-Range": "\(range.lowerBound)-\(range.upperBound - 1)",
                                "Content-Length": String(range.count64),
                            ],
                            body: source.body(range), registry: ref.registry, scopes: [.push(ref.repository)],
                            what: "PATCH blob upload", reference: what, expected: [202, 204, 416], retryable: false))
                    _ = try? await response.body.collect(limit: 64 << 10)
                    if response.status == 416 {
                        machine.transferFailed("the registry refused Content-Range \(range.lowerBound)-\(range.upperBound - 1)")
                    } else {
                        machine.chunkAccepted(
                            location: (try? self.location(response, base: location, what: "PATCH")) ?? location,
                            sent: range, rangeEnd: Self.rangeEnd(response.headers["Range"]))
                        if case let .open(_, offset) = machine.state { report(offset) }
                    }
                } catch let error as OCIError where Self.isRetryableUploadFailure(error) {
                    if Self.isUnknownUpload(error) { machine.sessionLost() } else { machine.transferFailed(error.description) }
                    try await backoff(machine.failures)
                }

            case let .putWhole(location):
                sent += descriptor.size
                stats.update { $0.blobBytesUploaded += descriptor.size }
                do {
                    let response = try await execute(
                        RegistryExchange(
                            method: .PUT, url: Self.appendingDigest(location, digest),
                            headers: ["Content-Type": MediaType.octetStream, "Content-Length": String(descriptor.size)],
                            body: source.body(0..<descriptor.size), registry: ref.registry, scopes: [.push(ref.repository)],
                            what: "PUT blob", reference: what, expected: [201, 204], retryable: false))
                    _ = try? await response.body.collect(limit: 64 << 10)
                    try checkCommitted(response, digest: digest, what: what)
                    machine.committed()
                    report(descriptor.size)
                } catch let error as OCIError where Self.isRetryableUploadFailure(error) {
                    if Self.isUnknownUpload(error) { machine.sessionLost() } else { machine.transferFailed(error.description) }
                    try await backoff(machine.failures)
                }

            case let .commit(location):
                do {
                    let response = try await execute(
                        RegistryExchange(
                            method: .PUT, url: Self.appendingDigest(location, digest),
                            headers: ["Content-Type": MediaType.octetStream], registry: ref.registry, scopes: [.push(ref.repository)],
                            what: "PUT blob (commit)", reference: what, expected: [201, 204], retryable: false))
                    _ = try? await response.body.collect(limit: 64 << 10)
                    try checkCommitted(response, digest: digest, what: what)
                    machine.committed()
                } catch let error as OCIError where Self.isRetryableUploadFailure(error) {
                    machine.commitFailed(error.description)
                    try await backoff(machine.failures)
                }

            case let .queryStatus(location):
                do {
                    let response = try await execute(
                        RegistryExchange(
                            method: .GET, url: location, registry: ref.registry, scopes: [.push(ref.repository)],
                            what: "GET blob upload status", reference: what, expected: [204, 200]))
                    _ = try? await response.body.collect(limit: 64 << 10)
                    machine.statusReported(
                        location: (try? self.location(response, base: location, what: "GET status")) ?? location,
                        rangeEnd: Self.rangeEnd(response.headers["Range"]))
                    if case let .open(_, offset) = machine.state { report(offset) }
                } catch let error as OCIError where error.isNotFound {
                    machine.sessionLost()
                }

            case .checkExists:
                machine.existenceChecked(try await blobSize(digest, in: ref) != nil)

            case .finished:
                stats.update { $0.blobsUploaded += 1 }
                report(descriptor.size)
                return .uploaded(bytesSent: sent)

            case let .fail(reason):
                throw OCIError.upload(reference: ref.name, digest: digest, reason: reason)
            }
        }
    }

    private func backoff(_ failures: Int) async throws {
        try await Task.sleep(for: configuration.retry.delay(afterAttempt: max(1, failures)))
    }

    private func checkCommitted(_ response: TransportResponse, digest: Digest, what: String) throws {
        if let announced = response.headers["Docker-Content-Digest"].flatMap(Digest.init), announced != digest {
            throw OCIError.digestMismatch(what: "blob \(what) as stored by the registry", expected: digest, actual: announced)
        }
    }

    func location(_ response: TransportResponse, base: URL, what: String) throws -> URL {
        guard let text = response.headers["Location"], let location = URL(string: text, relativeTo: base)?.absoluteURL else {
            throw OCIError.registry(
                status: response.status, what: what, reference: base.path, errors: [],
                bodyExcerpt: "the answer has no Location header")
        }
        return location
    }

    /// `Range: 0-<last>` → last (inclusive). "0-0" right after a POST means nothing yet; it is
    /// read as one byte only when the session already holds data, which callers decide.
    static func rangeEnd(_ header: String?) -> Int64? {
        guard var text = header?.trimming(.whitespaces) else { return nil }
        if text.hasPrefix("bytes=") { text = String(text.dropFirst(6)) }
        let parts = text.split(separator: "-")
        guard parts.count == 2, let first = Int64(parts[0]), first == 0, let last = Int64(parts[1]) else { return nil }
        return last == 0 ? nil : last
    }

    static func appendingDigest(_ location: URL, _ digest: Digest) -> URL {
        var components = URLComponents(url: location, resolvingAgainstBaseURL: true)!
        let item = "digest=\(digest.description)"
        if let query = components.percentEncodedQuery, !query.isEmpty {
            components.percentEncodedQuery = query + "&" + item
        } else {
            components.percentEncodedQuery = item
        }
        return components.url!
    }

    /// Failures an upload survives by asking the registry where it stands: dropped connections,
    /// 5xx/429/408, and a session the registry forgot.
    static func isRetryableUploadFailure(_ error: OCIError) -> Bool {
        switch error {
        case .transport: return true
        case let .registry(status, _, _, _, _): return RetryPolicy.isRetryable(status: status) || isUnknownUpload(error)
        default: return false
        }
    }

    static func isUnknownUpload(_ error: OCIError) -> Bool {
        if case let .registry(status, _, _, errors, _) = error {
            return status == 404 || errors.contains { $0.code == "BLOB_UPLOAD_UNKNOWN" || $0.code == "BLOB_UPLOAD_INVALID" }
        }
        return false
    }
}

extension Range where Bound == Int64 {
    var count64: Int64 { upperBound - lowerBound }
}
