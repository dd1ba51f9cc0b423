import Foundation

/// Runs blocking media work (decoding, encoding, rendering) on a thread of its own and
/// awaits it, so the work never occupies Swift's cooperative pool.
///
/// Every Media operation is synchronous and CPU-bound. Called straight from async code it
/// holds one of the pool's threads, and the pool has only as many threads as the machine has
/// cores; on a two-core machine, two running concats would stall every poll, upload and HTTP
/// answer behind them. A `DispatchQueue` does not help on Linux, because its workers share
/// the same per-core limit as the pool. A thread per call costs tens of microseconds, which
/// is nothing beside media work, and lets the kernel share the cores fairly.
public enum MediaThread {
    /// `work`'s result, computed on a new thread. Cancellation is not observed: the work runs
    /// to its end (Media operations are bounded by their input).
    public static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread { continuation.resume(with: Result { try work() }) }
            thread.name = "seedpipe.media"
            // Room for FFmpeg's and x264's stack use on deep call chains.
            thread.stackSize = 8 << 20
            thread.start()
        }
    }
}
