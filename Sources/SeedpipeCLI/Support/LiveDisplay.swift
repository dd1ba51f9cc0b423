import Foundation
import SeedpipeKit

/// On a terminal: finished stages scroll up as lines; below them, one live line per
/// running stage (state, elapsed time, and a bar when the work has a size), redrawn in place.
actor LiveDisplay {
    private struct Running {
        var kind: String
        var started: Date
        var status: String
        var fraction: Double?
    }

    private var order: [String] = []
    private var running: [String: Running] = [:]
    private var drawn = 0
    private let verbose: Bool

    init(verbose: Bool = false) { self.verbose = verbose }

    func handle(_ event: RunEvent) {
        switch event {
        case .started(let stage, let kind):
            order.append(stage)
            running[stage] = Running(kind: kind, started: Date(), status: "running", fraction: nil)
        case .progress(let stage, let fraction, let status):
            running[stage]?.status = status
            running[stage]?.fraction = fraction
        case .finished(let stage, _, let seconds):
            finish(stage, line: "✓ \(stage) \(String(format: "%.1f", seconds)) s")
        case .cacheHit(let stage, _):
            finish(stage, line: "• \(stage): cached")
        case .failed(let stage, let message):
            finish(stage, line: "✗ \(stage): \(message)")
        case .skipped(let stage, let because):
            finish(stage, line: "– \(stage): skipped (\(because) failed)")
        case .log(let stage, let level, let message):
            if let line = EventPrinter.logLine(stage: stage, level: level, message: message, verbose: verbose) { emit(above: line) }
        case .note(_, let message):
            emit(above: message)
        case .runStarted, .runFinished:
            break
        }
        redraw()
    }

    private func finish(_ stage: String, line: String) {
        running[stage] = nil
        order.removeAll { $0 == stage }
        emit(above: line)
    }

    /// Prints a permanent line above the live block.
    private func emit(above line: String) {
        clear()
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    private func clear() {
        guard drawn > 0 else { return }
        var text = "\u{1B}[\(drawn)A"
        for _ in 0..<drawn { text += "\r\u{1B}[2K\n" }
        text += "\u{1B}[\(drawn)A"
        FileHandle.standardError.write(Data(text.utf8))
        drawn = 0
    }

    /// Redraws the live block (also called on a timer, so elapsed times move).
    func redraw() {
        clear()
        var text = ""
        for stage in order {
            guard let state = running[stage] else { continue }
            let elapsed = Int(Date().timeIntervalSince(state.started))
            var line = "  ▶ \(stage) (\(state.kind)) \(state.status) · \(elapsed / 60):\(String(format: "%02d", elapsed % 60))"
            if let fraction = state.fraction {
                let filled = Int((max(0, min(1, fraction)) * 20).rounded())
                line += " [" + String(repeating: "█", count: filled) + String(repeating: "·", count: 20 - filled)
                    + "] \(Int(fraction * 100))%"
            }
            text += "\r\u{1B}[2K" + line + "\n"
        }
        drawn = running.count
        FileHandle.standardError.write(Data(text.utf8))
    }

    func close() { clear() }
}
