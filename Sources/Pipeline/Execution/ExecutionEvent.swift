import Foundation
import Logging

/// What happens during a run, as an `AsyncStream` for progress displays and other tools.
public enum ExecutionEvent: Sendable {
    case started(stage: String, kind: String)
    case progress(stage: String, fraction: Double?, status: String)
    case cacheHit(stage: String, key: String)
    case finished(stage: String, key: String, seconds: Double)
    case failed(stage: String, message: String)
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
    /// At most this many stages of each pool at once (`seedance` 4, `cpu` the core count).
    public var poolLimits: [String: Int]
    /// Finish every branch that does not depend on a failure instead of stopping at the first.
    public var keepGoing: Bool

    public init(poolLimits: [String: Int] = [:], keepGoing: Bool = false) {
        var limits = ["seedance": 4, "cpu": ProcessInfo.processInfo.activeProcessorCount]
        for (pool, limit) in poolLimits { limits[pool] = max(1, limit) }
        self.poolLimits = limits
        self.keepGoing = keepGoing
    }

    func limit(_ pool: Pool) -> Int { poolLimits[pool.name] ?? ProcessInfo.processInfo.activeProcessorCount }
}

/// What a run did, stage by stage.
public struct RunReport: Sendable {
    public struct StageReport: Sendable, Codable {
        public var stage: String
        public var kind: String
        public var key: String?
        public var cached: Bool
        public var started: Date?
        public var seconds: Double
        public var outputs: [String: Value]
        public var error: String?
        public var skipped: Bool
    }

    public var stages: [String: StageReport]
    /// The pipeline's `outputs:`, resolved.
    public var outputs: [String: Value]
    public var failures: [String: String]
    public var succeeded: Bool { failures.isEmpty && stages.values.allSatisfy { !$0.skipped } }
}

/// The first failure of a run, naming the stage.
public struct StageFailure: Error, Sendable, CustomStringConvertible {
    public var stage: String
    public var message: String
    public var report: RunReport?

    public init(stage: String, message: String, report: RunReport? = nil) {
        self.stage = stage
        self.message = message
        self.report = report
    }

    public var description: String { "stage `\(stage)` failed: \(message)" }
}
