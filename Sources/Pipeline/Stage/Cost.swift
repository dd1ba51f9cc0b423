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

    public init(generations: Int = 0, seconds: Double = 0, money: Double? = nil) {
        self.generations = generations
        self.seconds = seconds
        self.money = money
    }

    public static let free = Cost()

    /// Nothing to pay.
    public var isFree: Bool { generations == 0 && seconds == 0 && (money ?? 0) == 0 }

    /// Sums; money stays known only while every part's is.
    public static func + (lhs: Cost, rhs: Cost) -> Cost {
        let money: Double? = if lhs.isFree { rhs.money } else if rhs.isFree { lhs.money }
                             else { lhs.money.flatMap { a in rhs.money.map { a + $0 } } }
        return Cost(generations: lhs.generations + rhs.generations, seconds: lhs.seconds + rhs.seconds, money: money)
    }

    public var description: String {
        guard !isFree else { return "free" }
        var text = "\(generations) generation\(generations == 1 ? "" : "s"), \(Value.number(seconds).text) s"
        if let money { text += ", $\(String(format: "%.2f", money))" }
        return text
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
