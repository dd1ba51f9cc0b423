import Dispatch
import Foundation
import Pipeline
import Synchronization

/// Waits until the process gets SIGINT or SIGTERM, or until the waiting task is cancelled.
enum SignalWaiter {
    /// The signal that arrived, or nil when the task was cancelled first (the signals then
    /// get their default action back).
    static func waitForTermination() async -> Int32? {
        let wait = Wait()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Int32?, Never>) in
                wait.start(continuation)
            }
        } onCancel: {
            wait.finish(with: nil)
        }
    }

    /// The signal sources and the continuation: whichever comes first, a signal or a
    /// cancellation, resumes it once and takes the sources down.
    private final class Wait: Sendable {
        private struct State {
            var continuation: CheckedContinuation<Int32?, Never>?
            var sources: [DispatchSourceSignal] = []
            var finished = false
            var signalled = false
        }
        private let state = Mutex(State())

        func start(_ continuation: CheckedContinuation<Int32?, Never>) {
            let cancelledAlready = state.withLock { state -> Bool in
                if state.finished { return true }
                state.continuation = continuation
                for number in [SIGINT, SIGTERM] {
                    signal(number, SIG_IGN)
                    let source = DispatchSource.makeSignalSource(signal: number, queue: .main)
                    // Strong: after a signal the sources (and so this) live on, to catch a second one.
                    source.setEventHandler { self.finish(with: number) }
                    source.resume()
                    state.sources.append(source)
                }
                return false
            }
            if cancelledAlready { continuation.resume(returning: nil) }
        }

        /// A signal after the first (the command is winding down, cancelling, letting plugins
        /// end) ends the process at once, with its plugins, status 130. What was paid for is
        /// already in the journal, so the next run fetches it.
        func finish(with number: Int32?) {
            let (continuation, sources, again) = state.withLock { state in
                let again = state.finished && number != nil && state.signalled
                state.finished = true
                if number != nil { state.signalled = true }
                // After a signal the sources stay, to catch a second one.
                defer { state.continuation = nil; if number == nil { state.sources = [] } }
                return (state.continuation, number == nil ? state.sources : [], again)
            }
            if again {
                let line = "\nseedpipe: stopped at once (a second interrupt); what was paid for is in the journal, and the next run fetches it\n"
                _ = line.withCString { write(2, $0, strlen($0)) }
                PluginPrograms.killAll()
                _exit(130)
            }
            if number != nil, continuation != nil {
                let line = "\nseedpipe: stopping (interrupt again to stop at once)\n"
                _ = line.withCString { write(2, $0, strlen($0)) }
            }
            for source in sources { source.cancel() }
            if number == nil, !sources.isEmpty { for signalNumber in [SIGINT, SIGTERM] { signal(signalNumber, SIG_DFL) } }
            continuation?.resume(returning: number)
        }
    }
}
