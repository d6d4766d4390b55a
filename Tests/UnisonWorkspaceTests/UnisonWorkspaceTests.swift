import Testing
@testable import UnisonWorkspace
