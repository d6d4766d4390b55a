import Foundation
import Testing
import UnisonTestSupport

@testable import UnisonSpec

/// A valid hash (openssl passwd -6) and key (ssh-keygen -t ed25519), public test values.
let testHash = "$6$pilotsalt$6Dy7TUUid8IfpITE71mK/iFHTlSen/eNgvkFOhovebsM5oY6k2RUHps6BJvzdp17Wpf7trXX.l/WBCzSv5KmW."
let testKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMnX+DnA9wYhNsQ9Jq1B9Qk9lgnOrcgrSivFVnb18He0 pilot@laptop"

@Suite(.tags(.unit)) struct AnswersLoaderTests {
    func problems(_ text: String, _ context: AnswersLoader.Context = .init()) -> [SpecDiagnostic] {
        do {
            _ = try AnswersLoader.load(text: text, file: "a.yaml", context: context)
            return []
        } catch let error as SpecError {
            return error.diagnostics
        } catch {
            Issue.record("unexpected \(error)")
            return []
        }
    }

    @Test func shippedExampleIsValidForEveryTarget() throws {
        let url = repoRoot.appendingPathComponent("docs/examples/answers.yaml")
        for target in Answers.Target.allCases {
            let a = try AnswersLoader.load(file: url, context: .init(target: target, packs: ["light", "default", "full"]))
            #expect(a.hostname == "unison-lab-01")
            #expect(a.users == [Answers.User(name: "pilot", passwordHash: testHash, sshKeys: [testKey], sudo: true)])
            #expect(a.sshServer && !a.sshPasswordLogin)
            #expect(a.locale == "en_US.UTF-8" && a.keyboard == Answers.Keyboard(layout: "us", variant: nil) && a.timezone == "Europe/Berlin")
            #expect(a.disk == "/dev/vda" && a.modelPack == "light" && a.network == .dhcp && !a.telemetry)
        }
    }

    @Test func keysOnlyUserTurnsTheSSHServerOnByDefaultAndStaticNetworkIsRead() throws {
        let a = try AnswersLoader.load(
            text: """
                users:
                  - name: ops
                    ssh_authorized_keys: [\(testKey)]
                  - name: second
                    hashed_passwd: "\(testHash)"
                unison:
                  network: {mode: static, interface: enp1s0, address: 192.168.1.20/24, gateway: 192.168.1.1, dns: [1.1.1.1, "2606:4700::1111"]}
                """)
        #expect(a.sshServer)
        #expect(a.users.map(\.sudo) == [true, false])
        #expect(
            a.network == .static(.init(interface: "enp1s0", address: "192.168.1.20/24", gateway: "192.168.1.1", dns: ["1.1.1.1", "2606:4700::1111"])))
    }

    /// Hostile values: each refused at the line and column of the offending node.
    @Test(arguments: [
        ("hostname: \"lab;rm -rf /\"\n", 1, 11, "is not a host name"),
        ("hostname: $(reboot)\n", 1, 11, "is not a host name"),
        ("hostname: ok\nhostnmae: x\n", 2, 1, "unknown key 'hostnmae'"),
        ("users:\n  - name: pilot\n    plain_text_passwd: hunter2\n", 3, 5, "plain passwords are refused"),
        ("users:\n  - name: pilot\n    hashed_passwd: hunter2\n", 3, 20, "plain passwords are refused"),
        ("users:\n  - name: pilot\n    passwd: \"$1$abc$0123456789abcdef\"\n", 3, 13, "too weak"),
        ("users:\n  - name: root\n    ssh_authorized_keys: [\"\(testKey)\"]\n", 2, 11, "system account"),
        ("users:\n  - name: \"a b\"\n    ssh_authorized_keys: [\"\(testKey)\"]\n", 2, 11, "not a login name"),
        ("users:\n  - name: pilot\n", 2, 5, "no way to log in"),
        ("users:\n  - name: pilot\n    ssh_authorized_keys:\n      - \"command=\\\"sh\\\" \(testKey)\"\n", 4, 9, "options before the key"),
        ("users:\n  - name: pilot\n    ssh_authorized_keys:\n      - \"\(testKey)\\nssh-rsa AAAA\"\n", 4, 9, "control"),
        ("users:\n  - name: pilot\n    ssh_authorized_keys: [\"\(testKey)\"]\n    shell: /bin/zsh\n", 4, 5, "unknown key 'shell'"),
        ("unison:\n  disk: \"/dev/sda; reboot\"\n", 2, 9, "not a disk device path"),
        ("unison:\n  disk: /dev/../etc/passwd\n", 2, 9, "not a disk device path"),
        ("unison:\n  network: {mode: static, address: 10.0.0.300/24}\n", 2, 36, "not an address"),
        ("unison:\n  network: wifi\n", 2, 12, "must be 'dhcp'"),
        ("timezone: ../../etc/shadow\n", 1, 11, "not a tz database name"),
        ("locale: \"en_US; id\"\n", 1, 9, "not a locale name"),
        ("unison:\n  telemetry: yes please\n", 2, 14, "must be true or false"),
        ("ssh_pwauth: true\nusers:\n  - name: pilot\n    ssh_authorized_keys: [\"\(testKey)\"]\n", 1, 13, "no user has a password hash"),
    ])
    func hostileValuesAreRefusedWithLineAndColumn(text: String, line: Int, column: Int, message: String) {
        let found = problems(text)
        #expect(
            found.contains { $0.line == line && $0.column == column && $0.message.contains(message) },
            "expected \(line):\(column) '\(message)', got \(found.map(\.description))")
        #expect(found.allSatisfy { $0.file == "a.yaml" })
    }

    @Test func theISONeedsADiskAndTheDiskMustBePresent() {
        let base = "users:\n  - name: pilot\n    ssh_authorized_keys: [\"\(testKey)\"]\n"
        let missing = problems(base + "unison:\n  telemetry: false\n", .init(target: .iso))
        #expect(missing.count == 1 && missing[0].line == 5 && missing[0].message.contains("needs unison.disk"))
        // Not required for a VM.
        #expect(problems(base, .init(target: .vm)).isEmpty)
        let absent = problems(base + "unison:\n  disk: /dev/nvme0n1\n", .init(target: .iso, presentDisks: ["/dev/vda", "/dev/sda"]))
        #expect(absent.count == 1 && absent[0].line == 5 && absent[0].column == 9 && absent[0].message.contains("not present"))
        #expect(absent.first?.hint?.contains("/dev/vda") == true)
        #expect(problems(base + "unison:\n  disk: /dev/vda\n", .init(target: .iso, presentDisks: ["/dev/vda"])).isEmpty)
    }

    @Test func unknownPackSuggestsTheClosest() {
        let found = problems("unison:\n  model-pack: ligth\n", .init(packs: ["light", "default"]))
        #expect(found.count == 1 && found[0].line == 2 && found[0].hint == "did you mean 'light'?")
    }

    @Test func syntaxErrorsAndDuplicatesAreLocatedLikeSpecErrors() {
        let syntax = problems("hostname: [a\n")
        #expect(syntax.first?.message.contains("YAML syntax error") == true)
        let dup = problems("hostname: a\nhostname: b\n")
        #expect(dup.contains { $0.line == 2 && $0.message.contains("duplicate key 'hostname'") })
    }

    @Test func everyProblemIsReportedAtOnceInFileOrder() {
        let found = problems("hostname: \"bad host\"\nusers:\n  - name: pilot\n    password: hunter2\nbogus: 1\n")
        #expect(found.map(\.line) == [1, 4, 5])
    }

    @Test(arguments: ["192.168.1.1", "::1", "fe80::1", "2001:db8:0:0:0:0:0:1"]) func addresses(ip: String) {
        #expect(AnswerRules.isIPAddress(ip))
    }

    @Test(arguments: ["256.1.1.1", "1.2.3", "01.2.3.4", "1::2::3", "a.b.c.d", "1.2.3.4; id"]) func notAddresses(ip: String) {
        #expect(!AnswerRules.isIPAddress(ip))
    }
}
