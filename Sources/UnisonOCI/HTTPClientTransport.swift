// The real transport: AsyncHTTPClient with redirects disabled (the request executor follows
// them itself so that credentials never go to another host) and no response decompression
// (digests are over the exact bytes).
import AsyncHTTPClient
import FoundationEssentials
import Glibc
import NIOCore
import NIOHTTP1
import UnisonCore

package final class HTTPClientTransport: RegistryTransport, @unchecked Sendable {
    private let client: HTTPClient

    /// A process-wide instance; it lives as long as the process and needs no shutdown.
    package static let shared = HTTPClientTransport()

    /// `connectTimeout` bounds connection setup, `readTimeout` the silence between two reads.
    package init(connectTimeout: Duration = .seconds(30), readTimeout: Duration = .seconds(120)) {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(
                connect: .nanoseconds(Int64(connectTimeout.components.seconds) * 1_000_000_000),
                read: .nanoseconds(Int64(readTimeout.components.seconds) * 1_000_000_000)),
            decompression: .disabled)
        configuration.httpVersion = .automatic
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Shuts down a transport made with `init` (never call it on `shared`).
    package func shutdown() async throws {
        try await client.shutdown()
    }

    package func send(_ request: TransportRequest) async throws -> TransportResponse {
        var r = HTTPClientRequest(url: request.url.absoluteString)
        r.method = .init(rawValue: request.method.rawValue)
        for (name, value) in request.headers { r.headers.replaceOrAdd(name: name, value: value) }
        switch request.body {
        case .empty:
            if request.method == .PUT || request.method == .POST || request.method == .PATCH {
                r.headers.replaceOrAdd(name: "Content-Length", value: "0")
            }
        case let .data(data):
            r.body = .bytes(ByteBuffer(bytes: data))
        case let .file(url, range):
            r.body = .stream(FileChunks(url: url, range: range), length: .known(range.upperBound - range.lowerBound))
        }
        let response: HTTPClientResponse
        do {
            response = try await client.execute(r, deadline: .distantFuture)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw TransportError(Self.describe(error))
        }
        let headers = ResponseHeaders(response.headers.map { (name: $0.name, value: $0.value) })
        let box = IteratorBox(response.body.makeAsyncIterator())
        let stream = AsyncThrowingStream<Data, Error>(unfolding: {
            do {
                guard let buffer = try await box.next() else { return nil }
                return Data(buffer.readableBytesView)
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                throw TransportError(Self.describe(error))
            }
        })
        return TransportResponse(status: Int(response.status.code), headers: headers, body: ResponseBody(stream))
    }

    static func describe(_ error: Error) -> String {
        if let e = error as? HTTPClientError { return "\(e)" }
        if let e = error as? TransportError { return e.detail }
        // NIO's own text for a failed syscall reads "connection reset (error set): …"; the errno says it plainly.
        if let e = error as? IOError { return String(cString: strerror(e.errnoCode)).lowercased() + " (errno \(e.errnoCode))" }
        return String(describing: error)
    }
}

/// Holds a response body iterator for the unfolding stream (used from one consumer at a time).
private final class IteratorBox: @unchecked Sendable {
    private var iterator: HTTPClientResponse.Body.AsyncIterator
    init(_ iterator: HTTPClientResponse.Body.AsyncIterator) { self.iterator = iterator }
    func next() async throws -> ByteBuffer? { try await iterator.next() }
}

/// A byte range of a file read in 1 MiB buffers, for streaming request bodies.
struct FileChunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let url: URL
    let range: Range<Int64>

    struct AsyncIterator: AsyncIteratorProtocol {
        let url: URL
        var position: Int64
        let end: Int64
        var handle: FileIO?

        mutating func next() async throws -> ByteBuffer? {
            guard position < end else {
                try? handle?.close()
                handle = nil
                return nil
            }
            if handle == nil {
                let h = try FileIO(forReadingFrom: url)
                try h.seek(toOffset: UInt64(position))
                handle = h
            }
            let want = Int(Swift.min(Int64(1 << 20), end - position))
            guard let data = try handle?.read(upToCount: want), !data.isEmpty else {
                throw TransportError("\(url.path) ended at byte \(position), expected \(end)")
            }
            position += Int64(data.count)
            return ByteBuffer(bytes: data)
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(url: url, position: range.lowerBound, end: range.upperBound, handle: nil)
    }
}
