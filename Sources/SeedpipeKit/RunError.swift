/// What SeedpipeKit throws of its own: a run refused before it started (over a limit), or a
/// request that names something the pipeline does not have (a shot, a take). Errors of the
/// pipeline, its stages and the service come through as they were thrown (``PipelineError``,
/// `StageError`, `SeedanceError`, `MediaError`).
public struct RunError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String { case refused, invalidRequest, noPipelineFile }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// Over `maxGenerations` or `maxCost`, or a cost limit with no price known: nothing was started.
        public static let refused = Code(.refused)
        /// A shot, take or option the pipeline cannot take.
        public static let invalidRequest = Code(.invalidRequest)
        /// The pipeline file does not exist.
        public static let noPipelineFile = Code(.noPipelineFile)

        public var description: String { base.rawValue }
    }

    public var code: Code
    /// One line a person can act on.
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
