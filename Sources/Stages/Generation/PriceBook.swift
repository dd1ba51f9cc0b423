import Foundation
import Pipeline
import SeedanceAPI

/// What generations cost, USD per second of video by resolution: from `--price-per-second`
/// (every resolution), else learned from what earlier generations were billed.
public struct PriceBook: Sendable, Hashable {
    public var perSecond: [String: Double]
    /// One price for every resolution (given by the user, or an emulator's bill).
    public var flat: Double?
    /// The price of a resolution `perSecond` does not list (an emulator's price for the rest).
    public var fallback: Double?
    /// The prices of an emulator's bills: the costs they give are emulated.
    public var emulated: Bool

    public init(perSecond: [String: Double] = [:], flat: Double? = nil, fallback: Double? = nil, emulated: Bool = false) {
        self.perSecond = perSecond
        self.flat = flat
        self.fallback = fallback
        self.emulated = emulated
    }

    /// USD per second at a resolution, when known.
    public func price(resolution: String) -> Double? { flat ?? perSecond[resolution] ?? fallback }

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
