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
