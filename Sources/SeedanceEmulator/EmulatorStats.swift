/// Counters served at `GET /_emulator/stats`, so a test can prove what was (not) submitted.
public struct EmulatorStats: Sendable, Hashable, Codable {
    /// Billable generations accepted (v2 submits and v1 runs).
    public var submitted = 0
    /// Accepted submits whose body was accepted before: a client that paid twice for one clip.
    public var duplicates = 0
    public var completed = 0
    public var failed = 0
    /// Requests turned away: bad parameters, bad key, unknown model.
    public var rejected = 0
    public var queued = 0
    public var processing = 0
    public var syncRuns = 0
    public var uploads = 0
    public var faultsInjected = 0
    /// Downloads cut off halfway on purpose (`truncateRate`).
    public var truncated = 0
    /// Clips rendered (identical requests reuse an earlier render).
    public var rendered = 0
    /// USD billed for completed generations.
    public var billed = 0.0
    /// Requests answered 429 by the rate limit (`requestsPerWindow`), the most API requests
    /// admitted in any one window, and all it admitted (more than a window's worth without a
    /// 429: the requests were spread over more than one window).
    public var rateLimited = 0
    public var busiestWindow = 0
    public var admitted = 0

    enum CodingKeys: String, CodingKey {
        case submitted, duplicates, completed, failed, rejected, queued, processing, uploads, rendered, billed
        case syncRuns = "sync_runs", faultsInjected = "faults_injected", truncated, rateLimited = "rate_limited", busiestWindow = "busiest_window", admitted
    }

    public init() {}
}
