import Foundation
import Synchronization

/// The time source for every wait and deadline (polling, backoff, rate limits, an emulator's
/// latency and retention), injected so tests advance time instead of waiting it out.
public protocol APIClock: Sendable {
    /// Time since an arbitrary fixed origin.
    var now: Duration { get }
    /// The calendar time now, for what the wire carries as dates (a 429's reset time, an
    /// HTTP `Retry-After` date).
    var date: Date { get }
    func sleep(for duration: Duration) async throws
}

extension Duration {
    /// The duration in seconds, as a `TimeInterval`.
    public var timeInterval: TimeInterval {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}

/// Real time.
public struct SystemClock: APIClock {
    private let origin = ContinuousClock.now
    public init() {}
    public var now: Duration { ContinuousClock.now - origin }
    public var date: Date { Date() }
    public func sleep(for duration: Duration) async throws { try await Task.sleep(for: duration) }
}

/// Virtual time: `sleep` returns at once and moves the clock forward by the duration,
/// recording it, so a test can check every wait a retry or poll loop decided on.
public final class ImmediateClock: APIClock {
    private let state = Mutex<(now: Duration, sleeps: [Duration])>((.zero, []))
    private let origin: Date

    public init(origin: Date = Date()) { self.origin = origin }

    public var now: Duration { state.withLock { $0.now } }
    public var date: Date { origin.addingTimeInterval(now.timeInterval) }
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

/// Virtual time that stands still until the test moves it: a `sleep` suspends until
/// ``advance(by:)`` reaches its deadline (or the sleeping task is cancelled). A test holds a
/// generation in PROCESSING, a download in flight or a result inside its retention for as
/// long as it needs, then moves on by advancing, never by waiting. ``runFreely()`` releases
/// every sleeper and makes later sleeps return at once (moving time forward by their
/// duration, as ``ImmediateClock`` does): for the part of a test after its moment of interest.
public final class ManualClock: APIClock {
    private struct Sleeper {
        var deadline: Duration
        var continuation: CheckedContinuation<Void, any Error>
    }
    private struct State {
        var now: Duration = .zero
        var sleepers: [UInt64: Sleeper] = [:]
        var nextID: UInt64 = 0
        var free = false
    }
    private let state = Mutex(State())
    private let origin: Date

    public init(origin: Date = Date()) { self.origin = origin }

    /// A clock already running freely: every sleep returns at once.
    public static func free() -> ManualClock {
        let clock = ManualClock()
        clock.runFreely()
        return clock
    }

    public var now: Duration { state.withLock { $0.now } }
    public var date: Date { origin.addingTimeInterval(now.timeInterval) }
    /// How many tasks are sleeping on this clock now.
    public var sleepers: Int { state.withLock { $0.sleepers.count } }

    public func sleep(for duration: Duration) async throws {
        try Task.checkCancellation()
        let id: UInt64? = state.withLock { state in
            if state.free { state.now += max(duration, .zero); return nil }
            guard duration > .zero else { return nil }
            state.nextID += 1
            return state.nextID
        }
        guard let id else { await Task.yield(); return }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let resumeNow: Bool = state.withLock { state in
                    if state.free { return true }
                    state.sleepers[id] = Sleeper(deadline: state.now + duration, continuation: continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let sleeper = state.withLock { $0.sleepers.removeValue(forKey: id) }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves time forward, waking every sleeper whose deadline it reaches.
    public func advance(by duration: Duration) {
        let woken = state.withLock { state -> [Sleeper] in
            state.now += duration
            let due = state.sleepers.filter { $0.value.deadline <= state.now }
            for id in due.keys { state.sleepers.removeValue(forKey: id) }
            return Array(due.values)
        }
        for sleeper in woken { sleeper.continuation.resume() }
    }

    /// Wakes every sleeper now (time moves to the latest deadline) and lets every later sleep
    /// return at once.
    public func runFreely() {
        let woken = state.withLock { state -> [Sleeper] in
            state.free = true
            let sleepers = Array(state.sleepers.values)
            state.sleepers = [:]
            if let latest = sleepers.map(\.deadline).max() { state.now = max(state.now, latest) }
            return sleepers
        }
        for sleeper in woken { sleeper.continuation.resume() }
    }

    /// Stands still again after ``runFreely()``: sleeps wait for ``advance(by:)`` (or the next
    /// ``runFreely()``) once more.
    public func hold() {
        state.withLock { $0.free = false }
    }

    /// Waits (on real time, polling) until at least `count` tasks sleep on this clock: the
    /// moment a test may advance it, knowing whom it wakes. `limit` is a generous deadline
    /// that only a hang reaches.
    public func waitForSleepers(_ count: Int = 1, limit: Duration = .seconds(300)) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if sleepers >= count { return true }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return sleepers >= count
    }
}
