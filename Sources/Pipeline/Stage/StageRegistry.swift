/// Maps `uses:` names to stages. An embedding application registers its own next to the
/// built-in ones; a later registration of a kind replaces the earlier one.
public struct StageRegistry: Sendable {
    private var stages: [String: any Stage] = [:]
    private var macros: [String: any MacroStage] = [:]

    public init(_ stages: [any Stage] = []) {
        for stage in stages { register(stage) }
    }

    public mutating func register(_ stage: any Stage) { stages[stage.kind] = stage }
    public mutating func register(_ macro: any MacroStage) { macros[macro.kind] = macro }

    public func stage(_ kind: String) -> (any Stage)? { stages[kind] }
    public func macro(_ kind: String) -> (any MacroStage)? { macros[kind] }

    /// Every kind known, stages and macros.
    public var kinds: [String] { (Array(stages.keys) + Array(macros.keys)).sorted() }
}

/// A stage that expands into plain stages before validation (so `seedance.chain` of N
/// prompts becomes N generations and the last-frame edges between them, visible in `plan`).
public protocol MacroStage: Sendable {
    var kind: String { get }
    /// The keys `with:` accepts.
    var acceptedKeys: [String] { get }
    /// The plain stages replacing stage `name`; their outputs named in `exports` become
    /// `name.output` for the rest of the pipeline.
    func expand(name: String, with: [String: ValueExpression], location: SourceLocation?) throws -> MacroExpansion
}

public struct MacroExpansion: Sendable {
    public var stages: [StageNode]
    /// `output name → expression` readable as `${name.output}`.
    public var exports: [String: ValueExpression]

    public init(stages: [StageNode], exports: [String: ValueExpression]) {
        self.stages = stages
        self.exports = exports
    }
}
