import Foundation
import UnisonCore
import UnisonSpec
import UnisonTestSupport

@testable import UnisonQA

/// A spec `HTTPCheck` (it has no public memberwise initializer: decoded like the loader's output).
func specCheck(name: String, service: String, method: String, path: String, body: String?, expect: Int) -> HTTPCheck {
    var object: [String: Any] = ["name": name, "service": service, "method": method, "path": path, "expect": expect]
    if let body { object["body"] = body }
    let data = try! JSONSerialization.data(withJSONObject: object)
    return try! JSONDecoder().decode(HTTPCheck.self, from: data)
}

extension QAFixtures {
    /// The shipped spec: its services and ports are what the checks resolve against.
    static func shippedSpec() throws -> PlatformSpec {
        try SpecLoader.load(file: repoRoot.appendingPathComponent("unison.yaml"))
    }
}
