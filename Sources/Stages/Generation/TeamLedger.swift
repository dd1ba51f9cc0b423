import Foundation
import Pipeline

/// A journal of generations shared by a team's machines (SeedpipeKit's `SharedJournal`
/// keeps it in PostgreSQL): one row per generation action key, so that between them the
/// machines submit each clip once. `seedance.generate` claims a generation here before it
/// pays for it, and a machine that finds another's claim waits for it, polls its request, or
/// takes it over once its lease has run out.
///
/// Every write a claim makes is fenced by its epoch: a machine whose claim was taken over (it
/// was paused past its lease, say) cannot move the generation to `submitting`, so it never
/// submits what another machine now owns.
public protocol TeamLedger: Sendable {
    /// How long a claim holds without a heartbeat (the database's clock decides).
    var lease: Duration { get }

    /// Claims the generation of `key` for this machine, or says who has it and how far it got.
    func claim(_ key: String, pipeline: String, stage: String) async throws -> TeamClaim

    /// Keeps a claim alive; false once it was taken over.
    func renew(_ seat: TeamSeat) async throws -> Bool

    /// About to send `body`: checks the team's budget for `estimate` USD and moves the claim to
    /// `submitting` in one transaction, only while the claim is this machine's and its lease
    /// has not run out (``TeamLedgerError/lostClaim`` otherwise; ``TeamLedgerError/overBudget(_:)``
    /// when the team's daily budget would be passed).
    func beginSubmit(_ seat: TeamSeat, body: Value, seconds: Int, estimate: Double) async throws

    /// The submit answered: its request id is recorded (a fact, kept even when the claim was
    /// taken over meanwhile, unless another request id is recorded already).
    func submitted(_ seat: TeamSeat, requestID: String) async throws

    /// The generation of `requestID` finished, was billed `cost`, and its outputs are these
    /// store digests (whoever downloaded it).
    func done(_ key: String, requestID: String, cost: Double?, outputs: [String: Value]) async throws

    /// The generation of `requestID` ended FAILED: the next claim takes it over at once.
    func failed(_ key: String, requestID: String, error: String) async throws

    /// Gives up a claim that never submitted (an upload failed, say), so another machine need
    /// not wait for its lease.
    func release(_ seat: TeamSeat) async throws
}

/// A generation's state in the team's journal.
public enum TeamGenerationState: String, Sendable, Codable, CaseIterable {
    /// A machine has it and has not sent it yet.
    case claimed
    /// Its owner is sending it: the request body is recorded, no answer yet.
    case submitting
    /// It was accepted: the request id is recorded (others poll it, never submit).
    case submitted
    /// It finished.
    case done
    /// It ended FAILED, or its owner gave it up before submitting: free to claim.
    case failed
    /// Its owner vanished while submitting: whether the service took it is settled through
    /// request history before anything is sent again.
    case uncertain
}

/// One row of the team's journal, as a claim finds it.
public struct TeamGeneration: Sendable, Codable, Hashable {
    public var key: String
    public var pipeline: String
    public var stage: String
    public var state: TeamGenerationState
    /// Who has it (or had it): `host:pid:…`.
    public var owner: String
    public var epoch: Int
    /// Whether its lease has run out (by the database's clock).
    public var leaseExpired: Bool
    public var requestID: String?
    public var requestBody: Value?
    /// The outputs' store digests, once done (`video`, `last_frame`).
    public var outputs: [String: Value]?
    public var seconds: Int?
    public var cost: Double?
    public var estimate: Double?
    public var updatedAt: Date?

    public init(key: String, pipeline: String, stage: String, state: TeamGenerationState, owner: String, epoch: Int,
                leaseExpired: Bool, requestID: String? = nil, requestBody: Value? = nil, outputs: [String: Value]? = nil,
                seconds: Int? = nil, cost: Double? = nil, estimate: Double? = nil, updatedAt: Date? = nil) {
        self.outputs = outputs
        self.key = key
        self.pipeline = pipeline
        self.stage = stage
        self.state = state
        self.owner = owner
        self.epoch = epoch
        self.leaseExpired = leaseExpired
        self.requestID = requestID
        self.requestBody = requestBody
        self.seconds = seconds
        self.cost = cost
        self.estimate = estimate
        self.updatedAt = updatedAt
    }
}

/// This machine's hold on one generation, at one epoch.
public struct TeamSeat: Sendable, Hashable {
    public var key: String
    public var owner: String
    public var epoch: Int
    /// The body of a submit whose outcome is unknown, when this claim took over a generation
    /// whose owner vanished while submitting: it is looked for in request history first.
    public var uncertainBody: Value?

    public init(key: String, owner: String, epoch: Int, uncertainBody: Value? = nil) {
        self.key = key
        self.owner = owner
        self.epoch = epoch
        self.uncertainBody = uncertainBody
    }
}

/// What a claim found.
public enum TeamClaim: Sendable {
    /// This machine has it: submit (or settle the uncertain body first).
    case owned(TeamSeat)
    /// Another machine's request was accepted (or finished): poll it, never submit.
    case accepted(TeamGeneration)
    /// Another machine has it and its lease holds: wait.
    case busy(TeamGeneration)
}

public enum TeamLedgerError: Error, Sendable, CustomStringConvertible {
    /// The claim was taken over (its lease ran out): look again.
    case lostClaim(String)
    /// The team's daily budget would be passed.
    case overBudget(String)
    /// The database could not be reached.
    case unreachable(String)

    public var description: String {
        switch self {
        case .lostClaim(let message), .overBudget(let message), .unreachable(let message): message
        }
    }
}
