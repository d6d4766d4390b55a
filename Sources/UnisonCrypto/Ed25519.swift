// Ed25519 (RFC 8032) over the BoringSSL that swift-nio-ssl already links. BoringSSL's private
// key is the 64 bytes seed ‖ public key (as in OpenSSH's key file); keys here are made from
// and show the 32-byte seed.
internal import CNIOBoringSSL
import FoundationEssentials

package enum Ed25519 {
    package static let seedCount = 32
    package static let publicKeyCount = 32
    package static let signatureCount = 64

    /// A key given with the wrong number of bytes.
    package struct KeySizeError: Error, Equatable {
        package let expected: Int
        package let got: Int

        package init(expected: Int, got: Int) {
            self.expected = expected
            self.got = got
        }
    }

    /// A signing key. Its description never shows key material.
    package struct PrivateKey: Sendable, CustomStringConvertible {
        /// seed ‖ public key, the form `ED25519_sign` takes.
        private let expanded: [UInt8]
        package let publicKey: PublicKey

        /// A fresh key from BoringSSL's random generator (getrandom).
        package init() {
            var pub = [UInt8](repeating: 0, count: Ed25519.publicKeyCount)
            var priv = [UInt8](repeating: 0, count: 64)
            ED25519_keypair(&pub, &priv)
            expanded = priv
            publicKey = PublicKey(checked: Data(pub))
        }

        /// The key whose 32-byte seed is `rawRepresentation`.
        package init(rawRepresentation seed: some DataProtocol) throws(KeySizeError) {
            guard seed.count == Ed25519.seedCount else { throw KeySizeError(expected: Ed25519.seedCount, got: seed.count) }
            let seedBytes = Array(seed)
            var pub = [UInt8](repeating: 0, count: Ed25519.publicKeyCount)
            var priv = [UInt8](repeating: 0, count: 64)
            ED25519_keypair_from_seed(&pub, &priv, seedBytes)
            expanded = priv
            publicKey = PublicKey(checked: Data(pub))
        }

        /// The 32-byte seed.
        package var rawRepresentation: Data { Data(expanded.prefix(Ed25519.seedCount)) }

        package var description: String { "Ed25519 private key" }

        /// The 64-byte signature of `message` (deterministic: same key and message, same bytes).
        package func signature(for message: some DataProtocol) -> Data {
            var signature = [UInt8](repeating: 0, count: Ed25519.signatureCount)
            let ok = withContiguousBytes(message) { m in
                ED25519_sign(&signature, m.baseAddress!, m.count, expanded)
            }
            // BoringSSL fails only when it cannot allocate.
            precondition(ok == 1, "ED25519_sign failed")
            return Data(signature)
        }
    }

    /// A verifying key: 32 bytes, as SSH and RFC 8032 encode it.
    package struct PublicKey: Sendable, Hashable {
        package let rawRepresentation: Data

        /// Checks the length only; a byte string that is no curve point verifies nothing.
        package init(rawRepresentation: some DataProtocol) throws(KeySizeError) {
            guard rawRepresentation.count == Ed25519.publicKeyCount else {
                throw KeySizeError(expected: Ed25519.publicKeyCount, got: rawRepresentation.count)
            }
            self.rawRepresentation = Data(rawRepresentation)
        }

        fileprivate init(checked raw: Data) { rawRepresentation = raw }

        /// Whether `signature` is this key's signature of `message`.
        package func isValidSignature(_ signature: some DataProtocol, for message: some DataProtocol) -> Bool {
            guard signature.count == Ed25519.signatureCount else { return false }
            let sig = Array(signature), key = Array(rawRepresentation)
            return withContiguousBytes(message) { m in
                ED25519_verify(m.baseAddress!, m.count, sig, key) == 1
            }
        }
    }
}

/// `body` over `data` as one buffer whose base address is never nil (an empty message still
/// needs a valid pointer): the data's own storage when it is one region, a copy otherwise.
private func withContiguousBytes<R>(_ data: some DataProtocol, _ body: (UnsafeRawBufferPointer) -> R) -> R {
    if data.regions.count == 1, let region = data.regions.first, !region.isEmpty {
        return region.withUnsafeBytes(body)
    }
    var bytes = Array(data)
    if bytes.isEmpty {
        bytes.append(0)
        return bytes.withUnsafeBytes { body(UnsafeRawBufferPointer(start: $0.baseAddress, count: 0)) }
    }
    return bytes.withUnsafeBytes(body)
}
