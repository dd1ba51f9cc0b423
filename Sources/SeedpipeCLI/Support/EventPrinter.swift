import Foundation
import SeedpipeKit

/// Prints a run's events: plain lines on standard error (live lines on a terminal), or with
/// --json every event as one JSON line on standard output (docs/EVENTS.md).
struct EventPrinter {
    let json: Bool
    /// Stages' `info` log lines too, not only warnings and errors.
    var verbose = false

    func print(_ events: AsyncStream<RunEvent>) async {
        if !json && Terminal.standardErrorIsTerminal && !Terminal.isQuiet {
            // Live lines per running stage, redrawn as events come and every quarter second.
            let display = LiveDisplay(verbose: verbose)
            let ticker = Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(250))
                    await display.redraw()
                }
            }
            for await event in events { await display.handle(event) }
            ticker.cancel()
            await display.close()
            return
        }
        for await event in events {
            if json {
                Swift.print(event.jsonLine)
                Terminal.flush()
                if case .note(let level, let message) = event { Self.note(level: level, message) }
                continue
            }
            if let line = Self.line(for: event, verbose: verbose) {
                if case .failed = event { Terminal.error(line) } else { Terminal.note(line) }
            }
            if case .log(let stage, let level, let message) = event,
               let line = Self.logLine(stage: stage, level: level, message: message, verbose: verbose) {
                Terminal.error(line)
            }
            if case .note(let level, let message) = event { Self.note(level: level, message) }
        }
    }

    /// A note: a warning always, the rest unless --quiet.
    static func note(level: String, _ message: String) {
        if level == "info" { Terminal.note(message) } else { Terminal.error(message) }
    }

    /// The line a stage's event prints as (nil: none of its own).
    static func line(for event: RunEvent, verbose: Bool) -> String? {
        switch event {
        case .started(let stage, let kind): "▶ \(stage) (\(kind))"
        case .cacheHit(let stage, _): "• \(stage): cached"
        case .finished(let stage, _, let seconds): "✓ \(stage) \(String(format: "%.1f", seconds)) s"
        case .failed(let stage, let message): "✗ \(stage): \(message)"
        case .skipped(let stage, let because): "– \(stage): skipped (\(because) failed)"
        case .runStarted, .runFinished, .progress, .log, .note: nil
        }
    }

    /// A stage's log line for the console: warnings and errors always, `info` with --verbose.
    static func logLine(stage: String, level: String, message: String, verbose: Bool) -> String? {
        let warning = !["trace", "debug", "info", "notice"].contains(level)
        guard warning || verbose else { return nil }
        return "  \(stage): " + (warning ? "\(level): " : "") + message
    }
}
