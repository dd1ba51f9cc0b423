import Foundation

/// One line of progress: rewritten in place on a terminal, a new line per change otherwise.
final class ProgressLine: @unchecked Sendable {
    private let lock = NSLock()
    private var last = ""

    func update(_ text: String) {
        lock.lock()
        defer { lock.unlock() }
        if Terminal.standardErrorIsTerminal {
            Terminal.progress(text)
        } else if text.split(separator: " ").first != last.split(separator: " ").first {
            Terminal.note(text)
        }
        last = text
    }

    func finish() {
        if Terminal.standardErrorIsTerminal && !last.isEmpty { Terminal.progress(last, done: true) }
    }
}
