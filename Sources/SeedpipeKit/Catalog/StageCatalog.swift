import Foundation
import Pipeline
import Stages

/// Every stage kind a pipeline can use, described from the registry: the built-in stages and
/// macros, and the plugins found for a pipeline folder (as `seedpipe run` finds them). What
/// `seedpipe stages` prints and `seedpipe schema` is made from.
public struct StageCatalog: Sendable {
    /// One kind.
    public struct Entry: Sendable, Codable, Hashable {
        public var kind: String
        /// `built-in`, or `plugin NAME VERSION (FOLDER)`.
        public var origin: String
        public var summary: String
        /// Expands into other stages before it runs (`seedance.chain`, `seedance.storyboard`).
        public var macro: Bool
        public var inputs: [PortInfo]
        public var outputs: [PortInfo]
        public var parameters: [ParameterInfo]
        /// The pool it runs in (`--jobs` sizes `seedance`, `--cpu-jobs` sizes `cpu`).
        public var pool: String
        /// What a run of it costs, in words.
        public var cost: String
        /// A `with:` block that `validate` accepts (media inputs: clip.mp4, frame.png, music.m4a).
        public var example: [String: Value]?
        /// Takes `takes: N` (several takes of a shot) and `cast: [names]`.
        public var takes: Bool
        public var cast: Bool

        /// Every key `with:` accepts.
        public var keys: [String] { inputs.map(\.name) + parameters.map(\.name) }
    }

    public struct PortInfo: Sendable, Codable, Hashable {
        public var name: String
        /// `video`, `image`, `audio`, `file`, `text`, `number`, `json`.
        public var type: String
        public var list: Bool
        public var required: Bool
        /// The most items a list takes.
        public var maximum: Int?
        public var description: String?
    }

    public struct ParameterInfo: Sendable, Codable, Hashable {
        public var name: String
        /// `string`, `integer`, `number`, `boolean`, `list`, `mapping` or `any`.
        public var type: String
        public var required: Bool
        public var defaultValue: Value?
        public var allowed: [Value]?
        public var minimum: Double?
        public var maximum: Double?
        /// Part of the action key (a change makes the stage run again).
        public var keyed: Bool
        public var description: String?

        enum CodingKeys: String, CodingKey {
            case name, type, required, allowed, minimum, maximum, keyed, description
            case defaultValue = "default"
        }
    }

    public var entries: [Entry]
    /// Problems with the plugins found (a bad manifest, a missing program), as `plugins ls` reports them.
    public var problems: [Diagnostic]

    public func entry(_ kind: String) -> Entry? { entries.first { $0.kind == kind } }

    /// The built-in stages and the plugins a pipeline in `folder` (default: the current
    /// folder) would find.
    public static func load(pipelineFolder folder: URL? = nil) -> StageCatalog {
        let pipeline = (folder ?? URL(fileURLWithPath: FileManager.default.currentDirectoryPath)).appendingPathComponent("pipeline.yaml")
        let plugins = PluginCatalog.discover(in: PluginCatalog.searchPath(pipeline: pipeline, shipped: PluginCatalog.shippedFolders))
        var registry = BuiltinStages.registry()
        let builtins = Set(registry.kinds)
        let problems = plugins.registerUsable(into: &registry, describe: BuiltinStages.describeMedia)
        var origins: [String: String] = [:]
        for plugin in plugins.plugins {
            let manifest = plugin.manifest
            for stage in manifest.stages where origins[stage.kind] == nil {
                origins[stage.kind] = "plugin \(manifest.name) \(manifest.version) (\(manifest.folder.relativePath))"
            }
        }
        var entries: [Entry] = []
        for kind in registry.kinds {
            let origin = builtins.contains(kind) ? "built-in" : origins[kind] ?? "plugin"
            if let macro = registry.macro(kind) {
                entries.append(describe(macro: macro, origin: origin))
            } else if let stage = registry.stage(kind) {
                entries.append(describe(stage: stage, origin: origin))
            }
        }
        return StageCatalog(entries: entries, problems: problems)
    }

    static func describe(stage: any Stage, origin: String) -> Entry {
        let signature = stage.signature, documentation = stage.documentation
        let cost = stage.cost(Dictionary(uniqueKeysWithValues: signature.parameters.compactMap { spec in spec.defaultValue.map { (spec.name, $0) } }))
        // `cast: [names]` as written (the stage receives the members themselves).
        var parameters = signature.parameters.filter { signature.cast == nil || $0.name != "cast" }
            .map { info($0, documentation.parameters[$0.name]) }
        if signature.takes != nil {
            parameters.append(ParameterInfo(name: "takes", type: "integer", required: false, defaultValue: .number(1), minimum: 1, maximum: 100,
                                            keyed: false, description: documentation.parameters["takes"] ?? "how many takes of the shot to make"))
        }
        if signature.cast != nil {
            parameters.append(ParameterInfo(name: "cast", type: "list", required: false, keyed: true,
                                            description: documentation.parameters["cast"] ?? "names of the pipeline's cast members"))
        }
        return Entry(kind: stage.kind, origin: origin, summary: documentation.summary, macro: false,
                     inputs: signature.inputs.map { info($0, documentation.inputs[$0.name]) },
                     outputs: signature.outputs.map { info($0, documentation.outputs[$0.name]) },
                     parameters: parameters, pool: signature.pool.name,
                     cost: cost.generations > 0 ? "\(cost.generations == 1 ? "one generation" : "\(cost.generations) generations") a run, paid by the second of video at its resolution"
                         : "free (local work)",
                     example: example(documentation.example, signature: signature, builtIn: origin == "built-in"), takes: signature.takes != nil, cast: signature.cast != nil)
    }

    /// The stage's own example; else (or when a plugin's names input files, which it names
    /// from its own folder) one made from the signature: the required inputs as the
    /// example files by type, the required parameters at their first allowed value, least or default.
    static func example(_ given: [String: Value]?, signature: StageSignature, builtIn: Bool) -> [String: Value]? {
        if let given, builtIn || !signature.inputs.contains(where: { given[$0.name] != nil }) { return given }
        func file(_ type: ArtifactType) -> Value {
            switch type {
            case .video: .string("clip.mp4")
            case .image: .string("frame.png")
            case .audio: .string("music.m4a")
            case .list(let element): .list([file(element), file(element)])
            case .number: .number(1)
            default: .string("a line of text")
            }
        }
        var values: [String: Value] = [:]
        for port in signature.inputs where port.required { values[port.name] = file(port.type) }
        for spec in signature.parameters where spec.required {
            if let first = spec.allowed?.first { values[spec.name] = first; continue }
            if let value = spec.defaultValue { values[spec.name] = value; continue }
            switch spec.kind {
            case .integer, .number: values[spec.name] = .number(spec.range.map { max($0.lowerBound, 1) } ?? 1)
            case .boolean: values[spec.name] = .bool(false)
            case .list: values[spec.name] = .list([])
            case .object: values[spec.name] = .object([:])
            default: values[spec.name] = .string("text")
            }
        }
        return values
    }

    static func describe(macro: any MacroStage, origin: String) -> Entry {
        let documentation = macro.documentation
        return Entry(kind: macro.kind, origin: origin, summary: documentation.summary, macro: true, inputs: [],
                     outputs: documentation.outputs.keys.sorted().map {
                         PortInfo(name: $0, type: "", list: true, required: true, description: documentation.outputs[$0])
                     },
                     parameters: macro.parameters.map { info($0, documentation.parameters[$0.name]) },
                     pool: "seedance (one seedance.generate per shot)", cost: "one generation per shot, paid by the second of video",
                     example: documentation.example, takes: macro.acceptedKeys.contains("takes"), cast: macro.acceptedKeys.contains("cast"))
    }

    static func info(_ port: Pipeline.Port, _ description: String?) -> PortInfo {
        if case .list(let element) = port.type {
            return PortInfo(name: port.name, type: element.description, list: true, required: port.required, maximum: port.maximum,
                            description: description)
        }
        return PortInfo(name: port.name, type: port.type.description, list: false, required: port.required, description: description)
    }

    static func info(_ spec: ParameterSpec, _ description: String?) -> ParameterInfo {
        let type = switch spec.kind {
        case .string: "string"
        case .integer: "integer"
        case .number: "number"
        case .boolean: "boolean"
        case .list: "list"
        case .object: "mapping"
        case .any: "any"
        }
        let low = spec.range?.lowerBound, high = spec.range?.upperBound
        return ParameterInfo(name: spec.name, type: type, required: spec.required, defaultValue: spec.defaultValue, allowed: spec.allowed,
                             minimum: low.flatMap { $0 <= -Double.greatestFiniteMagnitude ? nil : $0 },
                             maximum: high.flatMap { $0 >= Double.greatestFiniteMagnitude ? nil : $0 }, keyed: spec.keyed,
                             description: description)
    }
}
