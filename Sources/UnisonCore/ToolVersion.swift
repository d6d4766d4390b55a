import FoundationEssentials
import Synchronization

/// The version of unisonctl itself, printed by `unisonctl --version` and recorded in every
/// manifest and diagnostic bundle it writes. The executable sets it at start from the version
/// its build was stamped with (scripts/version.sh: git describe, or $UNISONCTL_VERSION), so that
/// a new commit rebuilds only the executable; code run outside it (tests) sees `unstamped`.
package enum ToolVersion {
    package static let unstamped = "0.0.0-dev"
    private static let value = Mutex(unstamped)

    package static var current: String { value.withLock { $0 } }

    /// Called once by the executable before any command runs.
    package static func stamp(_ version: String) { value.withLock { $0 = version } }
}
