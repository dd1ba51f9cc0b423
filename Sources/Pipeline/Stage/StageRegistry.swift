import Foundation

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

    /// The stage of a kind; `take:KIND` is the take selector of a stage with takes.
    /// Checks a local file given to a file input before anything runs: what is wrong with
    /// it for that type ("is audio, not an image"), or nil. The built-in registry probes with Media.
    public var fileCheck: (@Sendable (URL, ArtifactType) -> String?)?
    /// Checks of a parameter by its name, whichever stage has it (a plugin's included): the
    /// problems with a literal value, each `NAME.KEY: …` or `NAME: …` (the built-in registry
    /// checks `encode:` with Media, so a plugin declaring `encode` is checked the same way).
    public var parameterChecks: [String: @Sendable (Value) -> [String]] = [:]
    /// Said with an unknown kind: where stages of other kinds could come from (the CLI says
    /// where plugins are looked for).
    public var unknownKindHint: String?

    public func stage(_ kind: String) -> (any Stage)? {
        if let stage = stages[kind] { return stage }
        guard kind.hasPrefix(TakeSelector.prefix), let wrapped = stages[String(kind.dropFirst(TakeSelector.prefix.count))] else { return nil }
        return TakeSelector(wrapping: wrapped)
    }
    public func macro(_ kind: String) -> (any MacroStage)? { macros[kind] }

    /// Every kind known, stages and macros.
    public var kinds: [String] { (Array(stages.keys) + Array(macros.keys)).sorted() }
}

/// A stage that expands into plain stages before validation (so a chain of N shots becomes
/// N generations and the edges between them, visible in `plan`).
public protocol MacroStage: Sendable {
    var kind: String { get }
    /// The keys `with:` accepts.
    var acceptedKeys: [String] { get }
    /// The plain stages replacing stage `name`; their outputs named in `exports` become
    /// `name.output` for the rest of the pipeline.
    func expand(name: String, with: [String: ValueExpression], location: SourceLocation?, context: MacroContext) throws
        -> MacroExpansion
    /// Its keys with their types (for `seedpipe stages` and the schema); by default each
    /// accepted key, of any type.
    var parameters: [ParameterSpec] { get }
    var documentation: StageDocumentation { get }
}

extension MacroStage {
    public var parameters: [ParameterSpec] { acceptedKeys.map { ParameterSpec($0, .any) } }
    public var documentation: StageDocumentation { StageDocumentation("") }
}

/// What a macro may ask of the rest of the pipeline while it expands.
public struct MacroContext: Sendable {
    /// The pipeline's stages as written (before any expansion).
    public var stages: [StageNode]

    public init(stages: [StageNode]) { self.stages = stages }

    /// How many items an expression gives, when that is known before running: a literal
    /// list, or a reference to a stage whose `each:` is a literal list (a template).
    public func staticCount(of expression: ValueExpression) -> Int? {
        switch expression {
        case .literal(.list(let items)): return items.count
        case .list(let items): return items.count
        case .reference(let reference) where reference.index == nil:
            guard let stage = stages.first(where: { $0.name == reference.stage }) else { return nil }
            if case .literal(.list(let items)) = stage.with["each"] ?? .literal(.null) { return items.count }
            return nil
        default: return nil
        }
    }

    /// Item `index` of an expression whose items `staticCount` can count.
    public func item(_ index: Int, of expression: ValueExpression) -> ValueExpression {
        switch expression {
        case .literal(.list(let items)): return .literal(items[index])
        case .list(let items): return items[index]
        case .reference(var reference):
            reference.index = index
            return .reference(reference)
        default: return expression
        }
    }
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
