import Media
import Pipeline
import SeedanceAPI
import Stages

/// The exit status a run's outcome maps to, as `seedpipe` exits with it and as
/// ``RunFinished/exitCode`` reports it: decided by the root cause, so a stage's failure
/// counts by the error the stage threw (a service that could not be reached is 3 in `run` as
/// in `generate`).
public enum ExitStatus {
    public static let success: Int32 = 0
    public static let checkFailed: Int32 = 1
    public static let badInput: Int32 = 2
    public static let serviceFailed: Int32 = 3
    public static let interrupted: Int32 = 130

    /// The status for one of seedpipe's own errors; nil for an error it does not know.
    public static func of(_ error: any Error) -> Int32? {
        switch error {
        case let error as PipelineError:
            switch error.code {
            case .invalidPipeline: return badInput
            case .interrupted: return interrupted
            case .missingService: return serviceFailed
            case .stageFailed: return error.underlying.flatMap(of) ?? checkFailed
            default: return checkFailed
            }
        case let error as StageError:
            if let underlying = error.underlying, let status = of(underlying), error.code != .checkFailed { return status }
            return error.code == .generationUnresolved || error.code == .unavailable ? serviceFailed : checkFailed
        case let error as SeedanceError:
            switch error.code {
            case .invalidRequest: return badInput
            case .inferenceFailed: return checkFailed
            default: return serviceFailed
            }
        case let error as TeamLedgerError:
            if case .overBudget = error { return checkFailed }
            return serviceFailed
        case is RunError, is MediaError: return badInput
        case is CancellationError: return interrupted
        default: return nil
        }
    }
}
