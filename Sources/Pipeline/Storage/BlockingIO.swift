import Foundation
import NIOPosix

/// File work off Swift's cooperative pool: reads, writes, hashing, renames and fsyncs run on
/// a SwiftNIO thread pool of their own and are awaited, so a slow disk never holds one of
/// the (core-count many) cooperative threads that polls, uploads and the scheduler need.
/// The pool is larger than the core count: its threads mostly wait on the disk (an fsync of
/// the journal can take a while on a busy one), and one slow write must not queue the rest.
public enum BlockingIO {
    static let pool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: max(8, 2 * ProcessInfo.processInfo.activeProcessorCount))
        pool.start()
        return pool
    }()

    /// Runs `body` on the I/O thread pool.
    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await pool.runIfActive(body)
    }
}
