import Foundation
import Media
import Synchronization
import Testing

@Suite(.timeLimit(.minutes(10))) struct MediaThreadTests {
    final class Counter: Sendable {
        let value = Atomic<Int>(0)
    }

    /// Blocking media jobs, many more than the machine has cores, all run at once: each one
    /// waits inside its work until every other one has started. On the cooperative pool, or
    /// on a DispatchQueue (whose workers share the pool's per-core limit on Linux and grow by
    /// about one a second), the last ones would start seconds late; on a pool of fixed size,
    /// never, and the suite's time limit ends the test. No deadline here: how soon they start
    /// is the bench's to measure, not a test's to assert.
    @Test func blockingJobsAllRunAtOnce() async throws {
        let jobs = ProcessInfo.processInfo.activeProcessorCount * 4 + 4
        let started = Counter()
        let results = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<jobs {
                group.addTask {
                    try await MediaThread.run {
                        started.value.add(1, ordering: .sequentiallyConsistent)
                        while started.value.load(ordering: .sequentiallyConsistent) < jobs {
                            usleep(1000)
                        }
                        return started.value.load(ordering: .sequentiallyConsistent) == jobs
                    }
                }
            }
            return try await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results.count == jobs)
        #expect(results.allSatisfy { $0 }, "every job saw all the others started while it ran")
    }

    @Test func errorsReachTheCaller() async {
        struct Failure: Error {}
        await #expect(throws: Failure.self) { try await MediaThread.run { throw Failure() } }
    }
}
