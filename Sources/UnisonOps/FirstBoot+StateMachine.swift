// First boot as explicit states. Each event (what the last action found) moves the machine
// and returns the next action; `FirstBoot.run()` performs the actions (the I/O) and feeds
// back what happened, so the ordering rules are tested without touching a disk or a socket.
//
//   start ─begin─► seeding ─seeded─► resolvingPack ─preloads─► verifyingStore ─ok─► waitingForOllama(n)
//     │               │                  │    └─ nothing to preload ─┐    │            │ problem, time left: n+1
//     └ already done ► done              │                           ▼    │            │ problem, no time: failed
//                     └ problem ─► failed ◄ problem             recording ◄───── ok ───┘
//                                                                  └ ok ─► done;  problem ─► failed
package struct FirstBootStateMachine: Sendable, Equatable {
    package enum State: Sendable, Equatable {
        case start
        case seeding
        case resolvingPack
        case verifyingStore
        case waitingForOllama(attempt: Int)
        case recording
        case done(alreadyDone: Bool)
        case failed(step: String, reason: String)
    }

    package enum Event: Sendable, Equatable {
        case begin(stateExists: Bool, force: Bool)
        /// Secrets seeded and checked; `problem` when that failed.
        case seeded(problem: String?)
        case packResolved(problem: String?, preloads: Bool)
        case storeVerified(problem: String?)
        case ollamaChecked(problem: String?, timeLeft: Bool)
        case recorded(problem: String?)
    }

    package enum Action: Sendable, Equatable {
        case reportAlreadyDone
        case seedSecrets
        case resolvePack
        case verifyStore
        case probeOllama
        case waitThenProbeOllama
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
            state = .seeding
            return .seedSecrets
        case let (.seeding, .seeded(problem)):
            if let problem { return fail("secrets", problem) }
            state = .resolvingPack
            return .resolvePack
        case let (.resolvingPack, .packResolved(problem, preloads)):
            if let problem { return fail("model-pack", problem) }
            state = preloads ? .verifyingStore : .recording
            return preloads ? .verifyStore : .recordState
        case let (.verifyingStore, .storeVerified(problem)):
            if let problem { return fail("model-store", problem) }
            state = .waitingForOllama(attempt: 1)
            return .probeOllama
        case let (.waitingForOllama(attempt), .ollamaChecked(problem, timeLeft)):
            guard let problem else {
                state = .recording
                return .recordState
            }
            guard timeLeft else { return fail("ollama", problem) }
            state = .waitingForOllama(attempt: attempt + 1)
            return .waitThenProbeOllama
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
