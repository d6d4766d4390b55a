// The planted machine of the `pilot report` tests (UnisonOpsTests and the CLI test in
// UnisonCLITests): an image install with answers applied, a first boot that verified its model,
// planted /proc and /sys for the hardware.
import Foundation
import Testing
import UnisonCore
import UnisonInstall
import UnisonOps
import UnisonSpec

package enum PilotFixture {
    package static let cpuinfo = (0..<4).map { "processor\t: \($0)\nmodel name\t: Test CPU\nflags\t\t: fpu sse2 avx avx2 f16c\n\n" }.joined()

    /// A staged image with the identifying things a report must leave out planted around it.
    package static func plant(_ label: String, firstBootOK: Bool = true) throws -> (URL, PlatformSpec) {
        let root = try FieldFixture.stageImage("pilot-\(label)", pack: "default")
        let spec = try FieldFixture.spec()
        func put(_ path: String, _ text: String) throws {
            let url = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
        }
        try put("proc/cpuinfo", cpuinfo)
        try put("proc/meminfo", "MemTotal:        8039800 kB\nMemFree:         1000000 kB\n")
        try put("sys/bus/pci/devices/0000:00:02.0/class", "0x030000\n")
        try put("sys/bus/pci/devices/0000:00:02.0/vendor", "0x10de\n")
        try put("sys/bus/pci/devices/0000:00:03.0/class", "0x020000\n")
        try put("sys/bus/pci/devices/0000:00:03.0/vendor", "0x8086\n")
        try put("etc/passwd", "root:x:0:0:root:/root:/bin/bash\n")
        try put("etc/group", "root:x:0:\nsudo:x:27:\n")
        try put("etc/shadow", "root:*:1:0:99999:7:::\n")
        // Answers with a host name, user and address that must not reach the report.
        let found = AnswersLocator.Found(
            source: AnswersSource(kind: .cidata, path: "LABEL=CIDATA:/user-data"),
            text: """
                hostname: secret-host-42
                users: [{name: alice-pilot, ssh_authorized_keys: ["\(provisionKey)"]}]
                unison: {network: {mode: static, address: 203.0.113.77/24}}
                """)
        #expect(Provisioner(root: root, spec: spec, live: false).run(found: found).applied)
        let layout = InstallLayout(spec: spec)
        let fb = FirstBootReport(
            ok: firstBootOK, alreadyDone: false, modelPack: "default", ollama: "http://203.0.113.77:11434",
            ollamaVersion: "0.5.7",
            steps: [
                FirstBootStep(name: "secrets", status: .ok, detail: "generated"),
                FirstBootStep(name: "ollama", status: firstBootOK ? .ok : .failed, detail: "secret-host-42 did not answer"),
            ],
            models: [FirstBootModel(name: "qwen2.5:1.5b", storeDigest: "sha256:ab", serverDigest: "sha256:ab", ok: firstBootOK)],
            marker: nil, failure: firstBootOK ? nil : "ollama: secret-host-42 did not answer", stateFile: layout.firstBootStamp)
        let stamp = root.appendingPathComponent(String(layout.firstBootStamp.dropFirst()))
        try FileManager.default.createDirectory(at: stamp.deletingLastPathComponent(), withIntermediateDirectories: true)
        try JSONOutput.encoder().encode(fb).write(to: stamp)
        // First boot finished 90 minutes after the install.
        let manifest = root.appendingPathComponent(String(layout.manifest.dropFirst())).path
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: 1_800_000_000)], ofItemAtPath: manifest)
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: 1_800_005_400)], ofItemAtPath: stamp.path)
        return (root, spec)
    }
}
