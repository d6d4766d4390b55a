// Content digests as the OCI image spec defines them (opencontainers/image-spec `descriptor.md`,
// "Digests"): `algorithm ":" encoded`, here sha256 (64 lowercase hex) or sha512 (128).
import FoundationEssentials
import UnisonCore
import UnisonCrypto

/// A validated content digest such as `sha256:9f86d0…`. Only registered algorithms with their
/// exact encoded length are accepted, so a `Digest` is always safe to use in a path or URL.
package struct Digest: Sendable, Hashable, Comparable, StringCodable {
    package enum Algorithm: String, Sendable, Codable, CaseIterable {
        case sha256, sha512

        var hexLength: Int { self == .sha256 ? 64 : 128 }
    }

    package let algorithm: Algorithm
    /// The lowercase hex encoding.
    package let hex: String

    package init?(_ text: String) {
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, let algorithm = Algorithm(rawValue: String(parts[0])) else { return nil }
        let hex = parts[1]
        guard hex.utf8.count == algorithm.hexLength,
            hex.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })
        else { return nil }
        self.algorithm = algorithm
        self.hex = String(hex)
    }

    /// Parses or throws `OCIError.invalidDigest` naming the text.
    package static func parse(_ text: String) throws -> Digest {
        guard let digest = Digest(text) else { throw OCIError.invalidDigest(text) }
        return digest
    }

    /// The sha256 digest of `data`.
    package static func sha256(of data: some DataProtocol) -> Digest {
        var hasher = DigestHasher(.sha256)
        hasher.update(data)
        return hasher.finalize()
    }

    /// Hashes a file in 1 MiB reads with this digest's algorithm, returning digest and size.
    package static func of(file url: URL, algorithm: Algorithm = .sha256) throws -> (digest: Digest, size: Int64) {
        let handle = try FileIO(forReadingFrom: url)
        defer { try? handle.close() }
        var hasher = DigestHasher(algorithm)
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            hasher.update(chunk)
        }
        return (hasher.finalize(), hasher.count)
    }

    package var description: String { "\(algorithm.rawValue):\(hex)" }

    /// `sha256-<hex>`: the form used by Ollama's blob names and the referrers tag fallback.
    package var dashed: String { "\(algorithm.rawValue)-\(hex)" }

    package static func < (a: Digest, b: Digest) -> Bool { a.description < b.description }

    package static let expectedText = "a valid digest"
}

/// Incremental hashing for streamed content; counts the bytes it has seen.
package struct DigestHasher {
    private enum Engine {
        case sha256(SHA256)
        case sha512(SHA512)
    }

    private var engine: Engine
    package private(set) var count: Int64 = 0
    package let algorithm: Digest.Algorithm

    package init(_ algorithm: Digest.Algorithm) {
        self.algorithm = algorithm
        engine = algorithm == .sha256 ? .sha256(SHA256()) : .sha512(SHA512())
    }

    package mutating func update(_ data: some DataProtocol) {
        count += Int64(data.count)
        switch engine {
        case var .sha256(h):
            h.update(data: data)
            engine = .sha256(h)
        case var .sha512(h):
            h.update(data: data)
            engine = .sha512(h)
        }
    }

    package func finalize() -> Digest {
        let digest: HashDigest
        switch engine {
        case let .sha256(h): digest = h.finalize()
        case let .sha512(h): digest = h.finalize()
        }
        return Digest(unchecked: algorithm, hex: digest.hex)
    }
}

extension Digest {
    fileprivate init(unchecked algorithm: Algorithm, hex: String) {
        self.algorithm = algorithm
        self.hex = hex
    }
}
