// The lifecycle of one blob upload session (distribution-spec "Pushing blobs"), as a pure
// state machine: events in, the next action out, no I/O. The driver in
// `RegistryClient+Upload.swift` performs the actions.
//
//   idle ──start──► open(offset) ──PATCH ok──► open(offset') ──offset == size──► commit ──► done
//                      │  ▲                                                        │
//        PATCH failed  ▼  │ status (GET upload URL → Range: 0-<last>)              │ commit failed
//                    lost ┘                                                        ▼
//                      │ upload unknown (404)                                 verifying (HEAD)
//                      ▼                                                 exists ─► done, else ─► lost
//                    idle (restart, bounded)
//
// Offsets are what the registry reports, never what the client assumes it sent: after a dropped
// connection the registry may hold more (or less) of the chunk than the client knows.
import FoundationEssentials

struct BlobUploadStateMachine: Sendable, Equatable {
    enum State: Sendable, Equatable {
        case idle
        case open(location: URL, offset: Int64)
        case lost(location: URL)
        case verifying(location: URL)
        case done
        case failed(String)
    }

    enum Action: Sendable, Equatable {
        /// POST a new upload session.
        case start
        /// PATCH bytes `range` (Content-Range is inclusive: lower…upper-1).
        case sendChunk(location: URL, range: Range<Int64>)
        /// PUT ?digest= carrying the whole blob.
        case putWhole(location: URL)
        /// PUT ?digest= with no body: every byte is in.
        case commit(location: URL)
        /// GET the upload URL to learn the registry's offset.
        case queryStatus(location: URL)
        /// HEAD the blob: did a commit whose answer was lost succeed?
        case checkExists(location: URL)
        case finished
        case fail(String)
    }

    let size: Int64
    let chunkSize: Int64
    let monolithic: Bool
    /// Consecutive failures without progress before giving up.
    let maxFailures: Int
    let maxRestarts: Int

    private(set) var state: State = .idle
    private(set) var failures = 0
    private(set) var restarts = 0

    init(size: Int64, chunkSize: Int64, monolithic: Bool, maxFailures: Int, maxRestarts: Int = 2) {
        self.size = size
        self.chunkSize = max(1, chunkSize)
        self.monolithic = monolithic
        self.maxFailures = max(1, maxFailures)
        self.maxRestarts = maxRestarts
    }

    var nextAction: Action {
        switch state {
        case .idle:
            return .start
        case let .open(location, offset):
            if offset > size { return .fail("the registry reports \(offset) bytes received, more than the blob's \(size)") }
            if offset == size { return .commit(location: location) }
            if offset == 0, monolithic || size <= chunkSize { return .putWhole(location: location) }
            return .sendChunk(location: location, range: offset..<min(size, offset + chunkSize))
        case let .lost(location):
            return .queryStatus(location: location)
        case let .verifying(location):
            return .checkExists(location: location)
        case .done:
            return .finished
        case let .failed(reason):
            return .fail(reason)
        }
    }

    /// A session was opened (POST answered 202, or a mount fell back to an upload).
    mutating func sessionOpened(location: URL) {
        state = .open(location: location, offset: 0)
    }

    /// A PATCH was accepted; `rangeEnd` is the inclusive end the registry reported, if any.
    mutating func chunkAccepted(location: URL, sent: Range<Int64>, rangeEnd: Int64?) {
        let offset = rangeEnd.map { $0 + 1 } ?? sent.upperBound
        guard case let .open(_, previous) = state else { return }
        if offset > previous { failures = 0 } else { failures += 1 }
        state = failures >= maxFailures ? .failed("no progress after \(failures) attempts") : .open(location: location, offset: offset)
    }

    /// A PATCH or whole PUT failed in a way worth retrying (dropped connection, 5xx, 416).
    mutating func transferFailed(_ reason: String) {
        failures += 1
        let location: URL
        switch state {
        case let .open(l, _), let .lost(l), let .verifying(l): location = l
        default: return
        }
        state = failures >= maxFailures ? .failed(reason) : .lost(location: location)
    }

    /// The registry said how much it holds: `rangeEnd` inclusive, nil for nothing.
    mutating func statusReported(location: URL, rangeEnd: Int64?) {
        state = .open(location: location, offset: rangeEnd.map { $0 + 1 } ?? 0)
    }

    /// The registry no longer knows the session (404): start a new one, a bounded number of times.
    mutating func sessionLost() {
        restarts += 1
        state = restarts > maxRestarts ? .failed("the upload session was lost \(restarts) times") : .idle
    }

    mutating func committed() { state = .done }

    /// The commit's answer was lost: find out whether the blob exists before anything else.
    mutating func commitFailed(_ reason: String) {
        failures += 1
        guard case let .open(location, _) = state else { return }
        state = failures >= maxFailures ? .failed(reason) : .verifying(location: location)
    }

    mutating func existenceChecked(_ exists: Bool) {
        guard case let .verifying(location) = state else { return }
        state = exists ? .done : .lost(location: location)
    }
}
