import Foundation
import Synchronization
import UnisonCore

/// A real git repository made by the test: commits with given messages (empty commits with
/// fixed dates), lightweight or annotated tags, branches.
package struct TestRepo: Sendable {
    package let url: URL
    package let runner = SystemProcessRunner()
    private static let env = [
        "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.invalid",
        "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.invalid",
        "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null", "LC_ALL": "C",
    ]

    @discardableResult
    package func git(_ args: String...) throws -> String {
        try git(args)
    }

    @discardableResult
    package func git(_ args: [String], date: String = "2024-01-01T00:00:00Z") throws -> String {
        var env = Self.env
        env["GIT_AUTHOR_DATE"] = date
        env["GIT_COMMITTER_DATE"] = date
        return try runner.check(["git", "-C", url.path] + args, environment: env).stdoutString
    }

    package static func create(at url: URL) throws -> TestRepo {
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        let repo = TestRepo(url: url)
        try repo.git("init", "-q", "-b", "main")
        return repo
    }

    private static let counter = Mutex(0)

    /// Commits `message` (a file changes so merges have content) and returns the SHA.
    @discardableResult
    package func commit(_ message: String) throws -> String {
        let n = Self.counter.withLock { n in
            n += 1
            return n
        }
        try Data("\(n)\n".utf8).write(to: url.appendingPathComponent("file-\(n).txt"))
        try git(["add", "-A"])
        try git(["commit", "-q", "-m", message], date: "2024-01-01T00:\(String(format: "%02d", n % 60)):00Z")
        return try git("rev-parse", "HEAD").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    package func tag(_ name: String, annotated: Bool = false) throws {
        if annotated { try git("tag", "-a", name, "-m", "release \(name)") } else { try git("tag", name) }
    }
}
