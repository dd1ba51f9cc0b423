import Foundation
import Logging

/// What happens during a run, as an `AsyncStream` for progress displays and other tools.
public enum ExecutionEvent: Sendable {
    case started(stage: String, kind: String)
    case progress(stage: String, fraction: Double?, status: String)
    case cacheHit(stage: String, key: String)
    case finished(stage: String, key: String, seconds: Double)
    case failed(stage: String, error: PipelineError)
    /// Not run because a stage it depends on failed (with --keep-going).
    case skipped(stage: String, because: String)
    /// A message a stage logged at `info` or above (a plugin's log and stderr lines, a weak
    /// seam, an audio problem let through with `on_problem: warn`).
    case log(stage: String, level: Logger.Level, message: String)
}

/// Hands what a stage logs to the run's event stream as `.log` events, so progress displays
/// and `--json` consumers see it next to the stage's other events.
struct StageEventLogHandler: LogHandler {
    let stage: String
    let events: AsyncStream<ExecutionEvent>.Continuation
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        // Also when a stage lowers its logger's level (a multiplexer passes that on to us).
        guard event.level >= .info else { return }
        events.yield(.log(stage: stage, level: event.level, message: event.message.description))
    }
}

/// How a run behaves.
public struct ExecutionOptions: Sendable {
    /// At most this many stages of each pool at once; a pool not named here gets `defaultLimit`.
    public var poolLimits: [Pool: Int]
    /// The limit of every pool not in `poolLimits` (default: the core count).
    public var defaultLimit: Int
    /// Finish every branch that does not depend on a failure instead of stopping at the first.
    public var keepGoing: Bool

    public init(poolLimits: [Pool: Int] = [:], defaultLimit: Int = ProcessInfo.processInfo.activeProcessorCount,
                keepGoing: Bool = false) {
        self.poolLimits = poolLimits.mapValues { max(1, $0) }
        self.defaultLimit = max(1, defaultLimit)
        self.keepGoing = keepGoing
    }

    public func limit(_ pool: Pool) -> Int { poolLimits[pool] ?? defaultLimit }
}

/// What a run did, stage by stage.
public struct RunReport: Sendable {
    public struct StageReport: Sendable {
        public var stage: String
        public var kind: String
        public var key: String?
        public var cached: Bool
        public var started: Date?
        public var seconds: Double
        public var outputs: [String: Value]
        /// Why it failed, with the stage's own error inside (``PipelineError/underlying``).
        public var error: PipelineError?
        public var skipped: Bool
        /// What running it cost (``Cost/free`` for a cache hit, a skipped or failed stage).
        public var cost: Cost
    }

    public var stages: [String: StageReport]
    /// The pipeline's `outputs:`, resolved (after failures, those whose stages all succeeded).
    public var outputs: [String: Value]
    public var failures: [String: PipelineError]
    public var succeeded: Bool { failures.isEmpty && stages.values.allSatisfy { !$0.skipped } }
    /// What the run paid for, all stages together.
    public var cost: Cost { stages.values.map(\.cost).reduce(.free, +) }
    /// What was really paid for (not emulated).
    public var paid: Cost { stages.values.map(\.cost).filter { !$0.emulated }.reduce(.free, +) }
    /// What an emulator made in place of paid generations.
    public var emulated: Cost { stages.values.map(\.cost).filter(\.emulated).reduce(.free, +) }

    /// The first failure in the pipeline's order (the one to tell a person about).
    public func firstFailure(in pipeline: ValidatedPipeline) -> PipelineError? {
        pipeline.steps.lazy.compactMap { failures[$0.node.name] }.first ?? failures.values.first
    }
}
