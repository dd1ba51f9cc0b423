import Foundation

/// What a run would do, without running anything or touching the network.
public struct Plan: Sendable {
    public enum Status: String, Sendable, Codable {
        case cached, run, generate
    }

    public struct Step: Sendable, Codable {
        public var stage: String
        public var kind: String
        public var status: Status
        /// Why it misses the cache: which parameter or input changed since its last run.
        public var reason: String?
        /// Seconds of video to pay for (generations).
        public var seconds: Int
    }

    public var steps: [Step]
    public var generations: Int { steps.filter { $0.status == .generate }.count }
    public var secondsToPay: Int { steps.filter { $0.status == .generate }.map(\.seconds).reduce(0, +) }
}

public enum Planner {
    public static func plan(_ pipeline: ValidatedPipeline, cache: ActionCache) -> Plan {
        var known: [String: [String: Value]] = [:]
        var steps: [Plan.Step] = []
        let executor = Executor(pipeline: pipeline, cache: cache)
        for step in pipeline.steps {
            let remote = step.stage.signature.pool == .seedance
            let seconds = remote ? Int(step.with["duration"].flatMap { if case .literal(let v) = $0 { v.number } else { nil } } ?? 5) : 0
            let missStatus: Plan.Status = remote ? .generate : .run
            let upstream = step.node.dependencies.filter { known[$0] == nil }
            guard upstream.isEmpty else {
                steps.append(.init(stage: step.node.name, kind: step.node.kind, status: missStatus,
                                   reason: "after \(upstream.sorted().joined(separator: ", ")) runs", seconds: seconds))
                continue
            }
            var values: [String: Value] = [:]
            let ports = Dictionary(uniqueKeysWithValues: step.stage.signature.inputs.map { ($0.name, $0) })
            do {
                for (name, expression) in step.with {
                    values[name] = try executor.resolve(expression, upstream: known, port: ports[name], storeFiles: false)
                }
            } catch {
                steps.append(.init(stage: step.node.name, kind: step.node.kind, status: missStatus, reason: "\(error)", seconds: seconds))
                continue
            }
            let key = ActionCache.key(kind: step.stage.kind, version: step.stage.version, values: values)
            if let hit = cache.lookup(key) {
                known[step.node.name] = hit.outputs
                steps.append(.init(stage: step.node.name, kind: step.node.kind, status: .cached, reason: nil, seconds: 0))
                continue
            }
            steps.append(.init(stage: step.node.name, kind: step.node.kind, status: missStatus,
                               reason: why(step, values: values, cache: cache, pipeline: pipeline.graph.name), seconds: seconds))
        }
        return Plan(steps: steps)
    }

    /// Compares with the stage's last run: the parameters and inputs that changed.
    static func why(_ step: ValidatedPipeline.Step, values: [String: Value], cache: ActionCache, pipeline: String) -> String {
        guard let last = cache.lastRun(pipeline: pipeline, stage: step.node.name) else { return "never run" }
        if last.version != step.stage.version { return "the stage changed (version \(last.version) → \(step.stage.version))" }
        let changed = Set(values.keys).union(last.values.keys).sorted().filter { values[$0]?.keyForm != last.values[$0]?.keyForm }
        guard !changed.isEmpty else { return "its outputs are no longer in the cache" }
        return "changed: " + changed.map { name in
            let isFile = (values[name] ?? last.values[name]).map { !$0.artifacts.isEmpty } ?? false
            return isFile ? "\(name) (file contents)" : "\(name)"
        }.joined(separator: ", ")
    }
}
