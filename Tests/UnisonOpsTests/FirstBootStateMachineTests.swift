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

    @Test("the whole path: grow, seed, pack, store, Ollama after two retries, marker, stack gate, record, success")
    func happyPath() {
        let (actions, state) = drive([
            .begin(stateExists: false, force: false), .rootGrown(problem: nil), .seeded(problem: nil),
            .packResolved(problem: nil, preloads: true),
            .storeVerified(problem: nil), .ollamaChecked(problem: "refused", timeLeft: true),
            .ollamaChecked(problem: "refused", timeLeft: true), .ollamaChecked(problem: nil, timeLeft: true), .checksAnnounced,
            .stackGated(problem: nil), .recorded(problem: nil),
        ])
        #expect(
            actions == [
                .growRoot, .seedSecrets, .resolvePack, .verifyStore, .probeOllama, .waitThenProbeOllama, .waitThenProbeOllama,
                .announceChecks, .gateStack, .recordState, .announceSuccess,
            ])
        #expect(state == .done(alreadyDone: false))
    }

    @Test("already done: nothing runs unless forced")
    func once() {
        #expect(drive([.begin(stateExists: true, force: false)]) == ([.reportAlreadyDone], .done(alreadyDone: true)))
        #expect(drive([.begin(stateExists: true, force: true)]).actions == [.growRoot])
    }

    @Test("a pack without preloads skips the store and Ollama")
    func nothingToPreload() {
        let (actions, _) = drive([
            .begin(stateExists: false, force: false), .rootGrown(problem: nil), .seeded(problem: nil),
            .packResolved(problem: nil, preloads: false), .checksAnnounced, .stackGated(problem: nil), .recorded(problem: nil),
        ])
        #expect(actions == [.growRoot, .seedSecrets, .resolvePack, .announceChecks, .gateStack, .recordState, .announceSuccess])
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
            (
                [.seeded(problem: nil), .packResolved(problem: nil, preloads: false), .checksAnnounced, .stackGated(problem: "web: refused")],
                "stack"
            ),
            (
                [
                    .seeded(problem: nil), .packResolved(problem: nil, preloads: false), .checksAnnounced, .stackGated(problem: nil),
                    .recorded(problem: "read-only"),
                ], "state"
            ),
        ])
    func failures(events: [M.Event], step: String) {
        let (actions, state) = drive([.begin(stateExists: false, force: false), .rootGrown(problem: nil)] + events)
        guard case let .announceFailure(failedStep, _)? = actions.last, case .failed(step, _) = state else {
            Issue.record("ended with \(String(describing: actions.last)) in \(state)")
            return
        }
        #expect(failedStep == step)
    }

    @Test("a root that could not grow is reported, and first boot goes on")
    func growNeverFatal() {
        let (actions, state) = drive([.begin(stateExists: false, force: false), .rootGrown(problem: "growpart failed")])
        #expect(actions == [.growRoot, .seedSecrets])
        #expect(state == .seeding)
    }

    @Test("the stamp is recorded only after the stack gate ran: no record action before it, none after a failed gate")
    func stampAfterGate() {
        var m = M()
        var actions = [M.Action]()
        for event: M.Event in [
            .begin(stateExists: false, force: false), .rootGrown(problem: nil), .seeded(problem: nil),
            .packResolved(problem: nil, preloads: false), .checksAnnounced,
        ] {
            actions.append(m.handle(event))
        }
        #expect(!actions.contains(.recordState))
        #expect(actions.last == .gateStack)
        // A record event before the gate ran is refused, not taken as done.
        var early = m
        #expect(
            early.handle(.recorded(problem: nil))
                == .announceFailure(step: "internal", reason: "event recorded(problem: nil) is not expected in state gatingStack"))
        #expect(m.handle(.stackGated(problem: "web: unhealthy")) == .announceFailure(step: "stack", reason: "web: unhealthy"))
    }

    @Test("an event out of order fails instead of skipping a check")
    func outOfOrder() {
        let (actions, state) = drive([.begin(stateExists: false, force: false), .rootGrown(problem: nil), .storeVerified(problem: nil)])
        #expect(actions.last == .announceFailure(step: "internal", reason: "event storeVerified(problem: nil) is not expected in state seeding"))
        if case .failed("internal", _) = state {} else { Issue.record("state \(state)") }
    }
}
