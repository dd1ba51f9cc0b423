import Foundation
import Logging

/// Runs a validated pipeline in one structured-concurrency task group.
///
/// Ready stages start in order of their longest remaining path (so a long chain is never
/// starved by short work), each pool limited to its count. Every stage's outputs are
/// cached under its action key; a hit skips the stage. A failure stops the run (or, with
/// `keepGoing`, only what depends on it); cancellation stops launching and cancels the
/// running stages, and nothing partial is ever recorded.
public struct Executor: Sendable {
    public let pipeline: ValidatedPipeline
    public let store: ArtifactStore
    public let cache: ActionCache
    public let options: ExecutionOptions
    public let logger: Logger
    private let inFlight = InFlightActions()

    public init(pipeline: ValidatedPipeline, cache: ActionCache, options: ExecutionOptions = ExecutionOptions(),
                logger: Logger = Logger(label: "seedpipe.executor", factory: { _ in SwiftLogNoOpLogHandler() })) {
        self.pipeline = pipeline
        self.store = cache.store
        self.cache = cache
        self.options = options
        self.logger = logger
    }

    private struct Outcome: Sendable {
        var name: String
        var report: RunReport.StageReport
    }

    /// Runs the pipeline; events go to `events` as they happen.
    public func run(events: AsyncStream<ExecutionEvent>.Continuation? = nil) async throws -> RunReport {
        var outputs: [String: [String: Value]] = [:]
        var reports: [String: RunReport.StageReport] = [:]
        var failures: [String: String] = [:]
        var pending = pipeline.steps.map(\.node.name)
        var running: [String: Int] = [:]
        let declaration = Dictionary(uniqueKeysWithValues: pipeline.graph.stages.enumerated().map { ($1.name, $0) })

        try await withThrowingTaskGroup(of: Outcome.self) { group in
            func launchReady() {
                let ready = pending.compactMap { pipeline.step($0) }
                    .filter { $0.node.dependencies.allSatisfy { outputs[$0] != nil } }
                    .sorted { ($0.priority, -(declaration[$0.node.name] ?? 0)) > ($1.priority, -(declaration[$1.node.name] ?? 0)) }
                for step in ready {
                    let pool = step.stage.signature.pool
                    guard running[pool.name, default: 0] < options.limit(pool), !Task.isCancelled else { continue }
                    running[pool.name, default: 0] += 1
                    pending.removeAll { $0 == step.node.name }
                    let inputs = outputs
                    group.addTask { try await execute(step, upstream: inputs, events: events) }
                }
            }
            func skipDependents(of failed: String) {
                var blocked: Set<String> = [failed]
                var changed = true
                while changed {
                    changed = false
                    for name in pending where !blocked.contains(name) {
                        if let step = pipeline.step(name), !step.node.dependencies.isDisjoint(with: blocked) {
                            blocked.insert(name)
                            changed = true
                        }
                    }
                }
                for name in pending where blocked.contains(name) {
                    let step = pipeline.step(name)!
                    reports[name] = .init(stage: name, kind: step.node.kind, key: nil, cached: false, started: nil, seconds: 0,
                                          outputs: [:], error: nil, skipped: true)
                    events?.yield(.skipped(stage: name, because: failed))
                }
                pending.removeAll { blocked.contains($0) }
            }

            launchReady()
            while let outcome = try await group.next() {
                let step = pipeline.step(outcome.name)!
                running[step.stage.signature.pool.name, default: 1] -= 1
                reports[outcome.name] = outcome.report
                if let error = outcome.report.error {
                    failures[outcome.name] = error
                    if !options.keepGoing {
                        group.cancelAll()
                        let report = RunReport(stages: reports, outputs: [:], failures: failures)
                        throw StageFailure(stage: outcome.name, message: error, report: report)
                    }
                    skipDependents(of: outcome.name)
                } else {
                    outputs[outcome.name] = outcome.report.outputs
                }
                launchReady()
            }
        }
        try Task.checkCancellation()
        var resolvedOutputs: [String: Value] = [:]
        if failures.isEmpty {
            for (name, expression) in pipeline.graph.outputs {
                resolvedOutputs[name] = try resolve(expression, upstream: outputs, port: nil)
            }
        }
        return RunReport(stages: reports, outputs: resolvedOutputs, failures: failures)
    }

    /// Runs one stage (or takes it from the cache). Errors become a report, not a throw,
    /// except cancellation.
    private func execute(_ step: ValidatedPipeline.Step, upstream: [String: [String: Value]],
                         events: AsyncStream<ExecutionEvent>.Continuation?) async throws -> Outcome {
        let name = step.node.name
        let started = Date()
        let clock = ContinuousClock.now
        func report(key: String?, cached: Bool, outputs: [String: Value] = [:], error: String? = nil) -> Outcome {
            let elapsed = ContinuousClock.now - clock
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            return Outcome(name: name, report: .init(stage: name, kind: step.node.kind, key: key, cached: cached,
                                                     started: started, seconds: seconds, outputs: outputs, error: error,
                                                     skipped: false))
        }
        var key: String?
        do {
            var values: [String: Value] = [:]
            let ports = Dictionary(uniqueKeysWithValues: step.stage.signature.inputs.map { ($0.name, $0) })
            for (parameter, expression) in step.with {
                values[parameter] = try resolve(expression, upstream: upstream, port: ports[parameter])
            }
            let actionKey = ActionCache.key(kind: step.stage.kind, version: step.stage.version, values: values)
            key = actionKey
            if let hit = cache.lookup(actionKey) {
                events?.yield(.cacheHit(stage: name, key: actionKey))
                return report(key: actionKey, cached: true, outputs: hit.outputs)
            }
            try Task.checkCancellation()
            let resolved = values
            let (result, shared) = try await inFlight.run(actionKey) {
                // Another process may be running this very action: wait for it, then reuse its result.
                let lock = try await FileLock.acquire(cache.lockFile(for: actionKey))
                defer { withExtendedLifetime(lock) {} }
                if let hit = cache.lookup(actionKey) { return (hit.outputs, true) }
                return (try await perform(step, values: resolved, key: actionKey, started: started, events: events), false)
            }
            let produced = result.outputs
            if shared || result.fromCache {
                events?.yield(.cacheHit(stage: name, key: actionKey))
                return report(key: actionKey, cached: true, outputs: produced)
            }
            return report(key: actionKey, cached: false, outputs: produced)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            events?.yield(.failed(stage: name, message: "\(error)"))
            return report(key: key, cached: false, error: "\(error)")
        }
    }

    /// Runs the stage for real and records its outputs under `key`.
    private func perform(_ step: ValidatedPipeline.Step, values: [String: Value], key actionKey: String, started: Date,
                         events: AsyncStream<ExecutionEvent>.Continuation?) async throws -> [String: Value] {
        let name = step.node.name
        let clock = ContinuousClock.now
        events?.yield(.started(stage: name, kind: step.node.kind))
        let scratch = store.root.appendingPathComponent("scratch/\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        var stageLogger = logger
        stageLogger[metadataKey: "stage"] = "\(name)"
        let context = StageContext(
            store: store, logger: stageLogger, scratch: scratch, baseFolder: pipeline.graph.baseFolder, actionKey: actionKey,
            pipeline: pipeline.graph.name, journal: cache.journal
        ) { fraction, status in events?.yield(.progress(stage: name, fraction: fraction, status: status)) }
        let produced = try await step.stage.run(StageInvocation(name: name, values: values), context: context)
        try Task.checkCancellation()
        let missing = step.stage.signature.outputs.filter { $0.required && produced[$0.name] == nil }.map(\.name)
        guard missing.isEmpty else {
            throw StoreError("the stage did not produce \(missing.joined(separator: ", "))")
        }
        let elapsed = ContinuousClock.now - clock
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        try cache.record(ActionRecord(
            key: actionKey, kind: step.stage.kind, version: step.stage.version, stage: name, values: values,
            outputs: produced, createdAt: started, seconds: seconds,
            paid: step.stage.signature.pool == .seedance, requestIDs: []), pipeline: pipeline.graph.name)
        events?.yield(.finished(stage: name, key: actionKey, seconds: seconds))
        return produced
    }

    /// Evaluates an expression against finished stages' outputs. A literal path given to a
    /// file port is read into the store (so it counts by its bytes).
    func resolve(_ expression: ValueExpression, upstream: [String: [String: Value]], port: Port?, storeFiles: Bool = true) throws -> Value {
        switch expression {
        case .literal(let value):
            guard let port, port.type.isFile else { return value }
            let element: ArtifactType = if case .list(let inner) = port.type { inner } else { port.type }
            func file(_ value: Value) throws -> Value {
                guard let path = value.string else { return value }
                let url = URL(fileURLWithPath: path, relativeTo: pipeline.graph.baseFolder)
                guard storeFiles else {
                    // Planning: the digest alone, nothing written.
                    return .artifact(Artifact(digest: try ArtifactStore.digest(of: url), type: element,
                                              fileExtension: url.pathExtension.lowercased(), size: 0))
                }
                return .artifact(try store.put(file: url, type: element))
            }
            if let list = value.list { return .list(try list.map(file)) }
            return try file(value)
        case .reference(let reference):
            guard let value = upstream[reference.stage]?[reference.output] else {
                throw StoreError("\(reference) has no value (stage `\(reference.stage)` did not produce `\(reference.output)`)")
            }
            if let port, case .list(let element) = port.type, value.list == nil, element != .json { return .list([value]) }
            return value
        case .interpolation(let parts):
            return .string(try parts.map { part in
                switch part {
                case .text(let text): return text
                case .reference(let reference):
                    return try resolve(.reference(reference), upstream: upstream, port: nil, storeFiles: storeFiles).text
                }
            }.joined())
        case .list(let items):
            let element: Port? = port.map { if case .list(let inner) = $0.type { Port($0.name, inner) } else { $0 } }
            return .list(try items.map { try resolve($0, upstream: upstream, port: element, storeFiles: storeFiles) })
        case .object(let items):
            return .object(try items.mapValues { try resolve($0, upstream: upstream, port: nil, storeFiles: storeFiles) })
        }
    }
}
