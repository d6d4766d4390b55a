// SHA-256 and SHA-512 (FIPS 180-4) over the BoringSSL that swift-nio-ssl already links
// (CNIOBoringSSL), so the binary carries one BoringSSL. BoringSSL picks its SHA-NI, AVX2 or
// plain code at run time; every update hands it the caller's buffer without a copy.
internal import CNIOBoringSSL
import FoundationEssentials

/// A finished SHA-2 digest: its bytes, in order, as a collection.
package struct HashDigest: Sendable, Hashable, RandomAccessCollection, CustomStringConvertible {
    package let bytes: [UInt8]

    package var startIndex: Int { bytes.startIndex }
    package var endIndex: Int { bytes.endIndex }
    package subscript(position: Int) -> UInt8 { bytes[position] }

    /// Lowercase hex, two digits a byte.
    package var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    package var description: String { hex }

    /// Fills `count` bytes through `body` (a BoringSSL `*_Final`).
    init(count: Int, _ body: (UnsafeMutablePointer<UInt8>) -> Void) {
        bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            body(buffer.baseAddress!)
            initialized = count
        }
    }
}

/// What SHA-256 and SHA-512 share: a fresh state, byte updates, a finalized copy.
package protocol SHA2Hasher: Sendable {
    init()
    mutating func update(bufferPointer: UnsafeRawBufferPointer)
    func finalize() -> HashDigest
}

extension SHA2Hasher {
    /// Hashes each contiguous region of `data` in place.
    package mutating func update(data: some DataProtocol) {
        for region in data.regions { region.withUnsafeBytes { update(bufferPointer: $0) } }
    }

    package static func hash(data: some DataProtocol) -> HashDigest {
        var hasher = Self()
        hasher.update(data: data)
        return hasher.finalize()
    }
}

/// Streaming SHA-256: `update` as often as needed, then `finalize` (which leaves the hasher
/// usable, as a copy is finalized).
package struct SHA256: SHA2Hasher {
    package static let byteCount = 32
    private var context = SHA256_CTX()

    package init() { SHA256_Init(&context) }

    package mutating func update(bufferPointer: UnsafeRawBufferPointer) {
        guard let base = bufferPointer.baseAddress, !bufferPointer.isEmpty else { return }
        SHA256_Update(&context, base, bufferPointer.count)
    }

    package func finalize() -> HashDigest {
        var copy = context
        return HashDigest(count: Self.byteCount) { _ = SHA256_Final($0, &copy) }
    }
}

/// Streaming SHA-512, shaped as `SHA256`.
package struct SHA512: SHA2Hasher {
    package static let byteCount = 64
    private var context = SHA512_CTX()

    package init() { SHA512_Init(&context) }

    package mutating func update(bufferPointer: UnsafeRawBufferPointer) {
        guard let base = bufferPointer.baseAddress, !bufferPointer.isEmpty else { return }
        SHA512_Update(&context, base, bufferPointer.count)
    }

    package func finalize() -> HashDigest {
        var copy = context
        return HashDigest(count: Self.byteCount) { _ = SHA512_Final($0, &copy) }
    }
}
