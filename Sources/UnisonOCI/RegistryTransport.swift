// The I/O boundary under the registry client: one HTTP exchange at a time, no auth, no
// retries, no redirects (the client's request executor does all of that). The real transport
// is our HTTP/1.1 client on swift-nio (`HTTPClientTransport`); tests can put anything behind the protocol.
import FoundationEssentials

package enum HTTPMethod: String, Sendable {
    case GET, HEAD, POST, PUT, PATCH, DELETE
}

/// What a request carries. Bodies are descriptions, not streams, so a request can be replayed
/// after an auth challenge or a retry.
package enum RequestBody: Sendable {
    case empty
    case data(Data)
    /// `range` of the file's bytes (a chunk of a blob, or all of it).
    case file(URL, range: Range<Int64>)

    package var count: Int64 {
        switch self {
        case .empty: return 0
        case let .data(d): return Int64(d.count)
        case let .file(_, range): return range.upperBound - range.lowerBound
        }
    }
}

package struct TransportRequest: Sendable {
    package var method: HTTPMethod
    package var url: URL
    package var headers: [String: String]
    package var body: RequestBody

    package init(method: HTTPMethod, url: URL, headers: [String: String] = [:], body: RequestBody = .empty) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }
}

/// Response headers with case-insensitive lookup.
package struct ResponseHeaders: Sendable {
    private var fields: [(name: String, value: String)]

    package init(_ fields: [(name: String, value: String)]) { self.fields = fields }

    package subscript(_ name: String) -> String? {
        fields.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    package func all(_ name: String) -> [String] {
        fields.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
    }
}

/// A response body read chunk by chunk, with backpressure: the next chunk is pulled from the
/// connection only when the consumer asks for it.
package struct ResponseBody: AsyncSequence, Sendable {
    package typealias Element = Data
    private let stream: AsyncThrowingStream<Data, Error>

    package init(_ stream: AsyncThrowingStream<Data, Error>) { self.stream = stream }

    package init(data: Data) {
        self.stream = AsyncThrowingStream { continuation in
            if !data.isEmpty { continuation.yield(data) }
            continuation.finish()
        }
    }

    package static var empty: ResponseBody { ResponseBody(data: Data()) }

    package func makeAsyncIterator() -> AsyncThrowingStream<Data, Error>.AsyncIterator { stream.makeAsyncIterator() }

    /// Reads the whole body, failing with `limitExceeded` past `limit` bytes.
    package func collect(limit: Int) async throws -> Data {
        var out = Data()
        for try await chunk in self {
            if out.count + chunk.count > limit { throw BodyLimitExceeded(limit: limit) }
            out.append(chunk)
        }
        return out
    }
}

package struct BodyLimitExceeded: Error, Sendable {
    package let limit: Int
}

package struct TransportResponse: Sendable {
    package var status: Int
    package var headers: ResponseHeaders
    package var body: ResponseBody

    package init(status: Int, headers: ResponseHeaders, body: ResponseBody) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// A failure below HTTP: the connection was refused, dropped or timed out (retryable), or it
/// can never succeed as configured, such as a certificate the client does not trust or a
/// client certificate that cannot be read (not retryable: the request executor gives up at once).
package struct TransportError: Error, Sendable, CustomStringConvertible {
    package let detail: String
    package let retryable: Bool
    package init(_ detail: String, retryable: Bool = true) {
        self.detail = detail
        self.retryable = retryable
    }
    package var description: String { detail }
}

/// One HTTP exchange. Implementations must not follow redirects or add credentials.
package protocol RegistryTransport: Sendable {
    func send(_ request: TransportRequest) async throws -> TransportResponse
    /// Whether this transport has TLS material of its own for `host:port` (a `certs.d` folder
    /// named for it): a loopback registry is then spoken to over HTTPS.
    func hasTLSFolder(host: String, port: Int) -> Bool
}

extension RegistryTransport {
    package func hasTLSFolder(host: String, port: Int) -> Bool { false }
}
