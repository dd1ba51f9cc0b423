import Foundation
import Pipeline
import SeedanceAPI

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
