/// What the build knows about itself. `stampedVersion` comes from BuildVersion.swift, which the
/// VersionStamp plugin generates from scripts/version.sh before every build.
package enum BuildInfo {
    /// unisonctl's version: X.Y.Z on a vX.Y.Z tag, X.Y.Z+N.g<sha> after it, 0.0.0-dev+g<sha>
    /// without a tag, or $UNISONCTL_VERSION as set when building.
    package static let version = stampedVersion
}
