// The image pipelines' public API speaks in FileTree, ByteSink and friends (BaseSource.load
// returns a FileTree; overlays edit one), so clients of UnisonImage get UnisonArchive with it.
@_exported import UnisonArchive
