import Foundation
import SeedanceAPI

/// How the emulator behaves: where it listens, how long generations take, and how often
/// it misbehaves on purpose.
public struct EmulatorConfiguration: Sendable {
    /// Address to bind (loopback by default).
    public var host: String
    /// Port to bind; 0 picks a free one.
    public var port: Int
    /// The key every API request must carry as `x-api-key`; nil accepts any non-empty key
    /// (a request without one still gets 401).
    public var apiKey: String?
    /// Time a generation spends PROCESSING (rendering counts towards it).
    public var latency: Duration
    /// Generations processed at once; the rest wait QUEUED.
    public var workers: Int
    /// How long a finished result can be fetched before it answers 404.
    public var retention: Duration
    /// A prompt containing this ends FAILED, like a moderation block, whatever the seed.
    public var blockedWord: String
    /// Fraction (0…1) of generations refused by moderation, decided by a hash of prompt and
    /// seed: the same request is always refused or always not, and another seed may pass.
    /// `skip_moderation` bypasses it (as it bypasses the real pre-filter).
    public var moderationRate: Double
    /// Colour drift of each clip (``SceneClip/drift``): 0 keeps colour steady; 0.1 warms each
    /// chained clip visibly further, as real chains do.
    public var drift: Double = 0
    /// Frames per second of rendered clips.
    public var frameRate: Int
    /// libx264 preset for rendered clips.
    public var preset: String
    /// What a completed generation costs, USD per second of video: `metrics.cost` in results,
    /// `credits_deduction` in request history (a FAILED one costs nothing).
    public var pricePerSecond: Double
    /// Prices by resolution (`480p`, `720p`, `1080p`), USD per second, where they differ from
    /// ``pricePerSecond`` (`serve --cost-per-second 480p=0.02,1080p=0.10`).
    public var pricesByResolution: [String: Double] = [:]

    /// What a second of video at `resolution` costs.
    public func price(resolution: String) -> Double { pricesByResolution[resolution] ?? pricePerSecond }
    /// The account's balance in USD; nil is unlimited. A submit it does not cover (counting
    /// generations still running) answers 406; results carry `metrics.remaining_credits`.
    public var credits: Double?
    /// API requests allowed per `rateWindow` (sliding); more answer 429 with
    /// `x-rate-limit-reset-at-utc` (and no Retry-After). Nil is unlimited.
    public var requestsPerWindow: Int?
    /// The rate limit's window: a minute, as the real service counts.
    public var rateWindow: Duration
    /// Where rendered clips, frames and uploads are kept; nil makes a temporary folder.
    public var storage: URL?
    /// Misbehaviour on purpose.
    public var faults: FaultRates
    /// Answers `GET /_emulator/identity` (that it is seedpipe's emulator, and its price), so
    /// seedpipe labels what it makes emulated rather than paid. Off where a test has the
    /// emulator stand in for the paid service.
    public var identifiesAsEmulator = true
    /// A new request appears in request history only after this long (`serve --history-lag`).
    public var historyLag: Duration = .zero
    /// The fraction of file downloads whose body stops midway, the connection closed
    /// (`serve --truncate-rate`). File URLs honour `Range`, so a client can resume.
    public var truncateRate: Double = 0
    /// Whether file URLs answer `Range` with 206 (false: the whole file, as some servers do).
    public var honoursRange = true
    /// The time every wait and deadline of the emulator follows: a generation's latency, a
    /// result's retention, the rate limit's window and reset time, history's lag, a fault's
    /// delay. Real time by default; tests hand in a `ManualClock` or `ImmediateClock` and move
    /// time on instead of waiting it out.
    public var clock: any APIClock = SystemClock()

    /// What seedpipe's emulators bill by default from the command line, USD per second: the
    /// built-in offline emulator and `seedpipe serve` alike (emulated work costs nothing;
    /// `seedpipe serve --cost-per-second` prices it to try the money rules).
    public static let commandLinePricePerSecond = 0.0

    public init(
        host: String = "127.0.0.1", port: Int = 0, apiKey: String? = nil, latency: Duration = .seconds(5),
        workers: Int = 4, retention: Duration = .seconds(3600), blockedWord: String = "moderation-test", moderationRate: Double = 0,
        frameRate: Int = 24, preset: String = "veryfast", pricePerSecond: Double = 0.03, credits: Double? = nil,
        requestsPerWindow: Int? = nil, rateWindow: Duration = .seconds(60), storage: URL? = nil,
        faults: FaultRates = FaultRates(), identifiesAsEmulator: Bool = true
    ) {
        self.identifiesAsEmulator = identifiesAsEmulator
        self.credits = credits
        self.requestsPerWindow = requestsPerWindow
        self.rateWindow = rateWindow
        self.host = host
        self.port = port
        self.apiKey = apiKey
        self.latency = latency
        self.workers = max(1, workers)
        self.retention = retention
        self.blockedWord = blockedWord
        self.moderationRate = min(max(moderationRate, 0), 1)
        self.frameRate = frameRate
        self.preset = preset
        self.pricePerSecond = pricePerSecond
        self.storage = storage
        self.faults = faults
    }

    /// Whether `moderationRate` refuses a request with this prompt and seed (tests use it
    /// to find a seed that is refused and one that passes).
    public func refuses(prompt: String, seed: Int?, skipModeration: Bool = false) -> Bool {
        !skipModeration && ClipRenderer.refused(GenerationRequest(prompt: prompt, seed: seed), rate: moderationRate)
    }
}

/// Probabilities (0…1) of answering an API request badly instead of properly.
public struct FaultRates: Sendable, Hashable, Codable {
    public var rateLimited: Double
    public var serverError: Double
    public var badGateway: Double
    public var gatewayTimeout: Double
    /// Close the connection without an answer. A submit is accepted first (the hard case).
    public var dropConnection: Double
    /// Answer after `slowDelay`.
    public var slow: Double
    public var slowDelay: Double
    /// Seconds sent in Retry-After with a 429.
    public var retryAfter: Double
    /// Seed of the dice, so a faulty run can be replayed.
    public var seed: UInt64
    /// Of the 502 and 504 answers to a submit, the fraction that come after the job was
    /// accepted (it runs and bills), as a real gateway's can.
    public var gatewayAccepts: Double?

    enum CodingKeys: String, CodingKey {
        case rateLimited = "rate_429", serverError = "rate_500", badGateway = "rate_502", gatewayTimeout = "rate_504"
        case dropConnection = "rate_drop", slow = "rate_slow", slowDelay = "slow_delay", retryAfter = "retry_after", seed
        case gatewayAccepts = "gateway_accepts"
    }

    public init(rateLimited: Double = 0, serverError: Double = 0, badGateway: Double = 0, gatewayTimeout: Double = 0,
                dropConnection: Double = 0, slow: Double = 0, slowDelay: Double = 2, retryAfter: Double = 1,
                seed: UInt64 = 1) {
        self.rateLimited = rateLimited
        self.serverError = serverError
        self.badGateway = badGateway
        self.gatewayTimeout = gatewayTimeout
        self.dropConnection = dropConnection
        self.slow = slow
        self.slowDelay = slowDelay
        self.retryAfter = retryAfter
        self.seed = seed
    }

    /// The same rate for 429, 500, 502 and 504 (a quarter each of `total`).
    public static func errors(_ total: Double, seed: UInt64 = 1) -> FaultRates {
        FaultRates(rateLimited: total / 4, serverError: total / 4, badGateway: total / 4, gatewayTimeout: total / 4,
                   seed: seed)
    }
}
