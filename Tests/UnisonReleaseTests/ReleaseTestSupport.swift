import Foundation
import Testing
import UnisonCore
import UnisonRelease
import UnisonSpec
import UnisonTestSupport

extension TestRepo {
    var repository: GitRepository { GitRepository(directory: url) }
}

extension TestSpec {
    static func load() throws -> PlatformSpec { try SpecLoader.load(text: yaml, file: "test-unison.yaml") }
}
