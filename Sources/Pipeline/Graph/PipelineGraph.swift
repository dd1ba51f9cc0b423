import Foundation

/// One stage of a pipeline: what it uses and what it is given.
public struct StageNode: Sendable, Hashable {
    public var name: String
    public var kind: String
    public var with: [String: ValueExpression]
    /// Where the stage is declared.
    public var location: SourceLocation?
    /// Where each `with:` key is.
    public var keyLocations: [String: SourceLocation]
    /// The macro stage this one came from, if any.
    public var expandedFrom: String?
    /// Set when the node is one take of a shot (see ``TakeSupport``).
    public var take: TakeRole?
    /// Keys (or `encode.KEY`) whose value the node inherits from a profile or the pipeline's
    /// `encode:`, with where it comes from (`profile \`final\``, or "" for the pipeline's own
    /// `encode:`): a problem with such a value is told once, there, not per stage.
    public var inherited: [String: String] = [:]

    public init(name: String, kind: String, with: [String: ValueExpression] = [:], location: SourceLocation? = nil,
                keyLocations: [String: SourceLocation] = [:], expandedFrom: String? = nil) {
        self.name = name
        self.kind = kind
        self.with = with
        self.location = location
        self.keyLocations = keyLocations
        self.expandedFrom = expandedFrom
    }

    /// The stages this one reads from.
    public var dependencies: Set<String> { Set(with.values.flatMap(\.references).map(\.stage)) }
}

/// A whole pipeline: the same value whether it came from a YAML file or the Swift DSL.
public struct PipelineGraph: Sendable, Hashable {
    public var name: String
    public var vars: [String: Value]
    /// Parameter defaults by group (`render:` applies to `render.*` stages, `concat:` to `concat`).
    public var defaults: [String: [String: Value]]
    /// Stages in declaration order (macros already expanded).
    public var stages: [StageNode]
    public var outputs: [String: ValueExpression]
    /// Folder that relative paths resolve against.
    public var baseFolder: URL
    /// The file it was read from, if any.
    public var file: String?
    /// Named references (`cast:`), by name.
    public var cast: [String: CastMember] = [:]
    /// Where each `defaults:` entry is written, by group and parameter (pipeline files only).
    public var defaultLocations: [String: [String: SourceLocation]] = [:]
    /// The pipeline's profiles and the one this graph is built in (nil: it has none).
    public var profiles: ProfileChoice?
    /// The profile this graph is built in, when the pipeline has profiles.
    public var profile: String? { profiles?.selected }

    public init(name: String, vars: [String: Value] = [:], defaults: [String: [String: Value]] = [:],
                stages: [StageNode] = [], outputs: [String: ValueExpression] = [:], baseFolder: URL,
                file: String? = nil) {
        self.name = name
        self.vars = vars
        self.defaults = defaults
        self.stages = stages
        self.outputs = outputs
        self.baseFolder = baseFolder
        self.file = file
    }

    public func stage(_ name: String) -> StageNode? { stages.first { $0.name == name } }

    /// The graph without source locations or file names: equal for a pipeline written as
    /// YAML and the same one written in the Swift DSL.
    public var shape: PipelineGraph {
        var copy = self
        copy.file = nil
        copy.defaultLocations = [:]
        copy.stages = stages.map { node in
            var node = node
            node.location = nil
            node.keyLocations = [:]
            node.inherited = [:]
            return node
        }
        copy.cast = cast.mapValues { var member = $0; member.location = nil; return member }
        copy.profiles = profiles.map { choice in
            var choice = choice
            choice.profiles = choice.profiles.map { var profile = $0; profile.location = nil; profile.valueLocations = [:]; return profile }
            return choice
        }
        return copy
    }
}
