/// What running a stage once costs: the core's only notion of money. A stage declares it
/// from its parameters (``Stage/cost(_:)``); `plan` adds it up before anything runs and the
/// run records it with the action.
public struct Cost: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Paid remote generations.
    public var generations: Int
    /// Seconds of media those generations make.
    public var seconds: Double
    /// US dollars, when the stage knows its price.
    public var money: Double?
    /// Made by an emulator: counted as the generations it stands for, so a plan and its run
    /// agree, but nothing is paid (not marked paid in the cache, no price learned from it).
    public var emulated: Bool
    /// Paid for by an earlier run of this cache, and fetched by this one (a generation sent
    /// before an interruption): still paid work, kept as such, but not this run's spending.
    public var resumed: Bool

    public init(generations: Int = 0, seconds: Double = 0, money: Double? = nil, emulated: Bool = false, resumed: Bool = false) {
        self.generations = generations
        self.seconds = seconds
        self.money = money
        self.emulated = emulated
        self.resumed = resumed
    }

    public static let free = Cost()

    /// Nothing to pay.
    public var isFree: Bool { generations == 0 && seconds == 0 && (money ?? 0) == 0 }
    /// Money really spent: work that costs something, not emulated.
    public var isPaid: Bool { !isFree && !emulated }

    /// Sums; money stays known only while every part's is; emulated while every part that costs anything is.
    public static func + (lhs: Cost, rhs: Cost) -> Cost {
        let money: Double? = if lhs.isFree { rhs.money } else if rhs.isFree { lhs.money }
                             else { lhs.money.flatMap { a in rhs.money.map { a + $0 } } }
        let emulated = (lhs.isFree || lhs.emulated) && (rhs.isFree || rhs.emulated) && !(lhs.isFree && rhs.isFree)
        let resumed = (lhs.isFree || lhs.resumed) && (rhs.isFree || rhs.resumed) && !(lhs.isFree && rhs.isFree)
        return Cost(generations: lhs.generations + rhs.generations, seconds: lhs.seconds + rhs.seconds, money: money, emulated: emulated,
                    resumed: resumed)
    }

    public var description: String {
        guard !isFree else { return "free" }
        var text = "\(generations) generation\(generations == 1 ? "" : "s"), \(Value.number(seconds).text) s"
        if let money { text += ", $\(String(format: "%.2f", money))" }
        if emulated { text += ", emulated" }
        if resumed { text += ", paid before" }
        return text
    }

    enum CodingKeys: String, CodingKey { case generations, seconds, money, emulated, resumed }

    /// Records written before there was `emulated` have none: not emulated.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        generations = try container.decode(Int.self, forKey: .generations)
        seconds = try container.decode(Double.self, forKey: .seconds)
        money = try container.decodeIfPresent(Double.self, forKey: .money)
        emulated = try container.decodeIfPresent(Bool.self, forKey: .emulated) ?? false
        resumed = try container.decodeIfPresent(Bool.self, forKey: .resumed) ?? false
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(generations, forKey: .generations)
        try container.encode(seconds, forKey: .seconds)
        try container.encodeIfPresent(money, forKey: .money)
        if emulated { try container.encode(true, forKey: .emulated) }
        if resumed { try container.encode(true, forKey: .resumed) }
    }
}

/// An error after which a run starts nothing new, but lets what is running finish (and
/// keeps it): a spending limit reached, an account out of credits, a retired model.
public protocol HaltingError: Error {
    /// Whether this error halts the run.
    var haltsRun: Bool { get }
}

extension PipelineError {
    /// Whether the error (or the one it carries) halts the run: see ``HaltingError``.
    public var haltsRun: Bool {
        var error: (any Error)? = self
        while let current = error {
            if let halting = current as? HaltingError, halting.haltsRun { return true }
            error = (current as? PipelineError)?.underlying
        }
        return false
    }
}
