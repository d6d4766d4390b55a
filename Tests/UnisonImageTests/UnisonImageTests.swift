import Testing
@testable import UnisonImage
