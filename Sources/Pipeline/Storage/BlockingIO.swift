import NIOPosix

/// File work off Swift's cooperative pool: reads, writes, hashing, renames and fsyncs run on
/// SwiftNIO's blocking-I/O thread pool and are awaited, so a slow disk never holds one of
/// the (core-count many) cooperative threads that polls, uploads and the scheduler need.
public enum BlockingIO {
    /// Runs `body` on the I/O thread pool.
    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await NIOThreadPool.singleton.runIfActive(body)
    }
}
