import Testing
@testable import UnisonOps
