import Testing
@testable import UnisonOCI
