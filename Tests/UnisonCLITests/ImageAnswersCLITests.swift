import Foundation
import Testing
import UnisonCore
import UnisonTestSupport

@testable import UnisonImage

/// `image build … --answers FILE`: the file is checked like `answers check` and carried in the
/// image as /etc/unison/answers.yaml, root-only, for first boot to apply.
@Suite("image build --answers", .tags(.interop))
struct ImageAnswersCLITests {
    static let key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMnX+DnA9wYhNsQ9Jq1B9Qk9lgnOrcgrSivFVnb18He0 pilot@laptop"

    @Test func answersAreCarriedRootOnlyAndBadOnesStopTheBuild() throws {
        let scratch = try ImageScratch("wsl-answers")
        defer { scratch.cleanup() }
        let base = try SyntheticBase.directory(in: scratch)
        let answers = scratch.path("answers.yaml")
        try Data("#cloud-config\nhostname: lab-7\nusers: [{name: pilot, ssh_authorized_keys: [\"\(Self.key)\"]}]\n".utf8).write(to: answers)
        let out = scratch.path("dist")
        let r = try Repo.cli([
            "image", "build", "wsl", "--spec", Repo.spec.path, "--base", base.path, "--out", out.path,
            "--unisonctl-binary", "/bin/true", "--version", "9.9.9", "--answers", answers.path,
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let tgz = out.appendingPathComponent("unisonos-wsl2-9.9.9.tar.gz")
        // GNU tar reads the entry back: mode 0600, root:root, the file's bytes.
        let listing = try ImageTool.run(["tar", "-tvzf", tgz.path, "--numeric-owner"]).stdoutString
        let line = try #require(listing.split(separator: "\n").first { $0.hasSuffix("etc/unison/answers.yaml") })
        #expect(line.hasPrefix("-rw------- 0/0 "), "\(line)")
        let content = try ImageTool.run(["tar", "-xzOf", tgz.path, "--wildcards", "*etc/unison/answers.yaml"]).stdout
        #expect(content == (try Data(contentsOf: answers)))

        let bad = scratch.path("bad.yaml")
        try Data("hostname: \"lab;reboot\"\nusers: [{name: pilot, plain_text_passwd: x}]\n".utf8).write(to: bad)
        let out2 = scratch.path("dist2")
        let refused = try Repo.cli([
            "image", "build", "wsl", "--spec", Repo.spec.path, "--base", base.path, "--out", out2.path,
            "--unisonctl-binary", "/bin/true", "--answers", bad.path,
        ])
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("bad.yaml:1:11:") && refused.stderr.contains("bad.yaml:2:23:"), "\(refused.stderr)")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: out2.path)) ?? []).isEmpty)
    }
}
