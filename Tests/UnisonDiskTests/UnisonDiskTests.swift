import Testing
@testable import UnisonDisk
