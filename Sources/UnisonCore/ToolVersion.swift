/// The version of unisonctl itself, printed by `unisonctl --version` and recorded in every
/// manifest and diagnostic bundle it writes.
public enum ToolVersion {
    public static let current = "0.1.0"
}
