import Foundation
import Logging

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
