import Foundation
import Testing
import UnisonCrypto
import UnisonTestSupport

private func bytes(hex: String) -> [UInt8] {
    let digits = Array(hex.utf8)
    return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(decoding: digits[$0..<$0 + 2], as: UTF8.self), radix: 16)! }
}

/// FIPS 180-4 examples (NIST's "Example Algorithms" for SHA-256 and SHA-512).
@Suite("SHA-256 and SHA-512 known answers", .tags(.unit))
struct SHA2KnownAnswerTests {
    struct Vector: Sendable, CustomTestStringConvertible {
        let name: String, message: String, sha256: String, sha512: String
        var testDescription: String { name }
    }

    static let vectors: [Vector] = [
        Vector(
            name: "empty", message: "",
            sha256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            sha512: "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"
        ),
        Vector(
            name: "abc", message: "abc",
            sha256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            sha512: "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
        ),
        Vector(
            name: "448 bits", message: "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
            sha256: "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
            sha512: "204a8fc6dda82f0a0ced7beb8e08a41657c16ef468b228a8279be331a703c33596fd15c13b1b07f9aa1d3bea57789ca031ad85c7a71dd70354ec631238ca3445"
        ),
        Vector(
            name: "896 bits",
            message: "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
            sha256: "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1",
            sha512: "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909"
        ),
    ]

    @Test("one-shot digests match FIPS 180", arguments: vectors)
    func oneShot(_ v: Vector) {
        #expect(SHA256.hash(data: Data(v.message.utf8)).hex == v.sha256)
        #expect(SHA512.hash(data: Array(v.message.utf8)).hex == v.sha512)
        #expect(Array(SHA256.hash(data: Data(v.message.utf8))) == bytes(hex: v.sha256))
        #expect(SHA512.hash(data: Data(v.message.utf8)).count == 64)
    }

    @Test("streamed byte by byte gives the same digest", arguments: vectors)
    func byteByByte(_ v: Vector) {
        var h256 = SHA256(), h512 = SHA512()
        for b in v.message.utf8 {
            h256.update(data: [b])
            h512.update(data: [b])
        }
        #expect(h256.finalize().hex == v.sha256)
        #expect(h512.finalize().hex == v.sha512)
    }

    @Test("one million 'a' streamed in uneven chunks, through Data slices and raw buffers")
    func millionA() {
        let a = Data(repeating: UInt8(ascii: "a"), count: 1_000_000)
        let chunks = [1, 63, 64, 65, 127, 128, 129, 1000, 4095, 65_537]
        var h256 = SHA256(), h512 = SHA512()
        var offset = 0, i = 0
        while offset < a.count {
            let end = min(a.count, offset + chunks[i % chunks.count])
            let slice = a[offset..<end]
            h256.update(data: slice)
            slice.withUnsafeBytes { h512.update(bufferPointer: $0) }
            offset = end
            i += 1
        }
        #expect(h256.finalize().hex == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        #expect(
            h512.finalize().hex
                == "e718483d0ce769644e2e42c7bc15b4638e1f98b13b2044285632a803afa973ebde0ff244877ea60a4cb0432ce577c31beb009c5c2c49aa2e4eadb217ad8cc09b")
    }

    @Test("finalize leaves the hasher usable: later updates extend the same message")
    func finalizeIsACopy() {
        var h = SHA256()
        h.update(data: Data("ab".utf8))
        _ = h.finalize()
        h.update(data: Data("c".utf8))
        #expect(h.finalize().hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test("a DispatchData of several regions hashes as its concatenation")
    func multipleRegions() {
        let parts = ["ab", "c"].map { Data($0.utf8) }
        var dd = DispatchData.empty
        for p in parts { p.withUnsafeBytes { dd.append($0) } }
        #expect(dd.regions.count == 2)
        #expect(SHA256.hash(data: dd).hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}

/// The same digests as coreutils' sha256sum and sha512sum, on a random file.
@Suite("SHA-2 against coreutils", .tags(.interop))
struct SHA2CoreutilsTests {
    @Test("a random 3 MiB + 17 byte file hashes as sha256sum and sha512sum say")
    func randomFile() throws {
        let tmp = try TempDir("sha2")
        let file = tmp.path("random.bin")
        var generator = SystemRandomNumberGenerator()
        let data = Data((0..<(3 << 20) + 17).map { _ in UInt8.random(in: 0...255, using: &generator) })
        try data.write(to: file)
        let want256 = try TestProcess.run(["sha256sum", file.path]).split(separator: " ")[0]
        let want512 = try TestProcess.run(["sha512sum", file.path]).split(separator: " ")[0]
        var h256 = SHA256(), h512 = SHA512()
        var offset = 0
        while offset < data.count {  // 1 MiB reads, as the file hashers do
            let end = min(data.count, offset + (1 << 20))
            h256.update(data: data[offset..<end])
            h512.update(data: data[offset..<end])
            offset = end
        }
        #expect(h256.finalize().hex == want256)
        #expect(h512.finalize().hex == want512)
        #expect(SHA256.hash(data: data).hex == want256)
    }
}

/// RFC 8032 section 7.1, tests 1 to 3.
@Suite("Ed25519 known answers", .tags(.unit))
struct Ed25519KnownAnswerTests {
    struct Vector: Sendable, CustomTestStringConvertible {
        let name: String, seed: String, publicKey: String, message: String, signature: String
        var testDescription: String { name }
    }

    static let vectors: [Vector] = [
        Vector(
            name: "TEST 1 (empty message)",
            seed: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
            publicKey: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", message: "",
            signature:
                "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"),
        Vector(
            name: "TEST 2 (one byte)",
            seed: "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
            publicKey: "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", message: "72",
            signature:
                "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"),
        Vector(
            name: "TEST 3 (two bytes)",
            seed: "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
            publicKey: "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", message: "af82",
            signature:
                "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"),
    ]

    @Test("the seed gives the public key and the expected signature, which verifies", arguments: vectors)
    func signAndVerify(_ v: Vector) throws {
        let key = try Ed25519.PrivateKey(rawRepresentation: bytes(hex: v.seed))
        #expect(Array(key.publicKey.rawRepresentation) == bytes(hex: v.publicKey))
        #expect(Array(key.rawRepresentation) == bytes(hex: v.seed))
        let message = Data(bytes(hex: v.message))
        let signature = key.signature(for: message)
        #expect(Array(signature) == bytes(hex: v.signature))
        let publicKey = try Ed25519.PublicKey(rawRepresentation: bytes(hex: v.publicKey))
        #expect(publicKey.isValidSignature(signature, for: message))
        #expect(publicKey.isValidSignature(signature, for: Array(message)))
    }

    @Test("a flipped bit in the signature, message or key fails verification", arguments: vectors)
    func flippedBits(_ v: Vector) throws {
        let publicKey = try Ed25519.PublicKey(rawRepresentation: bytes(hex: v.publicKey))
        let message = bytes(hex: v.message), signature = bytes(hex: v.signature)
        for bit in [0, 7, 255, 511] {
            var bad = signature
            bad[bit / 8] ^= 1 << (bit % 8)
            #expect(!publicKey.isValidSignature(bad, for: message), "signature bit \(bit)")
        }
        if !message.isEmpty {
            var bad = message
            bad[0] ^= 1
            #expect(!publicKey.isValidSignature(signature, for: bad))
        }
        #expect(!publicKey.isValidSignature(signature, for: message + [0]))
        var badKey = bytes(hex: v.publicKey)
        badKey[3] ^= 0x10
        #expect(try !Ed25519.PublicKey(rawRepresentation: badKey).isValidSignature(signature, for: message))
        #expect(!publicKey.isValidSignature(signature.dropLast(), for: message))
    }

    @Test("keys of the wrong length are refused, naming both lengths")
    func wrongLengths() {
        #expect(throws: Ed25519.KeySizeError(expected: 32, got: 31)) { try Ed25519.PrivateKey(rawRepresentation: [UInt8](repeating: 1, count: 31)) }
        #expect(throws: Ed25519.KeySizeError(expected: 32, got: 64)) { try Ed25519.PublicKey(rawRepresentation: [UInt8](repeating: 1, count: 64)) }
    }

    @Test("fresh keys differ, sign and verify, and round-trip through their seed")
    func freshKeys() throws {
        let a = Ed25519.PrivateKey(), b = Ed25519.PrivateKey()
        #expect(a.rawRepresentation != b.rawRepresentation)
        #expect(a.publicKey != b.publicKey)
        let message = Data("release".utf8)
        let signature = a.signature(for: message)
        #expect(a.publicKey.isValidSignature(signature, for: message))
        #expect(!b.publicKey.isValidSignature(signature, for: message))
        #expect(try Ed25519.PrivateKey(rawRepresentation: a.rawRepresentation).publicKey == a.publicKey)
        #expect(!"\(a)".contains(SHA256.hash(data: a.rawRepresentation).hex))
    }
}
