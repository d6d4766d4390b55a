import Foundation
import Testing

@testable import UnisonCore

@Suite(.tags(.unit)) struct StringCodableTests {
    struct Even: StringCodable, Equatable {
        var n: Int
        init?(_ text: String) {
            guard let n = Int(text), n % 2 == 0 else { return nil }
            self.n = n
        }
        var description: String { String(n) }
        static let expectedText = "an even number"
    }

    struct Holder: Codable, Equatable { var value: Even; var list: [Even] }

    @Test func roundTripsAsPlainStrings() throws {
        let holder = Holder(value: Even("4")!, list: [Even("2")!, Even("-6")!])
        let data = try JSONEncoder().encode(holder)
        #expect(String(decoding: data, as: UTF8.self).contains(#""value":"4""#))
        #expect(try JSONDecoder().decode(Holder.self, from: data) == holder)
    }

    @Test func rejectsWithTheTextAndPath() {
        let json = Data(#"{"value":"2","list":["8","3\u0000x"]}"#.utf8)
        do {
            _ = try JSONDecoder().decode(Holder.self, from: json)
            Issue.record("decoded an odd number")
        } catch let DecodingError.dataCorrupted(context) {
            #expect(context.debugDescription == "'3\u{0}x' is not an even number")
            #expect(context.codingPath.map(\.stringValue).first == "list")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func rejectsNonStrings() {
        #expect(throws: DecodingError.self) { _ = try JSONDecoder().decode(Holder.self, from: Data(#"{"value":4,"list":[]}"#.utf8)) }
    }

    @Test func coreTypesUseIt() throws {
        let v = try JSONDecoder().decode([SemVer].self, from: Data(#"["v1.2.3","1.0.0-rc.1"]"#.utf8))
        #expect(String(decoding: try JSONEncoder().encode(v), as: UTF8.self) == #"["v1.2.3","1.0.0-rc.1"]"#)
        let sizes = try JSONDecoder().decode([ByteSize].self, from: Data(#"["4GB", 512]"#.utf8))
        #expect(sizes.map(\.bytes) == [4_000_000_000, 512])
        do {
            _ = try JSONDecoder().decode([ByteSize].self, from: Data(#"["4 parsecs"]"#.utf8))
            Issue.record("decoded a bad size")
        } catch let DecodingError.dataCorrupted(context) {
            #expect(context.debugDescription == "'4 parsecs' is not a size")
        } catch { Issue.record("unexpected \(error)") }
    }
}
