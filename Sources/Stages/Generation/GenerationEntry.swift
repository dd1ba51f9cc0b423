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
    /// The profile it was made in (`--profile`), when the pipeline has profiles.
    public var profile: String?
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
    /// Submits whose outcome was not known (a 5xx answer, or the connection lost after the
    /// request went out), with why: each journaled before the stage looked in request history
    /// or sent the request again.
    public var ambiguous: [String]?
    /// The team member (`host:pid:…`) that submitted it, when another machine sharing the
    /// team's journal did: this machine polled that request and paid nothing for it.
    public var adoptedFrom: String?

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

    public init(key: String, pipeline: String, profile: String? = nil, stage: String, requestBody: Value, seconds: Int) {
        self.key = key
        self.pipeline = pipeline
        self.profile = profile
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

    /// This entry's request in request history, found by its body (an answer lost between
    /// the submit and its reply); nil when it never arrived. Looks from the day before the
    /// entry was made to today, up to a thousand requests.
    public func findInHistory(client: SeedanceClient) async throws -> HistoryEntry? {
        let day = DateFormatter()
        day.locale = Locale(identifier: "en_US_POSIX")
        day.timeZone = TimeZone(identifier: "UTC")
        day.dateFormat = "yyyy-MM-dd"
        let (from, to) = (day.string(from: createdAt.addingTimeInterval(-86_400)), day.string(from: Date()))
        for page in 1...10 {
            let listing = try await client.history(page: page, perPage: 100, from: from, to: to)
            for row in listing.data {
                if let body = row.requestBody, let value = try? Value(encoding: body), value == requestBody { return row }
            }
            if listing.data.count < 100 { break }
        }
        return nil
    }

    /// The generation journaled under an action key, if any.
    public static func find(_ key: String, in journal: any ActionJournal) async -> GenerationEntry? {
        guard let record = try? await journal.read(key) else { return nil }
        return try? record.payload.decode(GenerationEntry.self)
    }
}
