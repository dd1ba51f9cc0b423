import Foundation
import Logging

/// How a run behaves.
public struct ExecutionOptions: Sendable {
    /// At most this many stages of each pool at once; a pool not named here gets `defaultLimit`.
    public var poolLimits: [Pool: Int]
    /// The limit of every pool not in `poolLimits` (default: the core count).
    public var defaultLimit: Int
    /// Finish every branch that does not depend on a failure instead of stopping at the first.
    public var keepGoing: Bool

    public init(poolLimits: [Pool: Int] = [:], defaultLimit: Int = ProcessInfo.processInfo.activeProcessorCount,
                keepGoing: Bool = false) {
        self.poolLimits = poolLimits.mapValues { max(1, $0) }
        self.defaultLimit = max(1, defaultLimit)
        self.keepGoing = keepGoing
    }

    public func limit(_ pool: Pool) -> Int { poolLimits[pool] ?? defaultLimit }
}
