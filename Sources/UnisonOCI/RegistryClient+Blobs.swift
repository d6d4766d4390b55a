// Blobs: HEAD and GET /v2/<name>/blobs/<digest> (distribution-spec "Pulling blobs",
// "Checking if content exists"). Downloads are hashed while they stream into a temporary file
// beside the destination; the file is renamed into place only when digest and size match, so
// nothing of a corrupt blob is ever kept. A dropped connection resumes with `Range` when the
// registry (or the storage it redirects to) answers 206, and starts over otherwise.
import FoundationEssentials
import Glibc
import UnisonCore

extension RegistryClient {
    /// The size of a blob when the repository has it, nil when it does not.
    package func blobSize(_ digest: Digest, in repository: ImageReference) async throws -> Int64? {
        let ref = repository.repositoryReference
        let response = try await execute(
            RegistryExchange(
                method: .HEAD, url: url(ref, "blobs/\(digest)"), registry: ref.registry,
                scopes: [.pull(ref.repository)], what: "HEAD blob", reference: "\(ref.name)@\(digest)", expected: [200, 404]))
        guard response.status == 200 else { return nil }
        return response.headers["Content-Length"].flatMap { Int64($0) } ?? -1
    }

    /// Downloads the blob `reference` names by digest into `destination`, verified.
    /// Returns the byte count. The image pipeline's entry point for single layers.
    @discardableResult
    package func fetchBlob(
        _ reference: ImageReference, to destination: URL, expectedSize: Int64? = nil,
        progress: ProgressReporter? = nil
    ) async throws -> Int64 {
        guard let digest = reference.digest else {
            throw OCIError.invalidReference(reference.description, reason: "a blob is fetched by @digest")
        }
        return try await fetchBlob(digest, size: expectedSize, from: reference.repositoryReference, to: destination, progress: progress)
    }

    /// Downloads a blob described by `descriptor` from `repository` into `destination`, verified.
    @discardableResult
    package func fetchBlob(
        _ descriptor: Descriptor, from repository: ImageReference, to destination: URL,
        progress: ProgressReporter? = nil
    ) async throws -> Int64 {
        try await fetchBlob(descriptor.digest, size: descriptor.size, from: repository, to: destination, progress: progress)
    }

    func fetchBlob(
        _ digest: Digest, size: Int64?, from repository: ImageReference, to destination: URL,
        progress: ProgressReporter?
    ) async throws -> Int64 {
        let ref = repository.repositoryReference
        let what = "\(ref.name)@\(digest)"
        let fm = FileManager.default
        try fm.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
        let temporary: URL
        let handle: FileIO
        do {
            let (url, fd) = try AtomicFile.createTemporary(for: destination)
            temporary = url
            handle = FileIO(fileDescriptor: fd, closeOnDealloc: true)
        } catch {
            throw OCIError.io(path: destination.path, reason: "cannot create a temporary file: \(ErrorText.describe(error))")
        }
        var keep = false
        defer {
            if !keep { try? fm.removeItem(at: temporary) }
            TempPaths.unregister(temporary)
        }
        defer { try? handle.close() }

        var hasher = DigestHasher(digest.algorithm)
        var written: Int64 = 0
        var failures = 0
        let policy = configuration.retry
        while true {
            var headers: [String: String] = [:]
            if written > 0 { headers["Range"] = "bytes=\(written)-" }
            let response = try await execute(
                RegistryExchange(
                    method: .GET, url: url(ref, "blobs/\(digest)"), headers: headers, registry: ref.registry,
                    scopes: [.pull(ref.repository)], what: "GET blob", reference: what, expected: [200, 206]))
            if response.status == 206, Self.contentRangeStart(response.headers["Content-Range"]) != written {
                // A range we did not ask for: drop it and start over without Range.
                failures += 1
                guard failures < policy.attempts else {
                    throw OCIError.registry(
                        status: 206, what: "GET blob", reference: what, errors: [],
                        bodyExcerpt: "Content-Range \(response.headers["Content-Range"] ?? "missing") does not start at byte \(written)")
                }
                try handle.truncate(atOffset: 0)
                try handle.seek(toOffset: 0)
                progress?.advance(by: -written)
                hasher = DigestHasher(digest.algorithm)
                written = 0
                continue
            }
            if response.status == 200, written > 0 {
                // The server ignored Range: start over.
                try handle.truncate(atOffset: 0)
                try handle.seek(toOffset: 0)
                progress?.advance(by: -written)
                hasher = DigestHasher(digest.algorithm)
                written = 0
            }
            do {
                for try await chunk in response.body {
                    if let size, written + Int64(chunk.count) > size {
                        throw OCIError.sizeMismatch(what: "blob \(what)", digest: digest, expected: size, actual: written + Int64(chunk.count))
                    }
                    try handle.write(contentsOf: chunk)
                    hasher.update(chunk)
                    written += Int64(chunk.count)
                    progress?.advance(by: Int64(chunk.count))
                }
            } catch let error as TransportError {
                failures += 1
                guard failures < policy.attempts else {
                    throw OCIError.transport(what: "GET blob", reference: what, detail: error.detail, attempts: failures)
                }
                stats.update { $0.retries += 1 }
                try await Task.sleep(for: policy.delay(afterAttempt: failures))
                continue
            }
            break
        }
        try handle.synchronize()
        let actual = hasher.finalize()
        guard actual == digest else { throw OCIError.digestMismatch(what: "blob \(what)", expected: digest, actual: actual) }
        if let size, size != written {
            throw OCIError.sizeMismatch(what: "blob \(what)", digest: digest, expected: size, actual: written)
        }
        if rename(temporary.path, destination.path) != 0 {
            throw OCIError.io(path: destination.path, reason: String(cString: strerror(errno)))
        }
        keep = true
        stats.update { $0.blobBytesDownloaded += written }
        return written
    }

    /// `bytes 100-199/1000` → 100.
    static func contentRangeStart(_ header: String?) -> Int64? {
        guard var text = header?.trimming(.whitespaces) else { return nil }
        if text.hasPrefix("bytes") { text = String(text.dropFirst(5)).trimming(.whitespaces) }
        guard let dash = text.firstIndex(of: "-") else { return nil }
        return Int64(text[..<dash])
    }

    /// Reads a small blob (a config) into memory, verified, at most `limit` bytes.
    package func fetchBlobData(_ descriptor: Descriptor, from repository: ImageReference, limit: Int = 16 << 20) async throws -> Data {
        let ref = repository.repositoryReference
        let what = "\(ref.name)@\(descriptor.digest)"
        guard descriptor.size <= Int64(limit) else {
            throw OCIError.sizeMismatch(
                what: "blob \(what) (read into memory)", digest: descriptor.digest, expected: Int64(limit), actual: descriptor.size)
        }
        var failures = 0
        while true {
            let response = try await execute(
                RegistryExchange(
                    method: .GET, url: url(ref, "blobs/\(descriptor.digest)"), registry: ref.registry,
                    scopes: [.pull(ref.repository)], what: "GET blob", reference: what, expected: [200]))
            let data: Data
            do {
                data = try await response.body.collect(limit: limit)
            } catch is BodyLimitExceeded {
                throw OCIError.sizeMismatch(what: "blob \(what)", digest: descriptor.digest, expected: descriptor.size, actual: Int64(limit) + 1)
            } catch let error as TransportError {
                failures += 1
                guard failures < configuration.retry.attempts else {
                    throw OCIError.transport(what: "GET blob", reference: what, detail: error.detail, attempts: failures)
                }
                try await Task.sleep(for: configuration.retry.delay(afterAttempt: failures))
                continue
            }
            let actual = Self.digest(data, descriptor.digest.algorithm)
            guard actual == descriptor.digest else {
                throw OCIError.digestMismatch(what: "blob \(what)", expected: descriptor.digest, actual: actual)
            }
            guard Int64(data.count) == descriptor.size else {
                throw OCIError.sizeMismatch(what: "blob \(what)", digest: descriptor.digest, expected: descriptor.size, actual: Int64(data.count))
            }
            stats.update { $0.blobBytesDownloaded += Int64(data.count) }
            return data
        }
    }
}
