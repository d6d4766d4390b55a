import UnisonTestSupport

/// The checkout and its unisonctl (UnisonTestSupport's `ImageRepo`; this module's name wins over
/// UnisonSpec's `Repo`).
typealias Repo = ImageRepo
