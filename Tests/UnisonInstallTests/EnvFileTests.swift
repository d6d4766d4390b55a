import Foundation
import Testing
import UnisonSpec
import UnisonTestSupport

@testable import UnisonInstall

@Suite("EnvFile", .tags(.unit))
struct EnvFileTests {
    let secrets = [makeSecret("A_SECRET", 16), makeSecret("B_SECRET", 8)]

    @Test(
        "problems",
        arguments: [
            ("A_SECRET=0123456789abcdef0123\nB_SECRET=fedcba9876543210\n", [String]()),
            ("A_SECRET=CHANGE_ME\nB_SECRET=fedcba9876543210\n", ["line 1: A_SECRET still holds the template placeholder CHANGE_ME"]),
            ("B_SECRET=fedcba9876543210\n", ["A_SECRET is not set"]),
            ("A_SECRET=\"Password\"\nB_SECRET=fedcba9876543210\n", ["A_SECRET is a known development value"]),
            ("A_SECRET=0123456789abcdef0123\nB_SECRET=abc\n", ["B_SECRET is shorter than 16 characters"]),
            (
                "A_SECRET=0123456789abcdef0123\nB_SECRET=\nOTHER=CHANGE_ME_TOO\n",
                ["line 3: OTHER still holds the template placeholder CHANGE_ME", "B_SECRET is empty"]
            ),
            ("# A_SECRET=CHANGE_ME\nexport A_SECRET=0123456789abcdef0123\nB_SECRET='fedcba9876543210'\n", [String]()),
        ])
    func problems(text: String, expected: [String]) {
        #expect(EnvFile.problems(in: text, secrets: secrets) == expected)
    }

    @Test("seeding a template generates each secret with the system generator, distinct and of the asked size")
    func seedTemplate() {
        let template = "X=1\nA_SECRET=CHANGE_ME\nB_SECRET=CHANGE_ME\n"
        var rng = SystemRandomNumberGenerator()
        let a = EnvFile.seed(existing: nil, template: template, secrets: secrets, generate: true, using: &rng)
        let b = EnvFile.seed(existing: nil, template: template, secrets: secrets, generate: true, using: &rng)
        #expect(a.generatedSecrets == ["A_SECRET", "B_SECRET"])
        #expect(EnvFile.value(of: "A_SECRET", in: a.text)?.count == 32)
        #expect(EnvFile.value(of: "B_SECRET", in: a.text)?.count == 16)
        #expect(EnvFile.value(of: "A_SECRET", in: a.text) != EnvFile.value(of: "A_SECRET", in: b.text))
        #expect(a.text.hasPrefix("X=1\n") && a.text.hasSuffix("\n"))
        // Without generation (images) the template is copied as it is.
        let deferred = EnvFile.seed(existing: nil, template: template, secrets: secrets, generate: false, using: &rng)
        #expect(deferred.text == template && deferred.generatedSecrets.isEmpty)
    }

    @Test("a fixed generator gives the expected hex, byte by byte")
    func hexEncoding() {
        struct Counter: RandomNumberGenerator {
            var n: UInt64 = 0x0807_0605_0403_0201
            mutating func next() -> UInt64 { defer { n = n &+ 0x0808_0808_0808_0808 }; return n }
        }
        var rng = Counter()
        #expect(EnvFile.generateSecret(bytes: 10, using: &rng) == "0102030405060708090a")
    }

    @Test("INI edits touch one line")
    func ini() {
        #expect(INIFile.set("", section: "boot", key: "systemd", value: "true") == "[boot]\nsystemd = true\n")
        #expect(
            INIFile.set("[network]\nhostname = x\n", section: "boot", key: "systemd", value: "true")
                == "[network]\nhostname = x\n\n[boot]\nsystemd = true\n")
        #expect(
            INIFile.set("[boot]\nsystemd=false\n# c\n[user]\ndefault=u\n", section: "boot", key: "systemd", value: "true")
                == "[boot]\nsystemd = true\n# c\n[user]\ndefault=u\n")
        #expect(INIFile.set("[boot]\nsystemd = true\n", section: "boot", key: "systemd", value: "true") == "[boot]\nsystemd = true\n")
        #expect(
            INIFile.set("[boot]\ncommand = a\n\n[user]\n", section: "boot", key: "systemd", value: "true")
                == "[boot]\ncommand = a\nsystemd = true\n\n[user]\n")
    }
}
