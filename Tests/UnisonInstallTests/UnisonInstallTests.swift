import Testing
@testable import UnisonInstall
