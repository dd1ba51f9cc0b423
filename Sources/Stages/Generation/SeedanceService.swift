import Foundation
import Pipeline
import SeedanceAPI

/// What `seedance.generate` needs from the run: the client, how often to poll and how long
/// to wait. The client carries its own clock for backoff and polling (`ImmediateClock` in tests).
public struct SeedanceService: Sendable {
    public var client: SeedanceClient
    /// Between status polls.
    public var pollInterval: Duration
    /// Longest wait in one run (the request keeps running after; a rerun resumes it).
    public var waitTimeout: Duration

    /// Uploads under way, so two shots sending one file upload it once.
    public let uploads = Coalescer<String>()
    /// Closed for the rest of the run once the account is out of credits or the model retired.
    public let gate = SubmitGate()
    /// The run's spending limit (`--max-cost`), if any.
    public let budget: SpendingLimit?
    /// The client talks to an emulator: what it makes is emulated, not paid.
    public var emulated: Bool
    /// After an ambiguous submit (a 5xx answer, or the connection lost after sending), how long
    /// request history is watched for it before the request is sent again (history may lag).
    /// Longer is safer against paying twice; shorter recovers sooner.
    public var historyGrace: Duration
    public static let defaultHistoryGrace: Duration = .seconds(30)
    /// The team's shared journal, when machines share their generations: each is claimed
    /// there before it is paid for (``TeamLedger``).
    public var team: (any TeamLedger)?

    public init(client: SeedanceClient, pollInterval: Duration = .seconds(2), waitTimeout: Duration = .seconds(3600),
                budget: SpendingLimit? = nil, emulated: Bool = false, historyGrace: Duration = defaultHistoryGrace,
                team: (any TeamLedger)? = nil) {
        self.team = team
        self.historyGrace = historyGrace
        self.budget = budget
        self.emulated = emulated
        self.client = client
        self.pollInterval = pollInterval
        self.waitTimeout = waitTimeout
    }
}

extension Pool {
    /// Remote Seedance generations: `seedpipe run --jobs N` sets its limit.
    public static let seedance = Pool("seedance")
}
