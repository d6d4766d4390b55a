import Testing
@testable import UnisonRelease
