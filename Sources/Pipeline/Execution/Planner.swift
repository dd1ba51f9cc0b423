import Foundation

/// What a run would do, without running anything or touching the network.
public struct Plan: Sendable {
    public enum Status: String, Sendable, Codable {
        /// In the cache: nothing to do.
        case cached
        /// Local work to run.
        case run
        /// Work that costs money (the stage declares a cost): a paid generation.
        case generate
        /// Paid work an earlier run started and did not finish (a generation sent before an
        /// interruption, its request id journaled): the run fetches it, paying nothing new.
        case resume
    }

    public struct Step: Sendable, Codable {
        public var stage: String
        public var kind: String
        public var status: Status
        /// Why it misses the cache: which parameter or input changed since its last run.
        public var reason: String?
        /// What running it would cost (``Cost/free`` when cached or local).
        public var cost: Cost
        /// Its action key, when every input is known before running.
        public var key: String?
        /// Which take of a shot it is, for a take node.
        public var take: TakeRole?
        /// Seconds of media to pay for.
        public var seconds: Int { Int(cost.seconds.rounded()) }
    }

    public var steps: [Step]
    public var generations: Int { steps.map(\.cost.generations).reduce(0, +) }
    public var secondsToPay: Int { Int(cost.seconds.rounded()) }
    /// Everything the run would pay for.
    public var cost: Cost { steps.map(\.cost).reduce(.free, +) }
}

public enum Planner {
    /// Walks the pipeline in order, resolving what is known without running anything: a
    /// stage whose inputs are all known is looked up by its action key; the rest will run,
    /// at the cost each stage declares for its known parameters. Outputs are known for a
    /// cached stage and for one that can ``Stage/predict(_:)`` them (a take selector).
    public static func plan(_ pipeline: ValidatedPipeline, storage: Storage) async -> Plan {
        let digests = storage.digests
        let plan = await FileDigests.$current.withValue(digests) { await planSteps(pipeline, storage: storage) }
        try? await BlockingIO.run { digests.save() }
        return plan
    }

    private static func planSteps(_ pipeline: ValidatedPipeline, storage: Storage) async -> Plan {
        var known: [String: [String: Value]] = [:]
        /// Stages known only in part (a take selector whose pick is made, another take not).
        var partial: Set<String> = []
        var steps: [Plan.Step] = []
        await storage.actions.prefetch(pipeline: pipeline.graph.name)
        let executor = Executor(pipeline: pipeline, storage: storage)
        for step in pipeline.steps {
            let literals = step.with.compactMapValues { if case .literal(let value) = $0 { value } else { nil } }
            let cost = step.stage.cost(literals)
            let missStatus: Plan.Status = cost.isFree ? .run : .generate
            func miss(_ reason: String) {
                steps.append(.init(stage: step.node.name, kind: step.node.kind, status: missStatus, reason: reason, cost: cost,
                                   take: step.node.take))
            }
            // Each reference on its own: a stage known in part gives what it knows.
            let unknown = step.with.values.flatMap(\.references).filter {
                known[$0.stage] == nil || (partial.contains($0.stage) && known[$0.stage]?[$0.output] == nil)
            }
            guard unknown.isEmpty else {
                if step.stage.predictsFromPartialInputs,
                   let outputs = await predictPartially(step, unknown: unknown, known: known, executor: executor) {
                    known[step.node.name] = outputs
                    partial.insert(step.node.name)
                }
                miss("after \(Set(unknown.map(\.stage)).sorted().joined(separator: ", ")) runs")
                continue
            }
            var values: [String: Value] = [:]
            let ports = Dictionary(uniqueKeysWithValues: step.stage.signature.inputs.map { ($0.name, $0) })
            do {
                for (name, expression) in step.with {
                    values[name] = try await executor.resolve(expression, upstream: known, port: ports[name], storeFiles: false)
                }
            } catch {
                miss("\(error)")
                continue
            }
            let key = step.stage.actionKey(values)
            if let hit = await storage.actions.lookup(key) {
                known[step.node.name] = hit.outputs
                steps.append(.init(stage: step.node.name, kind: step.node.kind, status: .cached, reason: nil, cost: .free, key: key,
                                   take: step.node.take))
                continue
            }
            let full = step.stage.cost(values)
            if !full.isFree, let record = try? await storage.journal.read(key), step.stage.resumes(record) {
                steps.append(.init(stage: step.node.name, kind: step.node.kind, status: .resume,
                                   reason: "sent before the last run stopped: fetched, nothing new to pay", cost: .free, key: key,
                                   take: step.node.take))
                continue
            }
            if let predicted = step.stage.predict(StageInvocation(name: step.node.name, values: values, take: step.node.take)) {
                known[step.node.name] = predicted
            }
            steps.append(.init(stage: step.node.name, kind: step.node.kind, status: full.isFree ? .run : .generate,
                               reason: await why(step, values: values, cache: storage.actions, pipeline: pipeline.graph.name),
                               cost: full, key: key, take: step.node.take))
        }
        return Plan(steps: steps)
    }

    /// The outputs a stage that predicts from partial inputs gives with `.null` for what is not made yet.
    static func predictPartially(_ step: ValidatedPipeline.Step, unknown: [Reference], known: [String: [String: Value]],
                                 executor: Executor) async -> [String: Value]? {
        var upstream = known
        for reference in unknown { upstream[reference.stage, default: [:]][reference.output] = .null }
        let ports = Dictionary(uniqueKeysWithValues: step.stage.signature.inputs.map { ($0.name, $0) })
        var values: [String: Value] = [:]
        for (name, expression) in step.with {
            guard let value = try? await executor.resolve(expression, upstream: upstream, port: ports[name], storeFiles: false)
            else { return nil }
            values[name] = value
        }
        return step.stage.predict(StageInvocation(name: step.node.name, values: values, take: step.node.take))
    }

    /// Compares with the stage's last run: the parameters and inputs that changed.
    static func why(_ step: ValidatedPipeline.Step, values: [String: Value], cache: any ActionCache, pipeline: String) async -> String {
        guard let last = await cache.lastRun(pipeline: pipeline, stage: step.node.name) else { return "never run" }
        if last.kind != step.stage.kind { return "a \(step.stage.kind) stage now (it was \(last.kind))" }
        if last.version != step.stage.version { return "the stage changed (version \(last.version) → \(step.stage.version))" }
        let changed = Set(values.keys).union(last.values.keys).sorted().filter {
            values[$0]?.explanationForm.keyForm != last.values[$0]?.explanationForm.keyForm
        }
        guard !changed.isEmpty else { return "its outputs are no longer in the cache" }
        return "changed: " + changed.map { name in
            let isFile = (values[name] ?? last.values[name]).map { !$0.artifacts.isEmpty } ?? false
            return isFile ? "\(name) (file contents)" : "\(name)"
        }.joined(separator: ", ")
    }
}
