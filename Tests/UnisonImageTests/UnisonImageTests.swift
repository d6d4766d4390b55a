import Testing
import UnisonTestSupport

@testable import UnisonImage
