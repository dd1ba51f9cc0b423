import Foundation
import Logging

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
    /// What this run really paid for (not emulated, not paid by an earlier run and resumed).
    public var paid: Cost { stages.values.map(\.cost).filter { !$0.emulated && !$0.resumed }.reduce(.free, +) }
    /// What an emulator made in place of paid generations (in this run).
    public var emulated: Cost { stages.values.map(\.cost).filter { $0.emulated && !$0.resumed }.reduce(.free, +) }
    /// Generations an earlier, interrupted run sent that this one fetched: nothing new paid.
    public var resumed: Cost { stages.values.map(\.cost).filter(\.resumed).reduce(.free, +) }

    /// The first failure in the pipeline's order (the one to tell a person about).
    public func firstFailure(in pipeline: ValidatedPipeline) -> PipelineError? {
        pipeline.steps.lazy.compactMap { failures[$0.node.name] }.first ?? failures.values.first
    }
}
