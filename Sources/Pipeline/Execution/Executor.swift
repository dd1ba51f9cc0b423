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
    public let storage: Storage
    /// Handed to every stage through its context (clients of remote services, settings).
    public let services: Services
    public let options: ExecutionOptions
    public let logger: Logger
    private let inFlight = InFlightActions()

    public init(pipeline: ValidatedPipeline, storage: Storage, services: Services = Services(),
                options: ExecutionOptions = ExecutionOptions(),
                logger: Logger = Logger(label: "seedpipe.executor", factory: { _ in SwiftLogNoOpLogHandler() })) {
        self.pipeline = pipeline
        self.storage = storage
        self.services = services
        self.options = options
        self.logger = logger
    }

    var store: any ArtifactStore { storage.artifacts }
    var cache: any ActionCache { storage.actions }

    struct Outcome: Sendable {
        var name: String
        var report: RunReport.StageReport
    }

    /// Runs the pipeline; events go to `events` as they happen.
    public func run(events: AsyncStream<ExecutionEvent>.Continuation? = nil) async throws -> RunReport {
        // The digests of files hashed on the way (plugin programs among them) are saved once, at the end.
        let digests = storage.digests
        do {
            let report = try await FileDigests.$current.withValue(digests) { try await runStages(events: events) }
            try? await BlockingIO.run { digests.save() }
            return report
        } catch {
            try? await BlockingIO.run { digests.save() }
            throw error
        }
    }

    private func runStages(events: AsyncStream<ExecutionEvent>.Continuation?) async throws -> RunReport {
        await cache.prefetch(pipeline: pipeline.graph.name)
        var schedule = Schedule(pipeline)
        var outputs: [String: [String: Value]] = [:]
        var reports: [String: RunReport.StageReport] = [:]
        var failures: [String: PipelineError] = [:]
        var running: [String: Int] = [:]
        // Set by an error that halts the run: nothing new starts, what runs finishes.
        var halted: PipelineError?

        try await withThrowingTaskGroup(of: Outcome.self) { group in
            func launchReady() {
                guard !Task.isCancelled, halted == nil else { return }
                var index = 0
                while index < schedule.ready.count {
                    let step = schedule.steps[schedule.ready[index]]!
                    let pool = step.stage.signature.pool
                    guard running[pool.name, default: 0] < options.limit(pool) else {
                        index += 1
                        continue
                    }
                    running[pool.name, default: 0] += 1
                    schedule.ready.remove(at: index)
                    let inputs = step.node.dependencies.reduce(into: [String: [String: Value]]()) { $0[$1] = outputs[$1] }
                    group.addTask { try await execute(step, upstream: inputs, events: events) }
                }
            }

            launchReady()
            while let outcome = try await group.next() {
                let step = schedule.steps[outcome.name]!
                running[step.stage.signature.pool.name, default: 1] -= 1
                reports[outcome.name] = outcome.report
                if let error = outcome.report.error {
                    failures[outcome.name] = error
                    if error.haltsRun {
                        halted = halted ?? error
                        continue
                    }
                    if !options.keepGoing {
                        group.cancelAll()
                        try? await cache.rememberLastRun(pipeline: pipeline.graph.name, keys: reports.compactMapValues(\.key))
                        var stopped = error
                        stopped.report = RunReport(stages: reports, outputs: [:], failures: failures)
                        throw stopped
                    }
                    for name in schedule.skipDependents(of: outcome.name) {
                        reports[name] = .init(stage: name, kind: schedule.steps[name]!.node.kind, key: nil, cached: false,
                                              started: nil, seconds: 0, outputs: [:], error: nil, skipped: true, cost: .free)
                        events?.yield(.skipped(stage: name, because: outcome.name))
                    }
                } else {
                    outputs[outcome.name] = outcome.report.outputs
                    schedule.finished(outcome.name)
                }
                launchReady()
            }
        }
        try? await cache.rememberLastRun(pipeline: pipeline.graph.name, keys: reports.compactMapValues(\.key))
        try Task.checkCancellation()
        if var stopped = halted {
            for step in pipeline.steps where reports[step.node.name] == nil {
                reports[step.node.name] = .init(stage: step.node.name, kind: step.node.kind, key: nil, cached: false, started: nil,
                                                seconds: 0, outputs: [:], error: nil, skipped: true, cost: .free)
                events?.yield(.skipped(stage: step.node.name, because: stopped.stage ?? "a halted run"))
            }
            stopped.report = RunReport(stages: reports, outputs: (try? await deliverable(outputs, complete: false)) ?? [:],
                                       failures: failures)
            throw stopped
        }
        return RunReport(stages: reports, outputs: try await deliverable(outputs, complete: failures.isEmpty), failures: failures)
    }

    /// The pipeline's `outputs:`: all of them after a clean run; after failures (`keepGoing`,
    /// or a halted run), each one whose stages all succeeded, so nothing made is lost.
    private func deliverable(_ made: [String: [String: Value]], complete: Bool) async throws -> [String: Value] {
        var resolved: [String: Value] = [:]
        for (name, expression) in pipeline.graph.outputs {
            if complete {
                resolved[name] = try await resolve(expression, upstream: made, port: nil)
            } else if expression.references.allSatisfy({ made[$0.stage] != nil }) {
                resolved[name] = try? await resolve(expression, upstream: made, port: nil)
            }
        }
        return resolved
    }

    /// Which stages can start: dependency counts, who depends on whom, and the ready list
    /// kept in priority order (longest remaining path first, then declaration order).
    private struct Schedule {
        let steps: [String: ValidatedPipeline.Step]
        private var waitingOn: [String: Int] = [:]
        private var dependents: [String: [String]] = [:]
        private let rank: [String: (Int, Int)]
        var ready: [String] = []

        init(_ pipeline: ValidatedPipeline) {
            steps = Dictionary(uniqueKeysWithValues: pipeline.steps.map { ($0.node.name, $0) })
            let order = Dictionary(uniqueKeysWithValues: pipeline.graph.stages.enumerated().map { ($1.name, $0) })
            rank = Dictionary(uniqueKeysWithValues: pipeline.steps.map { ($0.node.name, ($0.priority, -(order[$0.node.name] ?? 0))) })
            for step in pipeline.steps {
                let dependencies = step.node.dependencies.filter { steps[$0] != nil }
                waitingOn[step.node.name] = dependencies.count
                for dependency in dependencies { dependents[dependency, default: []].append(step.node.name) }
            }
            for step in pipeline.steps where waitingOn[step.node.name] == 0 { insert(step.node.name) }
        }

        private mutating func insert(_ name: String) {
            let key = rank[name]!
            let index = ready.firstIndex { rank[$0]! < key } ?? ready.count
            ready.insert(name, at: index)
        }

        mutating func finished(_ name: String) {
            for dependent in dependents[name] ?? [] {
                waitingOn[dependent]! -= 1
                if waitingOn[dependent] == 0 { insert(dependent) }
            }
        }

        /// Removes everything downstream of a failure; returns what was skipped.
        mutating func skipDependents(of failed: String) -> [String] {
            var skipped: [String] = []
            var queue = dependents[failed] ?? []
            var seen: Set<String> = []
            while let name = queue.popLast() {
                guard seen.insert(name).inserted else { continue }
                skipped.append(name)
                waitingOn[name] = -1
                ready.removeAll { $0 == name }
                queue += dependents[name] ?? []
            }
            return skipped.sorted()
        }
    }

    /// Runs one stage (or takes it from the cache). Errors become a report, not a throw,
    /// except cancellation.
    private func execute(_ step: ValidatedPipeline.Step, upstream: [String: [String: Value]],
                         events: AsyncStream<ExecutionEvent>.Continuation?) async throws -> Outcome {
        let name = step.node.name
        let started = Date()
        let clock = ContinuousClock.now
        func report(key: String?, cached: Bool, outputs: [String: Value] = [:], error: PipelineError? = nil,
                    cost: Cost = .free) -> Outcome {
            Outcome(name: name, report: .init(stage: name, kind: step.node.kind, key: key, cached: cached,
                                              started: started, seconds: Self.seconds(since: clock), outputs: outputs,
                                              error: error, skipped: false, cost: cost))
        }
        var key: String?
        var values: [String: Value] = [:]
        do {
            let ports = Dictionary(uniqueKeysWithValues: step.stage.signature.inputs.map { ($0.name, $0) })
            for (parameter, expression) in step.with {
                values[parameter] = try await resolve(expression, upstream: upstream, port: ports[parameter])
            }
            let actionKey = step.stage.actionKey(values)
            key = actionKey
            if let hit = await cache.lookup(actionKey) {
                events?.yield(.cacheHit(stage: name, key: actionKey))
                return report(key: actionKey, cached: true, outputs: hit.outputs)
            }
            try Task.checkCancellation()
            let resolved = values
            let (result, shared) = try await inFlight.run(actionKey) {
                // Another process may be running this very action: wait for it, then reuse its result.
                try await cache.exclusively(actionKey) {
                    if let hit = await cache.lookup(actionKey) { return (hit.outputs, true, nil) }
                    let (outputs, cost) = try await perform(step, values: resolved, key: actionKey, started: started, events: events)
                    return (outputs, false, cost)
                }
            }
            if shared || result.fromCache {
                events?.yield(.cacheHit(stage: name, key: actionKey))
                return report(key: actionKey, cached: true, outputs: result.outputs)
            }
            return report(key: actionKey, cached: false, outputs: result.outputs, cost: result.cost ?? step.stage.cost(resolved))
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            var failure = PipelineError.stage(name, failed: error)
            failure.message = Self.naming(failure.message, values: values, with: step.with)
            events?.yield(.failed(stage: name, error: failure))
            return report(key: key, cached: false, error: failure)
        }
    }

    /// A stage's error in the pipeline's terms: a stored file's cache path (stages see only
    /// the store) becomes the input it came in as: `` `video` (${shot.video}) `` or
    /// `` `video` (clip.mp4) ``. The error underneath keeps the original.
    static func naming(_ message: String, values: [String: Value], with: [String: ValueExpression]) -> String {
        var message = message
        for (name, value) in values.sorted(by: { $0.key < $1.key }) {
            let items = value.list ?? [value]
            for (index, item) in items.enumerated() {
                guard let digest = item.artifact?.digest, message.contains(digest),
                      let path = message.range(of: "[^\\s:`']*\(digest)[^\\s:`']*", options: .regularExpression) else { continue }
                message.replaceSubrange(path, with: label(name, item: items.count > 1 ? index : nil, given: with[name]))
            }
        }
        return message
    }

    private static func label(_ name: String, item: Int?, given: ValueExpression?) -> String {
        var source = given
        if let item, case .list(let items)? = given, items.indices.contains(item) { source = items[item] }
        if let item, case .literal(.list(let items))? = given, items.indices.contains(item) { source = .literal(items[item]) }
        switch source {
        case .reference(let reference)?: return "`\(name)` (\(reference))"
        case .literal(.string(let path))?: return "`\(name)` (\(path))"
        default: return "`\(name)`" + (item.map { " item \($0 + 1)" } ?? "")
        }
    }

    static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    /// Runs the stage for real and records its outputs under `key`, with what it cost (as
    /// the stage reported it, else as it declared).
    private func perform(_ step: ValidatedPipeline.Step, values: [String: Value], key actionKey: String, started: Date,
                         events: AsyncStream<ExecutionEvent>.Continuation?) async throws -> ([String: Value], Cost) {
        let name = step.node.name
        let clock = ContinuousClock.now
        events?.yield(.started(stage: name, kind: step.node.kind))
        let scratch = storage.scratch.appendingPathComponent(UUID().uuidString, isDirectory: true)
        var stageLogger = logger
        if let events {
            // The run's own handler at its own level, and the event stream, which takes `info` and above.
            let forward = StageEventLogHandler(stage: name, events: events)
            stageLogger = Logger(label: logger.label, factory: { _ in MultiplexLogHandler([logger.handler, forward]) })
        }
        stageLogger[metadataKey: "stage"] = "\(name)"
        var context = StageContext(
            store: store, journal: storage.journal, services: services, logger: stageLogger, scratch: scratch,
            baseFolder: pipeline.graph.baseFolder, actionKey: actionKey, kind: step.stage.kind, stage: name,
            pipeline: pipeline.graph.name
        ) { fraction, status in events?.yield(.progress(stage: name, fraction: fraction, status: status)) }
        context.profile = pipeline.graph.profile
        let produced: [String: Value]
        do {
            produced = try await step.stage.run(StageInvocation(name: name, values: values, take: step.node.take), context: context)
        } catch {
            await context.scratchFolder.remove()
            throw error
        }
        await context.scratchFolder.remove()
        try Task.checkCancellation()
        let missing = step.stage.signature.outputs.filter { $0.required && produced[$0.name] == nil }.map(\.name)
        guard missing.isEmpty else {
            throw PipelineError(.missingOutput, "the stage did not produce \(missing.joined(separator: ", "))", stage: name)
        }
        let seconds = Self.seconds(since: clock)
        let cost = context.spent.cost ?? step.stage.cost(values)
        try await cache.record(ActionRecord(
            key: actionKey, kind: step.stage.kind, version: step.stage.version, stage: name,
            values: values.mapValues(\.explanationForm),
            outputs: produced, createdAt: started, seconds: seconds, paid: cost.isPaid, cost: cost.isFree ? nil : cost))
        events?.yield(.finished(stage: name, key: actionKey, seconds: seconds))
        return (produced, cost)
    }

    /// Evaluates an expression against finished stages' outputs. A literal path given to a
    /// file port is read into the store (so it counts by its bytes).
    func resolve(_ expression: ValueExpression, upstream: [String: [String: Value]], port: Port?, storeFiles: Bool = true) async throws -> Value {
        switch expression {
        case .literal(let value):
            guard let port, port.type.isFile else { return value }
            let element: ArtifactType = if case .list(let inner) = port.type { inner } else { port.type }
            func file(_ value: Value) async throws -> Value {
                guard let path = value.string, !Value.isRemoteAddress(path) else { return value }
                let url = URL(fileURLWithPath: path, relativeTo: pipeline.graph.baseFolder)
                guard storeFiles else {
                    // Planning: the digest alone, nothing written.
                    let digests = storage.digests
                    let digest = try await BlockingIO.run { try digests.digest(of: url) }
                    return .artifact(Artifact(digest: digest, type: element, fileExtension: url.pathExtension.lowercased(), size: 0))
                }
                return .artifact(try await store.put(file: url, type: element))
            }
            if let list = value.list {
                var files: [Value] = []
                for item in list { files.append(try await file(item)) }
                return .list(files)
            }
            return try await file(value)
        case .reference(let reference):
            guard var value = upstream[reference.stage]?[reference.output] else {
                throw PipelineError(.unresolvedReference,
                                    "\(reference) has no value (stage `\(reference.stage)` did not produce `\(reference.output)`)")
            }
            if let index = reference.index {
                guard let items = value.list, items.indices.contains(index) else {
                    throw PipelineError(.unresolvedReference,
                                        "\(reference): `\(reference.output)` has \(value.list?.count ?? 1) items, so there is no item \(index) (counting from 0)")
                }
                value = items[index]
            }
            if let port, case .list(let element) = port.type, value.list == nil, element != .json { return .list([value]) }
            return value
        case .interpolation(let parts):
            var text = ""
            for part in parts {
                switch part {
                case .text(let piece): text += piece
                case .reference(let reference):
                    text += try await resolve(.reference(reference), upstream: upstream, port: nil, storeFiles: storeFiles).text
                }
            }
            return .string(text)
        case .list(let items):
            let element: Port? = port.map { if case .list(let inner) = $0.type { Port($0.name, inner) } else { $0 } }
            var values: [Value] = []
            for item in items { values.append(try await resolve(item, upstream: upstream, port: element, storeFiles: storeFiles)) }
            return .list(values)
        case .object(let items):
            var values: [String: Value] = [:]
            for (name, item) in items { values[name] = try await resolve(item, upstream: upstream, port: nil, storeFiles: storeFiles) }
            return .object(values)
        }
    }
}
