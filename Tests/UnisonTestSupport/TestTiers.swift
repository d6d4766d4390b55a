import Testing

// The test tiers: every suite names exactly one with a tag on its @Suite line, and
// `scripts/test.sh --tier NAME` runs one tier (no argument: all of them, as CI does).
// scripts/test.sh reads the tier from the `.tags(...)` text of each @Suite line, so a tier is
// spelled `.unit`, `.interop` or `.boot` there, never through an alias.
extension Tag {
    /// In memory, temp files, fakes and `unisonctl` itself: the whole tier runs in seconds.
    @Tag package static var unit: Self
    /// Output read back by a tool nobody here wrote, or a real server on 127.0.0.1.
    @Tag package static var interop: Self
    /// Boots something in QEMU (TCG): minutes.
    @Tag package static var boot: Self
}
