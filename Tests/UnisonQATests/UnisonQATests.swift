import Testing
@testable import UnisonQA
