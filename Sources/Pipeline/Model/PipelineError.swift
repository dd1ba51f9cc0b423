import Foundation

/// The Pipeline module's one error type: a ``Code`` to switch on, a message a person can act
/// on, the stage it concerns, the pipeline file's diagnostics where there are any, and the
/// underlying error kept as it was thrown (a stage's own error, a service's, a media
/// library's), so a caller such as the command line can decide by cause, not by text.
public struct PipelineError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, as a value to switch on (new codes may be added).
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Sendable {
            case invalidPipeline, stageFailed, interrupted, missingObject, corruptedObject, storage, plugin
            case missingService, missingOutput, unresolvedReference
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The pipeline file or graph does not validate (see ``PipelineError/diagnostics``).
        public static let invalidPipeline = Code(.invalidPipeline)
        /// A stage's run threw; ``PipelineError/underlying`` is what it threw.
        public static let stageFailed = Code(.stageFailed)
        /// The run was cancelled (Ctrl-C, a caller's cancellation).
        public static let interrupted = Code(.interrupted)
        /// An object the cache names is not in the store.
        public static let missingObject = Code(.missingObject)
        /// An object's bytes no longer match its digest; it was removed.
        public static let corruptedObject = Code(.corruptedObject)
        /// The store, cache or journal could not read or write.
        public static let storage = Code(.storage)
        /// An executable plugin failed (crashed, timed out, broke the protocol, said error).
        public static let plugin = Code(.plugin)
        /// A stage needs a service the run was not given.
        public static let missingService = Code(.missingService)
        /// A stage finished without an output its signature requires.
        public static let missingOutput = Code(.missingOutput)
        /// A `${stage.output}` reference has no value at run time.
        public static let unresolvedReference = Code(.unresolvedReference)

        public var description: String { base.rawValue }
    }

    public var code: Code
    public var message: String
    /// The stage it concerns, when one does.
    public var stage: String?
    /// Every problem found in a pipeline that does not validate, at file:line:column.
    public var diagnostics: [Diagnostic]
    /// The error behind this one, as thrown.
    public var underlying: (any Error)?
    /// For a run that stopped: what it did before it stopped.
    public var report: RunReport?

    public init(_ code: Code, _ message: String, stage: String? = nil, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.stage = stage
        self.diagnostics = []
        self.underlying = underlying
    }

    /// A pipeline that cannot run, with every problem found.
    public init(_ diagnostics: [Diagnostic]) {
        code = .invalidPipeline
        message = diagnostics.map(\.description).joined(separator: "\n")
        self.diagnostics = diagnostics
    }

    /// One problem in a pipeline, where it is and how to fix it.
    public init(_ message: String, at location: SourceLocation? = nil, fix: String? = nil) {
        self.init([Diagnostic(message, at: location, fix: fix)])
    }

    /// A stage's failure, keeping what it threw (an error that already names the stage is kept as it is).
    public static func stage(_ name: String, failed error: any Error) -> PipelineError {
        if let error = error as? PipelineError, error.stage == name { return error }
        return PipelineError(.stageFailed, "\(error)", stage: name, underlying: error)
    }

    /// The innermost error, following ``underlying`` through nested pipeline errors.
    public var rootCause: any Error {
        var error: any Error = self
        while let pipeline = error as? PipelineError, let inner = pipeline.underlying { error = inner }
        return error
    }

    public var description: String {
        if code == .invalidPipeline { return message }
        guard let stage else { return message }
        return "stage `\(stage)` failed: \(message)"
    }
}
