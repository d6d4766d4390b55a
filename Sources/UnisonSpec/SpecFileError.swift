import FoundationEssentials
import Glibc

/// Why a spec or answers file could not be read, in words, without full Foundation's
/// `localizedDescription` (it links CoreFoundation and ICU; docs/performance.md). The lead's
/// Core `ErrorText.describe` does the same for every module; this one is UnisonSpec's own until
/// that helper is in this tree, and leaves the path out (the message names it already).
enum SpecFileError {
    static func reason(_ error: any Error) -> String {
        if let cocoa = error as? CocoaError {
            if let posix = cocoa.underlying as? POSIXError { return String(cString: strerror(posix.code.rawValue)) }
            switch cocoa.code {
            case .fileNoSuchFile, .fileReadNoSuchFile: return "no such file"
            case .fileReadNoPermission: return "permission denied"
            case .fileReadInapplicableStringEncoding: return "the text is not in the expected encoding"
            default: return "file operation failed (Cocoa error \(cocoa.code.rawValue))"
            }
        }
        if let posix = error as? POSIXError { return String(cString: strerror(posix.code.rawValue)) }
        return String(describing: error)
    }
}
