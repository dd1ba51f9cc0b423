/// When and how long to wait before trying a request again: exponential backoff with
/// jitter, honouring the server's Retry-After.
public struct RetryPolicy: Sendable, Hashable {
    /// Tries in all, the first included (1 = no retry). The default, 10, rides out a service
    /// failing a third of its answers (6 ran out on one download in ten 6-shot runs) and an
    /// outage of about three minutes (backoff 1, 2, 4, 8, 16, then 30 s).
    public var maximumAttempts: Int
    /// Wait before the second try; doubled for each later one.
    public var baseDelay: Duration
    /// Longest computed wait.
    public var maximumDelay: Duration
    /// Up to this fraction of the wait is added at random, so many clients do not retry in step.
    public var jitter: Double
    /// Longest Retry-After honoured; a server asking for more makes the request fail instead.
    public var maximumRetryAfter: Duration
    /// Tries in all when a server on this machine refuses the connection (nothing listens
    /// there), each retry after half a second at most.
    public var refusedLoopbackAttempts: Int

    public init(maximumAttempts: Int = 10, baseDelay: Duration = .seconds(1), maximumDelay: Duration = .seconds(30),
                jitter: Double = 0.25, maximumRetryAfter: Duration = .seconds(120), refusedLoopbackAttempts: Int = 2) {
        self.refusedLoopbackAttempts = refusedLoopbackAttempts
        self.maximumAttempts = maximumAttempts
        self.baseDelay = baseDelay
        self.maximumDelay = maximumDelay
        self.jitter = jitter
        self.maximumRetryAfter = maximumRetryAfter
    }

    /// No retries.
    public static let none = RetryPolicy(maximumAttempts: 1)

    /// The wait before try number `attempt + 1` (attempt counts from 1), or nil when the
    /// tries are used up or the server asked for a longer wait than `maximumRetryAfter`.
    public func delay(afterAttempt attempt: Int, retryAfter: Duration? = nil,
                      random: Double = Double.random(in: 0...1)) -> Duration? {
        guard attempt < maximumAttempts else { return nil }
        if let retryAfter {
            return retryAfter <= maximumRetryAfter ? retryAfter : nil
        }
        let exponential = baseDelay * (1 << min(attempt - 1, 30))
        let capped = min(exponential, maximumDelay)
        return capped + capped * (jitter * random)
    }
}
