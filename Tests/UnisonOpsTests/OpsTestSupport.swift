import Foundation
import Testing
import UnisonCore
import UnisonSpec
import UnisonTestSupport

@testable import UnisonOps

/// A ProcessRunner that records every command and answers from a script of prefixes.
final class FakeRunner: ProcessRunner, @unchecked Sendable {
    private let lock = NSLock()
    private var calls: [[String]] = []
    /// First matching prefix wins; nil result means "tool not found".
    let answers: [([String], ProcessResult?)]

    init(_ answers: [([String], ProcessResult?)]) { self.answers = answers }

    var commands: [[String]] { lock.lock(); defer { lock.unlock() }; return calls }

    func run(_ arguments: [String], environment: [String: String]?, input: Data?, workingDirectory: URL?) throws -> ProcessResult {
        lock.lock(); calls.append(arguments); lock.unlock()
        for (prefix, result) in answers where arguments.starts(with: prefix) {
            guard let result else { throw ProcessError.notFound(tool: arguments[0], hint: nil) }
            return result
        }
        return ProcessResult(status: 0, stdout: Data(), stderr: Data())
    }

    static func ok(_ out: String = "") -> ProcessResult { ProcessResult(status: 0, stdout: Data(out.utf8), stderr: Data()) }
    static func fail(_ status: Int32, _ err: String = "") -> ProcessResult { ProcessResult(status: status, stdout: Data(), stderr: Data(err.utf8)) }

    /// Docker with the compose plugin.
    static var withDocker: FakeRunner {
        FakeRunner([
            (["docker", "--version"], ok("Docker version 27.0.0")), (["docker", "compose", "version"], ok("Docker Compose version v2.29.0")),
        ])
    }
    /// No docker binary at all.
    static var noDocker: FakeRunner { FakeRunner([(["docker"], nil)]) }
}
