// Sizes read from manifests are checked where they are decoded (0...2^50) and summed with
// overflow checks: a hostile manifest gives a clear error, never a trap.
import Foundation
import Testing
import UnisonTestSupport

@testable import UnisonOCI

@Suite("descriptor sizes from hostile manifests", .tags(.unit))
struct SizeCheckTests {
    @Test(
        "a descriptor size outside 0...2^50 is a malformed manifest naming the field",
        arguments: [
            "-1", "-9223372036854775808", "9223372036854775807", "9223372036854775808", "1125899906842625", "1e30", "18446744073709551616",
        ])
    func refused(_ size: String) throws {
        do {
            _ = try ManifestDocument(bytes: HostileManifest.manifest(layerSizes: [size]), contentType: nil, reference: "hostile:v1")
            Issue.record("size \(size) accepted")
        } catch let error as OCIError {
            guard case let .malformedManifest(reference, reason) = error else { Issue.record("wrong error \(error)"); return }
            #expect(reference == "hostile:v1")
            // Sizes that fit Int64 are named with their field; others do not even parse as JSON numbers.
            if Int64(size) != nil {
                #expect(reason.contains("size \(size)") && reason.contains(".layers[0].size"), "\(reason)")
            } else {
                #expect(reason.contains("JSON"), "\(reason)")
            }
        }
    }

    @Test("sums of sizes are checked: 8193 descriptors of 2^50 bytes overflow Int64 and say so")
    func sums() throws {
        let big = Descriptor(mediaType: MediaType.octetStream, digest: Digest(HostileManifest.digest)!, size: Descriptor.maxSize)
        #expect(try Descriptor.totalSize(Array(repeating: big, count: 8191), what: "x") == 8191 << 50)
        #expect(throws: OCIError.self) { try Descriptor.totalSize(Array(repeating: big, count: 8193), what: "x") }
        let negative = Descriptor(mediaType: MediaType.octetStream, digest: Digest(HostileManifest.digest)!, size: -5)
        #expect(throws: OCIError.self) { try Descriptor.totalSize([negative], what: "x") }
    }

    @Test("randomly mutated manifests decode or give OCIError, never a crash (bounded: 800 mutants)")
    func fuzz() {
        let base = [UInt8](HostileManifest.manifest(layerSizes: ["12", "4096"]))
        var state: UInt64 = 0x5eed
        func next() -> UInt64 {
            state &+= 0x9e37_79b9_7f4a_7c15
            var z = state
            z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
            z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
            return z ^ (z >> 31)
        }
        let tokens: [String] = ["-1", "9223372036854775807", "1e400", "null", "[]", "{}", "\"", "\u{0}", "99999999999999999999", ","]
        for _ in 0..<800 {
            var bytes = base
            for _ in 0..<(1 + Int(next() % 4)) {
                let at = Int(next() % UInt64(bytes.count))
                if next() % 2 == 0 {
                    bytes[at] = UInt8(truncatingIfNeeded: next())
                } else {
                    bytes.insert(contentsOf: Array(tokens[Int(next() % UInt64(tokens.count))].utf8), at: at)
                }
            }
            do {
                let doc = try ManifestDocument(bytes: Data(bytes), contentType: nil, reference: "fuzz")
                if case let .image(m) = doc.content {
                    #expect(([m.config] + m.layers).allSatisfy { (0...Descriptor.maxSize).contains($0.size) })
                }
            } catch is OCIError {} catch {
                Issue.record("not an OCIError: \(error)")
            }
        }
    }
}
