import FoundationEssentials
import Glibc
import UnisonCore
import UnisonInstall
import UnisonOCI
import UnisonSpec

/// Why first boot could not even be attempted (bad arguments); failed checks are reported in
/// `FirstBootReport`, not thrown.
package enum FirstBootError: Error, CustomStringConvertible, Sendable, Equatable, ExitCoded {
    case badOllamaURL(String, reason: String)
    case badTimeout(Double)

    package var exitStatus: ExitStatus { .badInput }

    package var description: String {
        switch self {
        case let .badOllamaURL(url, reason): return "--ollama '\(url)': \(reason)"
        case let .badTimeout(value): return "--timeout \(value): must be a positive number of seconds"
        }
    }
}

/// One step of first boot and how it went.
package struct FirstBootStep: Sendable, Codable, Equatable {
    package enum Status: String, Sendable, Codable { case ok, failed, skipped }
    package var name: String
    package var status: Status
    package var detail: String

    package init(name: String, status: Status, detail: String) {
        self.name = name
        self.status = status
        self.detail = detail
    }
}

/// A preloaded model as the store and the server see it.
package struct FirstBootModel: Sendable, Codable, Equatable {
    package var name: String
    /// `sha256:<hex>` of the manifest file in the store (what Ollama reports as the digest).
    package var storeDigest: String?
    package var serverDigest: String?
    package var ok: Bool

    package init(name: String, storeDigest: String?, serverDigest: String?, ok: Bool) {
        self.name = name
        self.storeDigest = storeDigest
        self.serverDigest = serverDigest
        self.ok = ok
    }
}

/// What `unisonctl firstboot` did. Exit status: 0 ok (or already done), 1 a check failed.
package struct FirstBootReport: Sendable, Codable, Equatable {
    package var schema = "unisonctl.firstboot/v1"
    package var ok: Bool
    /// True when an earlier first boot already succeeded and nothing was run.
    package var alreadyDone: Bool
    package var modelPack: String?
    package var ollama: String
    package var ollamaVersion: String?
    package var steps: [FirstBootStep]
    package var models: [FirstBootModel]
    /// The spec's boot marker, printed on success.
    package var marker: String?
    /// The reason of the first failed step.
    package var failure: String?
    /// The state file, written on success.
    package var stateFile: String
    /// The root grow step (nil when it did not run: a staged root, or first boot already done).
    package var root: RootGrowReport? = nil
    /// The stack gate (nil where the machine does not run the stack itself).
    package var stack: StackGateReport? = nil

    package init(
        ok: Bool, alreadyDone: Bool, modelPack: String?, ollama: String, ollamaVersion: String?, steps: [FirstBootStep],
        models: [FirstBootModel], marker: String?, failure: String?, stateFile: String
    ) {
        self.ok = ok
        self.alreadyDone = alreadyDone
        self.modelPack = modelPack
        self.ollama = ollama
        self.ollamaVersion = ollamaVersion
        self.steps = steps
        self.models = models
        self.marker = marker
        self.failure = failure
        self.stateFile = stateFile
    }

    package var exitCode: Int32 { ok ? ExitStatus.ok.rawValue : ExitStatus.checkFailed.rawValue }

    /// The last line printed: the marker on success, `<marker stem>-FAILED: <reason>` otherwise
    /// (`UNISONOS-FIRSTBOOT-OK` becomes `UNISONOS-FIRSTBOOT-FAILED`, as the shell helper prints it).
    package func finalLine(specMarker: String) -> String {
        if ok, let marker { return marker }
        let stem = specMarker.hasSuffix("-OK") ? String(specMarker.dropLast(3)) : specMarker
        return "\(stem)-FAILED: \(failure ?? "unknown reason")"
    }
}

/// First boot of an installed (or imaged) machine: seed the env file's secrets the way the
/// installer does (`EnvFile.seed` with the installed template), check them, verify the
/// configured model pack's preloaded models offline (`ModelStore.verify`), then wait for the
/// Ollama API and check it lists each of them with the store's manifest digest. It starts by
/// growing the root to the disk (`RootGrow`, never fatal) and ends with the stack gate where the
/// machine runs the stack. Success is recorded in the state file (the first-boot unit's
/// `ConditionPathExists=!` stamp) after the gate, so it runs once; a failure or a power loss
/// before that leaves no state, so the next boot tries again.
package struct FirstBoot: Sendable {
    package var spec: PlatformSpec
    package var layout: InstallLayout
    package var root: URL
    package var ollama: OllamaEndpoint
    /// How long to wait for the Ollama API to answer and list the models.
    package var timeout: TimeInterval
    package var interval: TimeInterval
    package var force: Bool
    package var clock: any WallClock
    /// Progress lines for people (stderr in the CLI).
    package var log: @Sendable (String) -> Void
    /// Grows the root at the start (nil: not here, e.g. a staged root).
    package var rootGrow: RootGrow?
    /// Runs the stack gate after the checks (nil: this machine does not run the stack).
    package var stackGate: (@Sendable () -> StackGateReport)?
    /// Lines for the console and stdout: the root size, the boot marker once the checks pass,
    /// the stack's marker (the boot QA reads them in this order).
    package var announce: @Sendable (String) -> Void

    package init(
        spec: PlatformSpec, root: URL = URL(fileURLWithPath: "/"), ollama: OllamaEndpoint = .default,
        timeout: TimeInterval = 600, interval: TimeInterval = 2, force: Bool = false,
        clock: any WallClock = SystemClock(), log: @escaping @Sendable (String) -> Void = { _ in },
        rootGrow: RootGrow? = nil, stackGate: (@Sendable () -> StackGateReport)? = nil,
        announce: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.rootGrow = rootGrow
        self.stackGate = stackGate
        self.announce = announce
        self.spec = spec
        self.layout = InstallLayout(spec: spec)
        self.root = root
        self.ollama = ollama
        self.timeout = timeout
        self.interval = interval
        self.force = force
        self.clock = clock
        self.log = log
    }

    func hostPath(_ path: String) -> String { root.path == "/" ? path : root.path + path }

    /// The state file: the first-boot unit's stamp, holding this report as JSON.
    package var stateFile: String { layout.firstBootStamp }

    /// Drives `FirstBootStateMachine` to its end, performing each action it asks for.
    package func run() -> FirstBootReport {
        var report = FirstBootReport(
            ok: false, alreadyDone: false, modelPack: nil, ollama: ollama.description, ollamaVersion: nil,
            steps: [], models: [], marker: nil, failure: nil, stateFile: stateFile)
        func note(_ step: String, _ detail: String, _ status: FirstBootStep.Status = .ok) {
            report.steps.append(FirstBootStep(name: step, status: status, detail: detail))
            log("\(step): \(detail)")
        }
        var machine = FirstBootStateMachine()
        var envText = ""
        var pack: ModelPack?
        var expected: [(name: ModelName, digest: String?)] = []
        var deadline: Date?
        let api = OllamaAPI(endpoint: ollama, requestTimeout: min(10, max(1, timeout)))
        let statePath = hostPath(stateFile)
        var action = machine.handle(.begin(stateExists: FileManager.default.fileExists(atPath: statePath), force: force))
        while true {
            switch action {
            case .reportAlreadyDone:
                report.ok = true
                report.alreadyDone = true
                note("state", "first boot already completed (\(stateFile) exists; --force runs it again)", .skipped)
                return report

            case .growRoot:
                if let grown = growRootStep() {
                    report.root = grown
                    if let problem = grown.problem {
                        note("root", "not grown: \(problem)", grown.skipped ? .skipped : .failed)
                    } else {
                        note(
                            "root",
                            "\(grown.device ?? "/") "
                                + (grown.grewPartition
                                    ? "grown to the end of \(grown.disk ?? "its disk")" : "already fills \(grown.disk ?? "its disk")"))
                    }
                }
                action = machine.handle(.rootGrown(problem: report.root?.problem))

            case .seedSecrets:
                let outcome = seedSecrets()
                if case let .success(seeded) = outcome {
                    envText = seeded.text
                    note(
                        "secrets",
                        seeded.generatedSecrets.isEmpty
                            ? "every secret was already set"
                            : "generated \(seeded.generatedSecrets.joined(separator: ", "))")
                }
                action = machine.handle(.seeded(problem: outcome.problem))

            case .resolvePack:
                // The env file's UNISON_MODEL_PACK, else the spec's default.
                let name =
                    EnvFile.value(of: "UNISON_MODEL_PACK", in: envText)
                    ?? spec.installer.env["UNISON_MODEL_PACK"] ?? spec.models.packs.first?.name ?? "light"
                report.modelPack = name
                pack = spec.modelPack(named: name)
                if let pack, pack.preload.isEmpty { note("models", "model pack '\(name)' preloads no model: nothing to validate", .skipped) }
                action = machine.handle(
                    .packResolved(
                        problem: pack == nil
                            ? "UNISON_MODEL_PACK=\(name) is not a pack of the spec (it has: \(spec.models.packs.map(\.name).joined(separator: ", ")))"
                            : nil,
                        preloads: !(pack?.preload.isEmpty ?? true)))

            case .verifyStore:
                var problem: String?
                do {
                    expected = try verifyStore(pack: pack!, storeRoot: URL(fileURLWithPath: hostPath(spec.models.store)), models: &report.models)
                    note(
                        "model-store",
                        "\(expected.count) preloaded model\(expected.count == 1 ? "" : "s") of pack '\(pack!.name)' present and intact in \(spec.models.store)"
                    )
                } catch let failure as StoreFailure {
                    problem = failure.detail
                } catch {
                    problem = "\(error)"
                }
                action = machine.handle(.storeVerified(problem: problem))

            case .probeOllama, .waitThenProbeOllama:
                if action == .waitThenProbeOllama { Threads.sleep(interval) }
                let limit = deadline ?? clock.now().addingTimeInterval(timeout)
                deadline = limit
                let problem = probeOllama(api, expected: expected, report: &report)
                let timeLeft = clock.now().addingTimeInterval(interval) < limit
                if let problem {
                    if case let .waitingForOllama(attempt) = machine.state, attempt == 1 || attempt % 15 == 0 {
                        log("waiting for Ollama: \(problem)")
                    }
                } else {
                    note(
                        "ollama",
                        "Ollama \(report.ollamaVersion ?? "?") at \(ollama) lists \(report.models.map(\.name).joined(separator: ", ")) with the store's digests"
                    )
                }
                action = machine.handle(
                    .ollamaChecked(
                        problem: problem.map { timeLeft ? $0 : "\($0) (gave up after \(Int(timeout)) s)" },
                        timeLeft: timeLeft))

            case .announceChecks:
                report.marker = spec.qa.boot.marker
                announce(spec.qa.boot.marker)
                action = machine.handle(.checksAnnounced)

            case .gateStack:
                var problem: String?
                if let stackGate {
                    let stack = stackGate()
                    report.stack = stack
                    announce(stack.finalLine)
                    if !stack.ok { problem = "\(stack.service ?? "stack"): \(stack.reason ?? "unknown reason")" }
                }
                action = machine.handle(.stackGated(problem: problem))

            case .recordState:
                report.ok = true
                var problem: String?
                do {
                    let data = try JSONOutput.encoder().encode(report)
                    try AtomicFile.write(data + Data("\n".utf8), to: URL(fileURLWithPath: statePath), permissions: 0o644)
                } catch {
                    problem = "cannot write \(stateFile): \(error)"
                }
                action = machine.handle(.recorded(problem: problem))

            case .announceSuccess:
                report.steps.append(FirstBootStep(name: "state", status: .ok, detail: "recorded in \(stateFile)"))
                return report

            case let .announceFailure(step, reason):
                // The marker stays when it was already announced (a failure of the stack gate).
                report.ok = false
                report.failure = "\(step): \(reason)"
                report.steps.append(FirstBootStep(name: step, status: .failed, detail: reason))
                return report
            }
        }
    }

    /// Seeds the env file from the installed template the way the installer's
    /// `generateSecrets` operation does (`EnvFile.seed`, generate), writes it atomically with
    /// mode 0600 when it changed, and checks the result.
    func seedSecrets() -> SeedOutcome {
        let envPath = hostPath(layout.envFile)
        let existing = try? String(contentsOfFile: envPath, encoding: .utf8)
        let template = try? String(contentsOfFile: hostPath(layout.envTemplate), encoding: .utf8)
        guard existing != nil || template != nil else {
            return .failure(
                "neither \(layout.envFile) nor its template \(layout.envTemplate) exists: the platform is not installed here (run unisonctl install)")
        }
        var rng = SystemRandomNumberGenerator()
        let seeded = EnvFile.seed(
            existing: existing, template: template ?? existing ?? "", secrets: spec.installer.secrets,
            generate: true, using: &rng)
        if seeded.text != existing {
            do {
                try AtomicFile.write(Data(seeded.text.utf8), to: URL(fileURLWithPath: envPath), permissions: 0o600)
            } catch {
                return .failure("cannot write \(layout.envFile): \(error)")
            }
        }
        let problems = EnvFile.problems(in: seeded.text, secrets: spec.installer.secrets)
        guard problems.isEmpty else { return .failure("\(layout.envFile) is unsafe: " + problems.joined(separator: "; ")) }
        var result = seeded
        do {
            result.generatedSecrets += try seedFileSecrets()
        } catch {
            return .failure("\(error)")
        }
        return .success(result)
    }

    enum SeedOutcome {
        case success(EnvFile.SeedResult)
        case failure(String)
        var problem: String? { if case let .failure(p) = self { return p } else { return nil } }
    }

    /// One look at the server: answering, and listing each expected model with its digest.
    func probeOllama(_ api: OllamaAPI, expected: [(name: ModelName, digest: String?)], report: inout FirstBootReport) -> String? {
        switch api.version() {
        case let .failure(error):
            return "the Ollama API at \(ollama) does not answer: \(error)"
        case let .success(version):
            report.ollamaVersion = version
            switch api.tags() {
            case let .failure(error):
                return "the Ollama API at \(ollama) cannot list models: \(error)"
            case let .success(listed):
                let (models, problem) = Self.compare(expected: expected, listed: listed)
                report.models = models
                return problem
            }
        }
    }

    struct StoreFailure: Error { var detail: String }

    /// Each preloaded model's manifest digest, after `ModelStore.verify()` found it intact.
    func verifyStore(pack: ModelPack, storeRoot: URL, models: inout [FirstBootModel]) throws -> [(name: ModelName, digest: String?)] {
        var isDir = false
        guard FileManager.default.fileExists(atPath: storeRoot.path, isDirectory: &isDir), isDir else {
            throw StoreFailure(
                detail:
                    "the model store \(spec.models.store) does not exist, but pack '\(pack.name)' preloads \(pack.preload.joined(separator: ", "))")
        }
        let host = (try? RegistryEndpoint(parsing: spec.models.registry).host) ?? ModelName.defaultHost
        let store = ModelStore(root: storeRoot)
        let verified = try store.verify()
        var out: [(ModelName, String?)] = []
        var problems: [String] = []
        for text in pack.preload {
            let name: ModelName
            do { name = try ModelName(parsing: text, host: host) } catch {
                problems.append("preload entry '\(text)' is not a model name: \(error)")
                continue
            }
            let manifest = store.manifestURL(name)
            guard verified.models.contains(where: { $0.name == name.description }),
                let data = FileManager.default.contents(atPath: manifest.path)
            else {
                problems.append("\(name.shortName) is missing (no \(manifest.path))")
                models.append(FirstBootModel(name: name.shortName, storeDigest: nil, serverDigest: nil, ok: false))
                continue
            }
            let own = verified.problems.filter { $0.model == name.description }
            if !own.isEmpty {
                problems += own.map { "\(name.shortName): \($0.detail) (\($0.path))" }
            }
            let digest = "sha256:" + SHA256Hex.hex(data)
            models.append(FirstBootModel(name: name.shortName, storeDigest: digest, serverDigest: nil, ok: own.isEmpty))
            out.append((name, digest))
        }
        guard problems.isEmpty else { throw StoreFailure(detail: problems.joined(separator: "; ")) }
        return out
    }

    /// Matches the server's list against the store: same names, same manifest digests.
    static func compare(expected: [(name: ModelName, digest: String?)], listed: [OllamaListedModel])
        -> (models: [FirstBootModel], problem: String?)
    {
        var models: [FirstBootModel] = []
        var problems: [String] = []
        for (name, digest) in expected {
            let candidates = Set([name.shortName, name.description, "\(name.namespace)/\(name.model):\(name.tag)"])
            let entry = listed.first { candidates.contains($0.name) || ($0.model.map(candidates.contains) ?? false) }
            let server = entry.map { $0.digest.hasPrefix("sha256:") ? $0.digest : "sha256:" + $0.digest }
            let same = server != nil && server == digest
            models.append(FirstBootModel(name: name.shortName, storeDigest: digest, serverDigest: server, ok: same))
            if entry == nil {
                problems.append("Ollama does not list \(name.shortName)")
            } else if !same {
                problems.append("Ollama lists \(name.shortName) with digest \(server ?? "-"), the store has \(digest ?? "-")")
            }
        }
        return (models, problems.isEmpty ? nil : problems.joined(separator: "; "))
    }

    /// Writes `line` to the console device when there is one (the boot QA reads the serial
    /// console); silently does nothing otherwise.
    package static func announce(_ line: String, console: String = "/dev/console") {
        let fd = open(console, O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return }
        defer { close(fd) }
        let bytes = Array((line + "\n").utf8)
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }
}
