import Synchronization

/// The time source for polling, backoff and timeouts, injected so tests never sleep for real.
public protocol APIClock: Sendable {
    /// Time since an arbitrary fixed origin.
    var now: Duration { get }
    func sleep(for duration: Duration) async throws
}

/// Real time.
public struct SystemClock: APIClock {
    private let origin = ContinuousClock.now
    public init() {}
    public var now: Duration { ContinuousClock.now - origin }
    public func sleep(for duration: Duration) async throws { try await Task.sleep(for: duration) }
}

/// Virtual time: `sleep` returns at once and moves the clock forward by the duration,
/// recording it, so a test can check every wait a retry or poll loop decided on.
public final class ImmediateClock: APIClock {
    private let state = Mutex<(now: Duration, sleeps: [Duration])>((.zero, []))

    public init() {}

    public var now: Duration { state.withLock { $0.now } }
    /// Every sleep asked for, in order.
    public var sleeps: [Duration] { state.withLock { $0.sleeps } }

    public func sleep(for duration: Duration) async throws {
        try Task.checkCancellation()
        state.withLock {
            $0.now += duration
            $0.sleeps.append(duration)
        }
        await Task.yield()
    }

    /// Moves time forward without a sleep (as if work took this long).
    public func advance(by duration: Duration) {
        state.withLock { $0.now += duration }
    }
}
