import Testing
@testable import UnisonArchive
