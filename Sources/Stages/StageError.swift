import Pipeline

/// The built-in stages' one error type: a ``Code`` to switch on and a message; the error
/// behind it (a ``SeedanceAPI/SeedanceError``, a media error) is kept as ``underlying``.
public struct StageError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Sendable { case checkFailed, generationFailed, generationUnresolved, stopped, unavailable }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// A check stage (`audio-check`) found a problem it was told to fail on.
        public static let checkFailed = Code(.checkFailed)
        /// The generation ended FAILED, or finished without a usable output.
        public static let generationFailed = Code(.generationFailed)
        /// Whether a submit was received is not known yet (no answer, not in request history):
        /// nothing is sent again until a later run finds out.
        public static let generationUnresolved = Code(.generationUnresolved)
        /// Submitting stopped for the whole run: the spending limit would be passed, the
        /// account is out of credits, or the model was retired. What runs finishes.
        public static let stopped = Code(.stopped)
        /// Something paid work needs could not be reached (the team's shared journal): nothing
        /// was submitted.
        public static let unavailable = Code(.unavailable)

        public var description: String { base.rawValue }
    }

    public var code: Code
    public var message: String
    public var underlying: (any Error)?

    public init(_ code: Code, _ message: String, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    public var description: String { message }
}

extension StageError: HaltingError {
    public var haltsRun: Bool { code == .stopped }
}
