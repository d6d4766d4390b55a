import Testing
import UnisonTestSupport

@testable import UnisonOps

/// The first-boot ordering rules, without I/O.
@Suite("firstboot state machine", .tags(.unit))
struct FirstBootStateMachineTests {
    typealias M = FirstBootStateMachine

    /// Feeds events in order and returns the actions.
    func drive(_ events: [M.Event]) -> (actions: [M.Action], state: M.State) {
        var m = M()
        let actions = events.map { m.handle($0) }
        return (actions, m.state)
    }

    @Test("the whole path: seed, pack, store, Ollama after two retries, record, success")
    func happyPath() {
        let (actions, state) = drive([
            .begin(stateExists: false, force: false), .seeded(problem: nil), .packResolved(problem: nil, preloads: true),
            .storeVerified(problem: nil), .ollamaChecked(problem: "refused", timeLeft: true),
            .ollamaChecked(problem: "refused", timeLeft: true), .ollamaChecked(problem: nil, timeLeft: true), .recorded(problem: nil),
        ])
        #expect(
            actions == [
                .seedSecrets, .resolvePack, .verifyStore, .probeOllama, .waitThenProbeOllama, .waitThenProbeOllama,
                .recordState, .announceSuccess,
            ])
        #expect(state == .done(alreadyDone: false))
    }

    @Test("already done: nothing runs unless forced")
    func once() {
        #expect(drive([.begin(stateExists: true, force: false)]) == ([.reportAlreadyDone], .done(alreadyDone: true)))
        #expect(drive([.begin(stateExists: true, force: true)]).actions == [.seedSecrets])
    }

    @Test("a pack without preloads skips the store and Ollama")
    func nothingToPreload() {
        let (actions, _) = drive([
            .begin(stateExists: false, force: false), .seeded(problem: nil),
            .packResolved(problem: nil, preloads: false), .recorded(problem: nil),
        ])
        #expect(actions == [.seedSecrets, .resolvePack, .recordState, .announceSuccess])
    }

    @Test(
        "each failure stops at its step, named",
        arguments: [
            ([M.Event.seeded(problem: "unsafe")], "secrets"),
            ([.seeded(problem: nil), .packResolved(problem: "unknown", preloads: false)], "model-pack"),
            ([.seeded(problem: nil), .packResolved(problem: nil, preloads: true), .storeVerified(problem: "missing")], "model-store"),
            (
                [
                    .seeded(problem: nil), .packResolved(problem: nil, preloads: true), .storeVerified(problem: nil),
                    .ollamaChecked(problem: "refused", timeLeft: false),
                ], "ollama"
            ),
            ([.seeded(problem: nil), .packResolved(problem: nil, preloads: false), .recorded(problem: "read-only")], "state"),
        ])
    func failures(events: [M.Event], step: String) {
        let (actions, state) = drive([.begin(stateExists: false, force: false)] + events)
        guard case let .announceFailure(failedStep, _)? = actions.last, case .failed(step, _) = state else {
            Issue.record("ended with \(String(describing: actions.last)) in \(state)")
            return
        }
        #expect(failedStep == step)
    }

    @Test("an event out of order fails instead of skipping a check")
    func outOfOrder() {
        let (actions, state) = drive([.begin(stateExists: false, force: false), .storeVerified(problem: nil)])
        #expect(actions.last == .announceFailure(step: "internal", reason: "event storeVerified(problem: nil) is not expected in state seeding"))
        if case .failed("internal", _) = state {} else { Issue.record("state \(state)") }
    }
}
