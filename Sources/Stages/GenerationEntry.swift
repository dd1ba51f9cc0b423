import Foundation
import Pipeline
import SeedanceAPI

/// One Seedance generation as the journal knows it: the payload `seedance.generate` keeps
/// in its action's journal record, written durably before each step that costs money.
public struct GenerationEntry: Sendable, Codable, Hashable {
    public enum State: String, Sendable, Codable {
        /// About to submit: the body is recorded, no answer yet (the submit may or may not have happened).
        case intent
        /// The submit answered: the request id is known and the generation is paid for.
        case submitted
        /// The generation finished; its output URLs are known.
        case completed
        /// The output is in the artifact store.
        case downloaded
        /// It ended FAILED (nothing to recover).
        case failed
    }

    /// The action key of the stage run (one generation per key).
    public var key: String
    public var pipeline: String
    public var stage: String
    public var state: State
    /// The request body as sent, without secrets.
    public var requestBody: Value
    public var requestID: String?
    public var outputURL: String?
    public var lastFrameURL: String?
    /// Store digests once downloaded.
    public var outputs: [String: Value]?
    public var error: String?
    public var createdAt: Date
    public var updatedAt: Date
    /// Seconds of video this generation pays for.
    public var seconds: Int
    /// Earlier attempts refused by moderation (not billed), oldest first.
    public var refusals: [Refusal]?
    /// What the generation was billed, USD: the service's `metrics.cost` (or request
    /// history's `credits_deduction`), when it says.
    public var cost: Double?
    /// The account's balance after it, when the service says.
    public var remainingCredits: Double?
    /// What this run reserved for it under a spending limit (estimated before submitting).
    public var estimate: Double?
    /// Made by an emulator (the built-in one, or a server that says it is one): nothing paid,
    /// no price learned from it; nil for the real service.
    public var emulated: Bool?

    /// The resolution it was asked for.
    public var resolution: String { requestBody.object?["resolution"]?.string ?? "720p" }

    /// An attempt moderation refused: its seed and the service's reason.
    public struct Refusal: Sendable, Codable, Hashable {
        public var seed: Int
        public var reason: String
        public init(seed: Int, reason: String) {
            self.seed = seed
            self.reason = reason
        }
    }

    /// The seed the request was sent with.
    public var seed: Int? { requestBody.object?["seed"]?.number.map { Int($0) } }

    /// Whether a failure is a moderation refusal (the generation ended FAILED for its
    /// content, and was not billed), which a new seed may get through.
    public static func isRefusal(_ error: any Error) -> Bool {
        let text = reason(of: error).lowercased()
        let failed = (error as? SeedanceError)?.code == .inferenceFailed || (error as? StageError)?.code == .generationFailed
        return failed && ["moderation", "safety filter", "content policy", "blocked"].contains { text.contains($0) }
    }

    /// The service's reason for a failure.
    static func reason(of error: any Error) -> String {
        if let error = error as? SeedanceError { return error.message }
        if let error = error as? StageError { return error.message }
        return "\(error)"
    }

    public init(key: String, pipeline: String, stage: String, requestBody: Value, seconds: Int) {
        self.key = key
        self.pipeline = pipeline
        self.stage = stage
        self.state = .intent
        self.requestBody = requestBody
        self.seconds = seconds
        createdAt = Date()
        updatedAt = createdAt
    }

    /// The generations in a journal (records other stages wrote are left out), newest first.
    public static func all(in journal: any ActionJournal) async throws -> [GenerationEntry] {
        try await journal.all().filter { $0.kind == GenerateStage.kind || $0.kind.isEmpty }
            .compactMap { try? $0.payload.decode(GenerationEntry.self) }
            .sorted { $0.createdAt > $1.createdAt }
    }

    /// The generation journaled under an action key, if any.
    public static func find(_ key: String, in journal: any ActionJournal) async -> GenerationEntry? {
        guard let record = try? await journal.read(key) else { return nil }
        return try? record.payload.decode(GenerationEntry.self)
    }
}

/// A file uploaded to the service's storage: journaled by its digest so it is uploaded once.
public struct UploadEntry: Sendable, Codable, Hashable {
    public static let kind = "seedance.upload"
    public var digest: String
    /// The storage endpoint it went to (an upload to another storage is another upload).
    public var storage: String
    public var url: String
    public var uploadedAt: Date
}

/// Runs one piece of work per key at a time in a process; others with the key await it.
public actor Coalescer<Result: Sendable> {
    private var running: [String: Task<Result, any Error>] = [:]
    public init() {}

    public func run(_ key: String, _ work: @escaping @Sendable () async throws -> Result) async throws -> Result {
        if let task = running[key] { return try await task.value }
        let task = Task { try await work() }
        running[key] = task
        defer { running[key] = nil }
        return try await task.value
    }
}

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

    public init(client: SeedanceClient, pollInterval: Duration = .seconds(2), waitTimeout: Duration = .seconds(3600),
                budget: SpendingLimit? = nil, emulated: Bool = false) {
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

/// Shuts submitting for a whole run after an answer that no later submit can change
/// (402/406 out of credits, 410 a retired model): later submits fail at once, unsent.
public actor SubmitGate {
    private var reason: StageError?
    public init() {}

    /// Throws the reason submitting stopped, if it did.
    public func check() throws { if let reason { throw reason } }

    /// Records the reason; returns the error a stage should throw.
    @discardableResult
    public func close(_ error: SeedanceError) -> StageError {
        let cause = error.code == .modelRetired ? "the model was retired (HTTP 410)" : "the account is out of credits or at its spend limit"
        let stop = StageError(.stopped, "stopped submitting: \(cause): \(error.message)", underlying: error)
        reason = reason ?? stop
        return reason!
    }
}

/// `--max-cost`: what the run may spend. A submit reserves its estimate; one that would
/// take spent + reserved past the limit is refused, and stops the run's submitting.
public actor SpendingLimit {
    public let limit: Double
    public private(set) var spent = 0.0
    /// What submits of this run still running reserved, by action key.
    private var reservations: [String: Double] = [:]
    private var reserved: Double { reservations.values.reduce(0, +) }

    public init(limit: Double) { self.limit = limit }

    /// Reserves `estimate` for the submit of action `key`, or throws when it would pass the limit.
    public func reserve(_ estimate: Double, key: String, for shot: String) throws {
        guard spent + reserved + estimate <= limit + 1e-9 else {
            throw StageError(.stopped, String(format: "stopped submitting: %@ would take the spend to $%.2f, over --max-cost $%.2f ($%.2f spent, $%.2f running)",
                                              shot, spent + reserved + estimate, limit, spent, reserved))
        }
        reservations[key] = estimate
    }

    /// The generation of action `key` ended: `actual` was billed (a generation submitted by
    /// an earlier run reserved nothing here, and its bill counts all the same).
    public func settle(_ key: String, actual: Double) {
        reservations[key] = nil
        spent += actual
    }
}

/// What generations cost, USD per second of video by resolution: from `--price-per-second`
/// (every resolution), else learned from what earlier generations were billed.
public struct PriceBook: Sendable, Hashable {
    public var perSecond: [String: Double]
    /// One price for every resolution (given by the user, or an emulator's bill).
    public var flat: Double?
    /// The prices of an emulator's bills: the costs they give are emulated.
    public var emulated: Bool

    public init(perSecond: [String: Double] = [:], flat: Double? = nil, emulated: Bool = false) {
        self.perSecond = perSecond
        self.flat = flat
        self.emulated = emulated
    }

    /// USD per second at a resolution, when known.
    public func price(resolution: String) -> Double? { flat ?? perSecond[resolution] }

    /// Prices learned from a journal's generations that the service billed (the newest per
    /// resolution); never from an emulator's.
    public static func learned(from entries: [GenerationEntry]) -> PriceBook {
        var prices: [String: Double] = [:]
        for entry in entries.sorted(by: { $0.updatedAt > $1.updatedAt }) where prices[entry.resolution] == nil && entry.emulated != true {
            if let cost = entry.cost, cost > 0, entry.seconds > 0 { prices[entry.resolution] = cost / Double(entry.seconds) }
        }
        return PriceBook(perSecond: prices)
    }
}
