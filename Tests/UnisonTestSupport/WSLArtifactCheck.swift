import Foundation
import Testing
import UnisonCore

/// Checks a built WSL artifact against every requirement of Microsoft's custom-distribution
/// guide using tools nobody here wrote: gzip, GNU tar, Python's tarfile, shellcheck, file,
/// systemctl --root and dpkg. Shared by the synthetic and the Debian-base tests.
package struct WSLArtifactCheck {
    let archive: URL
    let scratch: URL
    let epoch: Int64
    var defaultName = "UnisonOS"
    var defaultUser = "unison"

    package init(archive: URL, scratch: URL, epoch: Int64) {
        self.archive = archive
        self.scratch = scratch
        self.epoch = epoch
    }

    struct Member {
        var type: Character
        var mode: String
        var owner: String
        var link: String?
    }

    /// `tar -tvzf --numeric-owner` as ordered (name, member) pairs.
    func listing() throws -> [(String, Member)] {
        let out = try ImageTool.run(["tar", "--numeric-owner", "--quoting-style=literal", "-tvzf", archive.path]).stdoutString
        return out.split(separator: "\n").map { line in
            let f = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
            var name = String(f[5])
            var link: String?
            let type = f[0].first!
            if type == "l", let r = name.range(of: " -> ") { link = String(name[r.upperBound...]); name = String(name[..<r.lowerBound]) }
            if type == "h", let r = name.range(of: " link to ") { link = String(name[r.upperBound...]); name = String(name[..<r.lowerBound]) }
            return (name, Member(type: type, mode: String(f[0].dropFirst()), owner: String(f[1]), link: link))
        }
    }

    /// Runs every check; returns the extracted root for further checks by the caller.
    @discardableResult
    package func verify(wslCopy: URL?) throws -> URL {
        try ImageTool.run(["gzip", "-t", archive.path])
        if let wslCopy { try ImageTool.run(["cmp", archive.path, wslCopy.path]) }

        let members = try listing()
        let byName = Dictionary(members, uniquingKeysWith: { a, _ in a })
        #expect(!members.isEmpty)
        // Rooted at /: names like etc/passwd, no leading / or ./, no member for the root itself.
        for (name, _) in members {
            #expect(!name.hasPrefix("/") && !name.hasPrefix("./") && name != "." && name != "./", "member name \(name)")
        }
        for config in ["etc/wsl.conf", "etc/wsl-distribution.conf"] {
            let m = try #require(byName[config], "\(config) missing")
            #expect(m.type == "-" && m.mode == "rw-r--r--" && m.owner == "0/0", "\(config): \(m.type)\(m.mode) \(m.owner)")
        }
        #expect(byName["etc/resolv.conf"] == nil, "/etc/resolv.conf must not be shipped")
        for (name, _) in members {
            let base = name.split(separator: "/").last.map(String.init) ?? name
            let dir = name.contains("/") ? String(name[..<name.lastIndex(of: "/")!]) : ""
            if dir == "boot" || dir.isEmpty {
                #expect(!(base.hasPrefix("vmlinuz") || base.hasPrefix("initrd.img") || base.hasPrefix("initramfs")), "kernel or initramfs: \(name)")
            }
            #expect(!(name.hasPrefix("usr/lib/modules/") && name.count > "usr/lib/modules/".count), "kernel module: \(name)")
        }
        for unit in [
            "systemd-resolved.service", "systemd-networkd.service", "NetworkManager.service",
            "systemd-tmpfiles-setup.service", "systemd-tmpfiles-clean.service", "systemd-tmpfiles-clean.timer",
            "systemd-tmpfiles-setup-dev-early.service", "systemd-tmpfiles-setup-dev.service", "tmp.mount",
        ] {
            let m = byName["etc/systemd/system/" + unit]
            #expect(m?.type == "l" && m?.link == "/dev/null", "\(unit) is not masked")
        }
        // Hard links come after their targets (microsoft/WSL#4457).
        var seen: Set<String> = []
        for (name, m) in members {
            if m.type == "h", let target = m.link { #expect(seen.contains(target), "hard link \(name) before its target \(target)") }
            seen.insert(name.hasSuffix("/") ? String(name.dropLast()) : name)
        }
        // Every timestamp clamped: Python's tarfile reads the mtimes.
        let newest = try ImageTool.run([
            "python3", "-c",
            "import sys, tarfile; print(max(m.mtime for m in tarfile.open(sys.argv[1])))", archive.path,
        ]).stdoutString
        #expect(Int64(newest.trimmingCharacters(in: .whitespacesAndNewlines))! <= epoch)

        // The whole tree, extracted by GNU tar with numeric owners.
        let root = scratch.appendingPathComponent("extracted")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try ImageTool.run(["tar", "--numeric-owner", "--same-owner", "-xzpf", archive.path, "-C", root.path])
        func read(_ path: String) throws -> String { try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8) }
        func settings(_ text: String) -> [String] {
            text.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { $0.replacingOccurrences(of: " ", with: "") }
        }
        let wslConf = settings(try read("etc/wsl.conf"))
        #expect(wslConf.contains("[boot]") && wslConf.contains("systemd=true"))
        let dist = settings(try read("etc/wsl-distribution.conf"))
        #expect(dist.contains("[oobe]") && dist.contains("defaultUid=1000") && dist.contains("defaultName=\(defaultName)"))
        let command = try #require(dist.first { $0.hasPrefix("command=") }).dropFirst("command=".count)
        #expect(FileManager.default.isExecutableFile(atPath: root.path + command), "oobe command \(command) is not executable")
        try ImageTool.run(["shellcheck", root.path + command])
        #expect(try read(String(command.dropFirst())).contains("user='\(defaultUser)'"))
        let icon = try #require(dist.first { $0.hasPrefix("icon=") }).dropFirst("icon=".count)
        #expect(try ImageTool.run(["file", "-b", root.path + icon]).stdoutString.hasPrefix("MS Windows icon resource"))
        let iconSize = try FileManager.default.attributesOfItem(atPath: root.path + icon)[.size] as? Int ?? .max
        #expect(iconSize < 10 * 1024 * 1024)

        // Accounts: root with uid 0; no password hashes in shadow or gshadow.
        let rootLine = try read("etc/passwd").split(separator: "\n").first { $0.hasPrefix("root:") }
        #expect(rootLine?.split(separator: ":", omittingEmptySubsequences: false)[2] == "0")
        for file in ["etc/shadow", "etc/gshadow", "etc/shadow-"] where FileManager.default.fileExists(atPath: root.appendingPathComponent(file).path)
        {
            for line in try read(file).split(separator: "\n") {
                let password = line.split(separator: ":", omittingEmptySubsequences: false)[1]
                #expect(!password.contains("$") && password.drop { $0 == "!" }.count <= 1, "\(file): hash for \(line.prefix { $0 != ":" })")
            }
        }
        // systemd (the host's systemctl reading the image) sees every unit masked.
        for unit in [
            "systemd-resolved.service", "systemd-networkd.service", "systemd-tmpfiles-setup.service",
            "systemd-tmpfiles-clean.timer", "tmp.mount",
        ] {
            let state = try ImageTool.status(["systemctl", "--root=\(root.path)", "is-enabled", unit]).stdoutString
            #expect(state.trimmingCharacters(in: .whitespacesAndNewlines) == "masked", "\(unit): \(state)")
        }
        // dpkg's database stays consistent without the kernel packages.
        if FileManager.default.fileExists(atPath: root.appendingPathComponent("var/lib/dpkg/status").path) {
            let admin = root.appendingPathComponent("var/lib/dpkg").path
            let audit = try ImageTool.run(["dpkg", "--admindir=\(admin)", "--audit"])
            #expect(audit.stdoutString.isEmpty, "dpkg --audit: \(audit.stdoutString)")
            let kernels = try ImageTool.status(["dpkg-query", "--admindir=\(admin)", "-W", "linux-image*"])
            #expect(kernels.stdoutString.isEmpty, "kernel packages left: \(kernels.stdoutString)")
        }
        return root
    }
}
