import Foundation

/// The Swift DSL for embedders: builds the same `PipelineGraph` a pipeline file does.
///
/// ```swift
/// let graph = try PipelineGraph("teaser", registry: registry) {
///     Var("place", "a waterfall")
///     Defaults("render", ["quality": "draft"])
///     Use("shot", "render.scene", ["description": "Shot 1: ${vars.place}"])
///     Use("poster", "thumbnail", ["video": "${shot.video}", "at": 1.5])
///     Output("poster", "${poster.image}")
/// }
/// ```
@resultBuilder
public enum PipelineBuilder {
    public static func buildBlock(_ parts: [any PipelinePart]...) -> [any PipelinePart] { parts.flatMap { $0 } }
    public static func buildExpression(_ part: any PipelinePart) -> [any PipelinePart] { [part] }
    public static func buildArray(_ parts: [[any PipelinePart]]) -> [any PipelinePart] { parts.flatMap { $0 } }
    public static func buildOptional(_ parts: [any PipelinePart]?) -> [any PipelinePart] { parts ?? [] }
    public static func buildEither(first parts: [any PipelinePart]) -> [any PipelinePart] { parts }
    public static func buildEither(second parts: [any PipelinePart]) -> [any PipelinePart] { parts }
}

/// One line of the DSL.
public protocol PipelinePart: Sendable {}

/// `vars:` entry.
public struct Var: PipelinePart {
    let name: String
    let value: Value
    public init(_ name: String, _ value: Setting) {
        self.name = name
        self.value = value.value
    }
}

/// `defaults:` group.
public struct Defaults: PipelinePart {
    let group: String
    let values: [String: Value]
    public init(_ group: String, _ values: [String: Setting]) {
        self.group = group
        self.values = values.mapValues(\.value)
    }
}

/// A stage: its name, what it uses, and `with:`.
public struct Use: PipelinePart {
    let name: String
    let kind: String
    let with: [String: Setting]
    public init(_ name: String, _ kind: String, _ with: [String: Setting] = [:]) {
        self.name = name
        self.kind = kind
        self.with = with
    }
}

/// A `cast:` member: a reference named once, used by name (`cast: ["hero"]`) in shots.
public struct Cast: PipelinePart {
    let member: CastMember
    public init(_ name: String, image: Setting, note: String? = nil) { member = CastMember(name: name, kind: "image", source: image.expression, note: note) }
    public init(_ name: String, video: Setting, note: String? = nil) { member = CastMember(name: name, kind: "video", source: video.expression, note: note) }
    public init(_ name: String, audio: Setting, note: String? = nil) { member = CastMember(name: name, kind: "audio", source: audio.expression, note: note) }
}

/// An `outputs:` entry.
public struct Output: PipelinePart {
    let name: String
    let value: Setting
    public init(_ name: String, _ value: Setting) {
        self.name = name
        self.value = value
    }
}

/// A value written in Swift: strings may hold `${stage.output}` references, as in YAML.
public indirect enum Setting: Sendable, ExpressibleByStringInterpolation, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    case value(Value)
    case list([Setting])
    case mapping([String: Setting])

    public init(stringLiteral text: String) { self = .value(.string(text)) }
    public init(integerLiteral number: Int) { self = .value(.number(Double(number))) }
    public init(floatLiteral number: Double) { self = .value(.number(number)) }
    public init(booleanLiteral flag: Bool) { self = .value(.bool(flag)) }
    public init(arrayLiteral items: Setting...) { self = .list(items) }
    public init(dictionaryLiteral items: (String, Setting)...) { self = .mapping(Dictionary(uniqueKeysWithValues: items)) }

    var value: Value {
        switch self {
        case .value(let value): value
        case .list(let items): .list(items.map(\.value))
        case .mapping(let items): .object(items.mapValues(\.value))
        }
    }

    var expression: ValueExpression {
        switch self {
        case .value(.string(let text)) where text.contains("${"): ValueExpression.parse(text, at: nil)
        case .value(let value): .literal(value)
        case .list(let items):
            items.allSatisfy({ !$0.hasReference }) ? .literal(value) : .list(items.map(\.expression))
        case .mapping(let items):
            items.values.allSatisfy({ !$0.hasReference }) ? .literal(value) : .object(items.mapValues(\.expression))
        }
    }

    var hasReference: Bool {
        switch self {
        case .value(.string(let text)): text.contains("${")
        case .value: false
        case .list(let items): items.contains(where: \.hasReference)
        case .mapping(let items): items.values.contains(where: \.hasReference)
        }
    }
}

extension PipelineGraph {
    /// Builds a pipeline in Swift; macros expand and vars substitute exactly as in a file.
    public init(_ name: String, baseFolder: URL = URL(fileURLWithPath: FileManager.default.currentDirectoryPath),
                registry: StageRegistry, picks: Picks = Picks(), @PipelineBuilder _ parts: () -> [any PipelinePart]) throws {
        var vars: [String: Value] = [:]
        var defaults: [String: [String: Value]] = [:]
        var stages: [StageNode] = []
        var outputs: [String: ValueExpression] = [:]
        var cast: [String: CastMember] = [:]
        for part in parts() {
            switch part {
            case let item as Var: vars[item.name] = item.value
            case let item as Defaults: defaults[item.group] = item.values
            case let item as Use: stages.append(StageNode(name: item.name, kind: item.kind, with: item.with.mapValues(\.expression)))
            case let item as Output: outputs[item.name] = item.value.expression
            case let item as Cast: cast[item.member.name] = item.member
            default: break
            }
        }
        self = try PipelineAssembler.assemble(name: name, vars: vars, defaults: defaults, stages: stages, outputs: outputs,
                                              baseFolder: baseFolder, file: nil, registry: registry, cast: cast, picks: picks)
    }
}
