import FoundationEssentials
import UnisonCore

/// A health probe: one GET through UnisonCore's `HTTPExchange` (plain HTTP/1.1, one deadline
/// over connect, send and response), reduced to the status code or why there was none.
package enum HTTPProbe {
    package enum Result: Sendable, Equatable {
        case status(Int)
        case refused
        case timedOut
        case failed(String)
    }

    package static func get(host: String = "127.0.0.1", port: Int, path: String, timeout: TimeInterval) -> Result {
        switch HTTPExchange.perform(
            .init(target: path), host: host, port: port, timeout: timeout,
            maxBody: 4096, userAgent: "unisonctl-health")
        {
        case let .success(response): return .status(response.status)
        case .failure(.refused): return .refused
        case .failure(.timedOut): return .timedOut
        case let .failure(failure): return .failed(failure.description)
        }
    }
}
