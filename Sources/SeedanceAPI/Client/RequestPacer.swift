import Foundation

/// A plan's request rate: at most `requests` API requests in any `window`.
public struct RateLimit: Sendable, Hashable {
    public var requests: Int
    public var window: Duration

    public init(requests: Int, per window: Duration = .seconds(60)) {
        self.requests = max(1, requests)
        self.window = window
    }

    /// `--rpm N`: requests per minute, as Segmind's plans count them.
    public static func perMinute(_ requests: Int) -> RateLimit { RateLimit(requests: requests) }
}

/// Keeps a client (all its copies, so every generation of a run) under a ``RateLimit``, so
/// 40 shots do not fire 40 submits into 429s. A request holds its slot from when it is sent
/// until a window after its answer came back: the server saw it before that answer, so a
/// request sent once the slot frees reaches the server a whole window later however long
/// either took on the way (a sliding window, the strictest reading of "per minute"). It
/// waits on the client's clock, so tests need not.
actor RequestPacer {
    let limit: RateLimit
    let clock: any APIClock
    /// Per slot taken: when its request's answer came back (nil while it is in flight).
    private var slots: [Int: Duration?] = [:]
    private var nextTicket = 0
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(_ limit: RateLimit, clock: any APIClock) {
        self.limit = limit
        self.clock = clock
    }

    /// Returns when one more request may be sent; hand the ticket to `done` when its answer is in.
    func admit() async throws -> Int {
        while true {
            try Task.checkCancellation()
            let now = clock.now
            slots = slots.filter { _, finished in finished.map { now - $0 < limit.window } ?? true }
            if slots.count < limit.requests {
                nextTicket += 1
                slots[nextTicket] = .some(nil)
                return nextTicket
            }
            let frees = slots.values.compactMap { $0 }.map { $0 + limit.window - now }.min()
            if let frees {
                try await clock.sleep(for: max(frees, .milliseconds(1)))
            } else {
                // Every slot is in flight: wait for an answer.
                await withCheckedContinuation { waiters.append($0) }
            }
        }
    }

    func done(_ ticket: Int) {
        guard slots[ticket] != nil else { return }
        slots[ticket] = .some(clock.now)
        let woken = waiters
        waiters = []
        for waiter in woken { waiter.resume() }
    }
}
