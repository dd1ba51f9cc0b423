import Foundation
import Media
import Pipeline
import SeedanceAPI

/// A JSON Schema (draft 2020-12) for pipeline files, made from a ``StageCatalog``: for editors
/// (yaml-language-server completes keys and flags a wrong value as it is typed). `validate`
/// stays the authority: the schema knows types, allowed values and ranges, not what running
/// tells (files, references, the API's own rules).
///
/// Every parameter takes its own type or an expression string (`${shot.video}`,
/// `${vars.n}`); any other string where a number belongs is an error.
public enum PipelineSchema {
    public static let draft = "https://json-schema.org/draft/2020-12/schema"

    public static func make(_ catalog: StageCatalog) -> Value {
        let kinds = catalog.entries.map(\.kind)
        var definitions: [String: Value] = [
            "expression": .object(["type": .string("string"), "pattern": .string("\\$\\{[^}]+\\}"),
                                   "description": .string("a reference such as ${stage.output} or ${vars.name}")]),
        ]
        var conditions: [Value] = []
        for entry in catalog.entries {
            var properties: [String: Value] = [:]
            for port in entry.inputs { properties[port.name] = schema(port) }
            for parameter in entry.parameters { properties[parameter.name] = schema(parameter) }
            definitions["with-\(entry.kind)"] = .object([
                "type": .string("object"), "additionalProperties": .bool(false), "properties": .object(properties),
                "description": .string("`with:` of \(entry.kind)"),
            ])
            conditions.append(.object([
                "if": .object(["properties": .object(["uses": .object(["const": .string(entry.kind)])]), "required": .list([.string("uses")])]),
                "then": .object(["properties": .object(["with": .object(["$ref": .string("#/$defs/with-\(entry.kind)")])])]),
            ]))
        }
        let summaries = catalog.entries.map { "\($0.kind): \($0.summary)" }.joined(separator: "\n")
        definitions["stage"] = .object([
            "type": .string("object"), "additionalProperties": .bool(false), "required": .list([.string("uses")]),
            "properties": .object([
                "uses": .object(["enum": .list(kinds.map(Value.string)), "description": .string("the stage's kind (seedpipe stages KIND tells its keys)\n" + summaries)]),
                "with": .object(["type": .string("object"), "description": .string("its inputs and parameters")]),
                "description": .object(["type": .string("string")]),
            ]),
            "allOf": .list(conditions),
        ])
        definitions["encode"] = .object([
            "type": .string("object"), "additionalProperties": .bool(false),
            "description": .string("how stages that encode write the film (concat when it re-encodes, color-match, soundtrack)"),
            "properties": .object([
                "video_codec": .object(["enum": .list(EncodeSettings.VideoCodec.allCases.map { .string($0.rawValue) })]),
                "crf": .object(["type": .string("integer"), "minimum": .number(0), "maximum": .number(51)]),
                "preset": .object(["enum": .list(EncodeSettings.presets.map(Value.string))]),
                "max_bitrate": .object(["type": .list([.string("string"), .string("number")]), "description": .string("such as 12M")]),
                "audio_bitrate": .object(["type": .list([.string("string"), .string("number")]), "description": .string("such as 192k")]),
                "pixel_format": .object(["enum": .list(EncodeSettings.pixelFormats.map(Value.string))]),
                "faststart": .object(["type": .string("boolean")]),
            ]),
        ])
        definitions["profile"] = .object([
            "type": .string("object"), "additionalProperties": .bool(false),
            "description": .string("what the profile sets on every shot, and on stages by name"),
            "properties": .object([
                "resolution": .object(["enum": .list(GenerationRequest.resolutions.map(Value.string))]),
                "aspect_ratio": .object(["enum": .list(GenerationRequest.aspectRatios.map(Value.string))]),
                "duration": .object(["enum": .list(GenerationRequest.durations.map { .number(Double($0)) })]),
                "generate_audio": .object(["type": .string("boolean")]),
                "encode": .object(["$ref": .string("#/$defs/encode")]),
                "stages": .object(["type": .string("object"), "additionalProperties": .object(["type": .string("object")]),
                                   "description": .string("parameters of stages by name, such as film: { crossfade: 0.5 }")]),
            ]),
        ])
        let mediaFile: Value = .object(["type": .string("string"), "description": .string("a file beside the pipeline, or ${stage.output}")])
        return .object([
            "$schema": .string(draft),
            "title": .string("seedpipe pipeline"),
            "description": .string("A seedpipe pipeline file (seedpipe schema writes this; seedpipe validate is the authority)."),
            "type": .string("object"),
            "additionalProperties": .bool(false),
            "required": .list([.string("stages")]),
            "properties": .object([
                "pipeline": .object(["type": .string("string"), "description": .string("the pipeline's name (outputs go to out/NAME)")]),
                "description": .object(["type": .string("string")]),
                "vars": .object(["type": .string("object"), "description": .string("values for templates and ${vars.NAME}; --var NAME=VALUE overrides one")]),
                "defaults": .object(["type": .string("object"), "additionalProperties": .object(["type": .string("object")]),
                                     "description": .string("parameters given to every stage of a group: seedance (every generation) or a kind")]),
                "cast": .object(["type": .string("object"), "description": .string("characters and things held across shots: members named by the shots' cast: [names]"),
                                 "additionalProperties": .object([
                                     "type": .string("object"), "additionalProperties": .bool(false),
                                     "properties": .object(["image": mediaFile, "video": mediaFile, "audio": mediaFile,
                                                            "note": .object(["type": .string("string"), "description": .string("words for {{cast.NAME.note}}")])]),
                                 ])]),
                "profiles": .object(["type": .string("object"), "additionalProperties": .object(["$ref": .string("#/$defs/profile")]),
                                     "description": .string("named settings to run in (draft, final, social): takes are explored in default_profile, another finishes the picks")]),
                "default_profile": .object(["type": .string("string"), "description": .string("the profile takes are explored in, and what runs without --profile")]),
                "encode": .object(["$ref": .string("#/$defs/encode")]),
                "stages": .object(["type": .string("object"), "additionalProperties": .object(["$ref": .string("#/$defs/stage")]),
                                   "description": .string("the stages by name; they run as their references allow")]),
                "outputs": .object(["type": .string("object"), "description": .string("what the run delivers to its out folder, by name"),
                                    "additionalProperties": .object(["anyOf": .list([
                                        .object(["type": .string("string")]),
                                        .object(["type": .string("array"), "items": .object(["type": .string("string")])]),
                                    ])])]),
            ]),
            "$defs": .object(definitions),
        ])
    }

    /// The schema as pretty JSON, keys sorted (so a committed copy changes only with the stages).
    public static func json(_ catalog: StageCatalog) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(make(catalog)) + Data("\n".utf8)
    }

    static let expression: Value = .object(["$ref": .string("#/$defs/expression")])

    static func schema(_ port: StageCatalog.PortInfo) -> Value {
        var item: [String: Value] = [:]
        switch port.type {
        case "number": item["type"] = .list([.string("number"), .string("string")])
        case "json": break
        default: item["type"] = .string("string")
        }
        var schema: [String: Value]
        if port.list {
            var list: [String: Value] = ["type": .string("array"), "items": .object(item)]
            if let maximum = port.maximum { list["maxItems"] = .number(Double(maximum)) }
            schema = ["anyOf": .list([.object(list), expression])]
        } else {
            schema = item
        }
        schema["description"] = .string(describe(port.description, port.list ? "[\(port.type)]" : port.type, required: port.required))
        return .object(schema)
    }

    static func schema(_ parameter: StageCatalog.ParameterInfo) -> Value {
        var own: [String: Value] = [:]
        switch parameter.type {
        case "string": own["type"] = .string("string")
        case "integer": own["type"] = .string("integer")
        case "number": own["type"] = .string("number")
        case "boolean": own["type"] = .string("boolean")
        case "list": own["type"] = .string("array")
        case "mapping": own["type"] = .string("object")
        default: break
        }
        if let allowed = parameter.allowed { own["enum"] = .list(allowed) }
        if let minimum = parameter.minimum { own["minimum"] = .number(minimum) }
        if let maximum = parameter.maximum { own["maximum"] = .number(maximum) }
        var schema: [String: Value] = own.isEmpty ? [:] : ["anyOf": .list([.object(own), expression])]
        var words = describe(parameter.description, parameter.type, required: parameter.required)
        if let value = parameter.defaultValue {
            schema["default"] = value
            words += " (default: \(value.text))"
        }
        schema["description"] = .string(words)
        return .object(schema)
    }

    static func describe(_ description: String?, _ type: String, required: Bool) -> String {
        (description.map { "\($0) — " } ?? "") + type + (required ? ", required" : "")
    }
}
