import Foundation
import Testing
import UnisonTestSupport

@testable import UnisonDisk

@Suite("GUID", .tags(.unit))
struct GUIDTests {
    @Test(
        "mixed-endian disk encoding",
        arguments: [
            ("C12A7328-F81F-11D2-BA4B-00A0C93EC93B", "28732ac11ff8d211ba4b00a0c93ec93b"),
            ("4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709", "e3bc684fcde8b14d96e7fbcaf984b709"),
            ("00112233-4455-6677-8899-AABBCCDDEEFF", "33221100554477668899aabbccddeeff"),
        ])
    func diskBytes(text: String, disk: String) throws {
        let guid = try #require(GUID(text))
        #expect(guid.diskBytes.map { String(format: "%02x", $0) }.joined() == disk)
        #expect(GUID(diskBytes: guid.diskBytes) == guid)
        #expect(guid.description == text)
    }

    @Test(
        "bad text is refused",
        arguments: ["", "C12A7328F81F11D2BA4B00A0C93EC93B", "C12A7328-F81F-11D2-BA4B-00A0C93EC93", "G12A7328-F81F-11D2-BA4B-00A0C93EC93B"])
    func invalid(text: String) {
        #expect(GUID(text) == nil)
    }

    @Test("derived GUIDs are stable, distinct per label, with version 8 and RFC variant bits")
    func derived() {
        let seed = Array("content".utf8)
        let a = GUID.derived(from: seed, label: "disk")
        #expect(a == GUID.derived(from: seed, label: "disk"))
        #expect(a != GUID.derived(from: seed, label: "esp"))
        #expect(a != GUID.derived(from: Array("other".utf8), label: "disk"))
        #expect(a.bytes[6] >> 4 == 8)
        #expect(a.bytes[8] >> 6 == 0b10)
        #expect(a.description.count == 36)
    }
}
