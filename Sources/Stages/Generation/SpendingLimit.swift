import Foundation
import Pipeline
import SeedanceAPI

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
