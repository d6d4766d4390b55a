// First boot as explicit states. Each event (what the last action found) moves the machine
// and returns the next action; `FirstBoot.run()` performs the actions (the I/O) and feeds
// back what happened, so the ordering rules are tested without touching a disk or a socket.
//
//   start ─begin─► growingRoot ─grown (ok or not: never fatal)─► seeding ─seeded─► resolvingPack
//     └ already done ► done                                          └ problem ─► failed ◄ problem ┘│
//   resolvingPack ─preloads─► verifyingStore ─ok─► waitingForOllama(n) ─ok─┐  (problem, time left: n+1;
//        └─ nothing to preload ───────────────────────────────────────────┤   no time: failed)
//                                                                          ▼
//   announcingChecks ─announced─► gatingStack ─gated ok─► recording ─ok─► done
//                                      └ problem ─► failed                 └ problem ─► failed
//
// The stamp (recordState) is written last, after the stack gate: a power loss or a failure
// anywhere before it leaves no stamp, so the next boot runs first boot again.
package struct FirstBootStateMachine: Sendable, Equatable {
    package enum State: Sendable, Equatable {
        case start
        case growingRoot
        case seeding
        case resolvingPack
        case verifyingStore
        case waitingForOllama(attempt: Int)
        case announcingChecks
        case gatingStack
        case recording
        case done(alreadyDone: Bool)
        case failed(step: String, reason: String)
    }

    package enum Event: Sendable, Equatable {
        case begin(stateExists: Bool, force: Bool)
        /// The root partition and filesystem grown to the disk, or why not (reported, never fatal).
        case rootGrown(problem: String?)
        /// Secrets seeded and checked; `problem` when that failed.
        case seeded(problem: String?)
        case packResolved(problem: String?, preloads: Bool)
        case storeVerified(problem: String?)
        case ollamaChecked(problem: String?, timeLeft: Bool)
        /// The boot marker for the checks was printed.
        case checksAnnounced
        /// The stack gate ran (or does not apply here); `problem` names the failed service.
        case stackGated(problem: String?)
        case recorded(problem: String?)
    }

    package enum Action: Sendable, Equatable {
        case reportAlreadyDone
        case growRoot
        case seedSecrets
        case resolvePack
        case verifyStore
        case probeOllama
        case waitThenProbeOllama
        case announceChecks
        case gateStack
        case recordState
        case announceSuccess
        case announceFailure(step: String, reason: String)
    }

    package private(set) var state: State = .start

    package init() {}

    package mutating func handle(_ event: Event) -> Action {
        switch (state, event) {
        case let (.start, .begin(stateExists, force)):
            if stateExists && !force {
                state = .done(alreadyDone: true)
                return .reportAlreadyDone
            }
            state = .growingRoot
            return .growRoot
        case (.growingRoot, .rootGrown):
            state = .seeding
            return .seedSecrets
        case let (.seeding, .seeded(problem)):
            if let problem { return fail("secrets", problem) }
            state = .resolvingPack
            return .resolvePack
        case let (.resolvingPack, .packResolved(problem, preloads)):
            if let problem { return fail("model-pack", problem) }
            state = preloads ? .verifyingStore : .announcingChecks
            return preloads ? .verifyStore : .announceChecks
        case let (.verifyingStore, .storeVerified(problem)):
            if let problem { return fail("model-store", problem) }
            state = .waitingForOllama(attempt: 1)
            return .probeOllama
        case let (.waitingForOllama(attempt), .ollamaChecked(problem, timeLeft)):
            guard let problem else {
                state = .announcingChecks
                return .announceChecks
            }
            guard timeLeft else { return fail("ollama", problem) }
            state = .waitingForOllama(attempt: attempt + 1)
            return .waitThenProbeOllama
        case (.announcingChecks, .checksAnnounced):
            state = .gatingStack
            return .gateStack
        case let (.gatingStack, .stackGated(problem)):
            if let problem { return fail("stack", problem) }
            state = .recording
            return .recordState
        case let (.recording, .recorded(problem)):
            if let problem { return fail("state", problem) }
            state = .done(alreadyDone: false)
            return .announceSuccess
        default:
            return fail("internal", "event \(event) is not expected in state \(state)")
        }
    }

    private mutating func fail(_ step: String, _ reason: String) -> Action {
        state = .failed(step: step, reason: reason)
        return .announceFailure(step: step, reason: reason)
    }
}
