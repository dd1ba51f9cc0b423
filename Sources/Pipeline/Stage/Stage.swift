import Foundation
import Logging
import Synchronization

/// A kind of work a pipeline can do: its name, version, typed inputs and outputs, the
/// parameters it takes (checked before anything runs) and `run`.
///
/// ```swift
/// struct Shout: Stage {
///     let kind = "shout"
///     let signature = StageSignature(inputs: [.init("text", .text)], outputs: [.init("text", .text)])
///     func run(_ invocation: StageInvocation, context: StageContext) async throws -> [String: Value] {
///         ["text": .string(invocation.text("text").uppercased())]
///     }
/// }
/// ```
public protocol Stage: Sendable {
    /// The name used in `uses:` (e.g. `concat`).
    var kind: String { get }
    /// Part of every action key: change it when the stage's output for the same inputs changes.
    var version: String { get }
    var signature: StageSignature { get }
    /// Rules beyond the parameter specs (e.g. a duration the service does not offer), one message each.
    func check(_ parameters: [String: Value]) -> [String]
    /// What one run with these parameters costs (``Cost/free`` for local work). `plan` calls
    /// it with the parameters known before running (literals and defaults); the executor
    /// with every value resolved.
    func cost(_ parameters: [String: Value]) -> Cost
    /// Its outputs when they follow from its inputs without doing any work (a selection),
    /// so `plan` can see past it; nil (the default) when only running tells.
    func predict(_ invocation: StageInvocation) -> [String: Value]?
    /// Whether ``predict(_:)`` may be called while some inputs are not made yet (they come as
    /// `.null`): it then gives only the outputs that follow from what is known, so `plan` can
    /// see past a take selector whose picked take is made when another is not. False by default.
    var predictsFromPartialInputs: Bool { get }
    /// Whether this action's journal record stands for paid work an earlier run started and
    /// the next run finishes without paying again (a generation whose request was accepted):
    /// `plan` shows it as ``Plan/Status/resume`` and counts nothing new. False by default.
    func resumes(_ record: JournalRecord) -> Bool
    /// The length in seconds of the media outputs a run with these parameters (literals, and
    /// inputs as ``MediaEstimate`` stand-ins where known) will make, when it is known before
    /// running: a generation's `duration`, a trim's cut, a join's sum. Empty by default.
    func estimatedDurations(_ parameters: [String: Value]) -> [String: Double]
    func run(_ invocation: StageInvocation, context: StageContext) async throws -> [String: Value]
    /// What it is for, its ports and parameters in words, and an example `with:` that
    /// `validate` accepts (`seedpipe stages KIND`, `seedpipe schema`).
    var documentation: StageDocumentation { get }
}

/// A stage kind in words: for `seedpipe stages` and the pipeline schema editors read.
public struct StageDocumentation: Sendable {
    /// One line: what it makes from what.
    public var summary: String
    /// Each input, output and parameter by name.
    public var inputs: [String: String]
    public var outputs: [String: String]
    public var parameters: [String: String]
    /// A `with:` block that `validate` accepts as it is: media inputs name `clip.mp4` (video),
    /// `frame.png` (image) or `music.m4a` (audio), files beside the pipeline.
    public var example: [String: Value]?

    public init(_ summary: String, inputs: [String: String] = [:], outputs: [String: String] = [:], parameters: [String: String] = [:],
                example: [String: Value]? = nil) {
        self.summary = summary
        self.inputs = inputs
        self.outputs = outputs
        self.parameters = parameters
        self.example = example
    }
}

extension Stage {
    public var documentation: StageDocumentation { StageDocumentation("") }
    /// The action key of a run with these resolved values (parameters that are not
    /// ``ParameterSpec/keyed`` left out).
    public func actionKey(_ values: [String: Value]) -> String {
        let unkeyed = signature.parameters.filter { !$0.keyed }.map(\.name)
        return ActionKey.make(kind: kind, version: version, values: unkeyed.isEmpty ? values : values.filter { !unkeyed.contains($0.key) })
    }

    public var version: String { "1" }
    public func check(_ parameters: [String: Value]) -> [String] { [] }
    public func cost(_ parameters: [String: Value]) -> Cost { .free }
    public func predict(_ invocation: StageInvocation) -> [String: Value]? { nil }
    public var predictsFromPartialInputs: Bool { false }
    public func resumes(_ record: JournalRecord) -> Bool { false }
    public func estimatedDurations(_ parameters: [String: Value]) -> [String: Double] { [:] }
}

/// What a stage takes and makes.
public struct StageSignature: Sendable {
    public var inputs: [Port]
    public var outputs: [Port]
    public var parameters: [ParameterSpec]
    /// The resource pool it draws from.
    public var pool: Pool
    /// Set when a shot can have several takes (`takes: N` in `with:`).
    public var takes: TakeSupport?
    /// Set when the stage takes members of the pipeline's cast (`cast: [names]` in `with:`).
    public var cast: CastSupport?

    public init(inputs: [Port] = [], outputs: [Port] = [], parameters: [ParameterSpec] = [], pool: Pool = .cpu,
                takes: TakeSupport? = nil, cast: CastSupport? = nil) {
        self.inputs = inputs
        self.outputs = outputs
        self.parameters = parameters
        self.pool = pool
        self.takes = takes
        self.cast = cast
    }

    /// Every name `with:` accepts.
    public var acceptedKeys: [String] {
        inputs.map(\.name) + parameters.map(\.name) + (takes == nil ? [] : ["takes"]) + (cast == nil ? [] : ["cast"])
    }
}

/// A typed input or output.
public struct Port: Sendable, Hashable {
    public var name: String
    public var type: ArtifactType
    public var required: Bool
    /// For a list: the most items it takes (checked before anything runs).
    public var maximum: Int?

    public init(_ name: String, _ type: ArtifactType, required: Bool = true, maximum: Int? = nil) {
        self.name = name
        self.type = type
        self.required = required
        self.maximum = maximum
    }
}

/// Resource pools: at most so many stages of a pool run at once, as the run's
/// ``ExecutionOptions`` say. A stage module names the pools it needs (a remote service's
/// own, say); the core has only `cpu`.
public struct Pool: Sendable, Hashable, CustomStringConvertible {
    public var name: String
    public init(_ name: String) { self.name = name }
    /// Local computation.
    public static let cpu = Pool("cpu")
    public var description: String { name }
}

/// One parameter: its type, default and allowed values.
public struct ParameterSpec: Sendable {
    public enum Kind: Sendable, Hashable, CustomStringConvertible {
        case string, integer, number, boolean, list, object, any
        public var description: String {
            switch self {
            case .string: "a string"
            case .integer: "an integer"
            case .number: "a number"
            case .boolean: "true or false"
            case .list: "a list"
            case .object: "a mapping"
            case .any: "any value"
            }
        }
    }

    public var name: String
    public var kind: Kind
    public var required: Bool
    public var defaultValue: Value?
    /// Whether the value is part of the action key (false for how to run, not what to
    /// make: a retry count, say, whose change must not make anything run again).
    public var keyed: Bool
    /// When set, the value must be one of these.
    public var allowed: [Value]?
    public var range: ClosedRange<Double>?

    public init(_ name: String, _ kind: Kind, required: Bool = false, default defaultValue: Value? = nil,
                allowed: [Value]? = nil, range: ClosedRange<Double>? = nil, keyed: Bool = true) {
        self.name = name
        self.kind = kind
        self.required = required
        self.defaultValue = defaultValue
        self.keyed = keyed
        self.allowed = allowed
        self.range = range
    }

    /// Why `value` does not fit, or nil.
    func problem(with value: Value) -> String? {
        let fits: Bool
        switch (kind, value) {
        case (.any, _), (.string, .string), (.boolean, .bool), (.list, .list), (.object, .object): fits = true
        case (.number, .number): fits = true
        case (.integer, .number(let number)): fits = number == number.rounded()
        default: fits = false
        }
        guard fits else { return "\(name) must be \(kind) (got \(value.text.isEmpty ? "nothing" : value.text))" }
        if let allowed, !allowed.contains(value) {
            return "\(name) must be one of \(allowed.map(\.text).joined(separator: ", ")) (got \(value.text))"
        }
        if let range, let number = value.number, !range.contains(number) {
            return "\(name) must be from \(Value.number(range.lowerBound).text) to \(Value.number(range.upperBound).text) (got \(value.text))"
        }
        return nil
    }
}

/// What a stage is run with: its resolved inputs and parameters, and its name in the pipeline.
public struct StageInvocation: Sendable {
    public var name: String
    public var values: [String: Value]
    /// Which take of a shot this run makes, when the shot has several (not part of the key).
    public var take: TakeRole?

    public init(name: String, values: [String: Value], take: TakeRole? = nil) {
        self.name = name
        self.values = values
        self.take = take
    }

    public subscript(_ key: String) -> Value? { values[key] }

    public func text(_ key: String) -> String { values[key]?.text ?? "" }
}

/// What a running stage can use: the store, its journal entry, the run's services, a
/// logger, progress, a scratch folder.
public struct StageContext: Sendable {
    public let store: any ArtifactStore
    public let logger: Logger
    /// Reports progress (0…1) and a short status.
    public let progress: @Sendable (Double?, String) -> Void
    /// Folder for the stage's scratch files (made when first asked for), removed after it runs.
    public var scratch: URL { scratchFolder.url }
    let scratchFolder: ScratchFolder
    /// Folder the pipeline file is in (relative paths resolve against it).
    public let baseFolder: URL
    /// This run's action key.
    public let actionKey: String
    /// The pipeline's name.
    public let pipeline: String
    /// The profile the pipeline runs in (`--profile`), when it has profiles.
    public var profile: String?
    /// The durable record of this action: what to resume from after a crash.
    public let journal: JournalEntryHandle
    /// Clients and settings the run was given (see ``Services``).
    public let services: Services

    public init(store: any ArtifactStore, journal: any ActionJournal, services: Services = Services(), logger: Logger,
                scratch: URL, baseFolder: URL, actionKey: String = "", kind: String = "", stage: String = "",
                pipeline: String = "", progress: @escaping @Sendable (Double?, String) -> Void = { _, _ in }) {
        self.store = store
        self.logger = logger
        self.scratchFolder = ScratchFolder(scratch)
        self.baseFolder = baseFolder
        self.actionKey = actionKey
        self.pipeline = pipeline
        self.journal = JournalEntryHandle(journal: journal, key: actionKey, kind: kind, pipeline: pipeline, stage: stage)
        self.services = services
        self.progress = progress
    }

    /// Throws if the run was cancelled (Ctrl-C, or another stage failed).
    public func checkCancellation() throws { try Task.checkCancellation() }

    /// Tells the run what this action actually cost (a service's bill), recorded with the
    /// action and in the report instead of what ``Stage/cost(_:)`` declared.
    public func reportCost(_ cost: Cost) { spent.set(cost) }
    let spent = SpentCost()
}

/// What a stage said its action actually cost.
final class SpentCost: Sendable {
    private let value = Mutex<Cost?>(nil)
    func set(_ cost: Cost) { value.withLock { $0 = cost } }
    var cost: Cost? { value.withLock { $0 } }
}

/// A folder created the first time a stage asks for it: most stages never need one.
final class ScratchFolder: Sendable {
    private let location: URL
    private let made = Mutex(false)

    init(_ location: URL) { self.location = location }

    /// The folder, made on first use (one mkdir, the only file work a stage's context does
    /// on the caller's thread; copies and links into it go through ``BlockingIO``).
    var url: URL {
        made.withLock { made in
            if !made { try? FileManager.default.createDirectory(at: location, withIntermediateDirectories: true) }
            made = true
        }
        return location
    }

    /// Removes the folder (on the I/O pool) if it was made; most stages never make one.
    func remove() async {
        guard made.withLock({ $0 }) else { return }
        let location = location
        _ = try? await BlockingIO.run {
            if FileManager.default.fileExists(atPath: location.path) { try? FileManager.default.removeItem(at: location) }
        }
    }
}
