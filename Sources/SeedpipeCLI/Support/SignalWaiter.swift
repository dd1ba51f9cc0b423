import Dispatch
import Foundation
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
        }
        private let state = Mutex(State())

        func start(_ continuation: CheckedContinuation<Int32?, Never>) {
            let cancelledAlready = state.withLock { state -> Bool in
                if state.finished { return true }
                state.continuation = continuation
                for number in [SIGINT, SIGTERM] {
                    signal(number, SIG_IGN)
                    let source = DispatchSource.makeSignalSource(signal: number, queue: .main)
                    source.setEventHandler { [weak self] in self?.finish(with: number) }
                    source.resume()
                    state.sources.append(source)
                }
                return false
            }
            if cancelledAlready { continuation.resume(returning: nil) }
        }

        func finish(with number: Int32?) {
            let (continuation, sources) = state.withLock { state in
                state.finished = true
                defer { state.continuation = nil; state.sources = [] }
                return (state.continuation, state.sources)
            }
            for source in sources { source.cancel() }
            if number == nil, !sources.isEmpty { for signalNumber in [SIGINT, SIGTERM] { signal(signalNumber, SIG_DFL) } }
            continuation?.resume(returning: number)
        }
    }
}
