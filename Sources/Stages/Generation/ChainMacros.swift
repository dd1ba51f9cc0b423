import Foundation
import Media
import Pipeline

/// The generation parameters a macro passes through to every shot.
let generationParameters = ["duration", "resolution", "aspect_ratio", "generate_audio", "seed", "skip_moderation", "sound", "takes",
                            "retries_on_blocked", "cast", "reference_images", "reference_videos", "reference_audios"]

/// `seedance.chain`: N prompts to N clips where clip k+1 starts on clip k's last frame.
///
/// It expands into N `seedance.generate` stages (`NAME-1` … `NAME-N`), each reading the
/// previous one's `last_frame` (the API's own lossless PNG when the backend returns it,
/// else the exact last frame extracted with Media), so each clip is keyed on the real
/// bytes of that frame and regenerating clip k invalidates only the clips after it; and a
/// `NAME-seams` stage measuring every join. Exports `clips`, `last_frames` and `seams`.
public struct ChainMacro: MacroStage {
    public let kind = "seedance.chain"
    public var acceptedKeys: [String] {
        ["prompts", "first_frame", "seam_threshold", "color_match", "color_anchor", "color_tolerance"] + generationParameters
    }
    public init() {}

    public var parameters: [ParameterSpec] {
        [ParameterSpec("prompts", .list, required: true), ParameterSpec("first_frame", .string),
         ParameterSpec("seam_threshold", .number, default: .number(30)),
         ParameterSpec("color_match", .string, default: .string("none"), allowed: [.string("none"), .string("anchor")]),
         ParameterSpec("color_anchor", .string), ColorMatchStage.tolerance] + passedThrough
    }

    public var documentation: StageDocumentation {
        StageDocumentation("N prompts to N chained shots: shot k+1 starts on shot k's last frame (so they run one after another), with every seam measured and optional colour matching",
                           outputs: ["clips": "the shots' clips, in order (colour-matched with color_match: anchor)",
                                     "last_frames": "each shot's last frame", "seams": "how well each shot continues the one before (PSNR)",
                                     "drift": "with color_match: anchor, each shot's colour distance (ΔE)"],
                           parameters: GenerateStage.parameterHelp.merging([
                               "prompts": "one prompt per shot: a list, or \"${prompts.texts}\" from a template with each:",
                               "first_frame": "the image the first shot starts on",
                               "seam_threshold": "PSNR (dB) under which a seam is reported as poor",
                               "color_match": "anchor: correct shots that drifted in colour toward the anchor",
                               "color_anchor": "the colour to match (default: first_frame, else shot 1's first frame)",
                               "color_tolerance": "drift (ΔE) up to which a shot is left as it is",
                           ]) { $1 },
                           example: ["prompts": .list([.string("Shot 1: dawn over a harbour"), .string("Shot 2: the boats leave")]),
                                     "first_frame": .string("frame.png"), "duration": .number(5)])
    }

    public func expand(name: String, with: [String: ValueExpression], location: SourceLocation?, context: MacroContext) throws
        -> MacroExpansion
    {
        guard let prompts = with["prompts"], let count = context.staticCount(of: prompts), count >= 1 else {
            throw PipelineError("stage `\(name)` (seedance.chain) needs `prompts`: a list, or the texts of a template with a literal `each:`",
                                at: location, fix: "e.g. prompts: \"${prompts.texts}\"")
        }
        let passthrough = with.filter { generationParameters.contains($0.key) }
        var shots: [StageNode] = []
        for index in 0..<count {
            var parameters = passthrough
            parameters["prompt"] = context.item(index, of: prompts)
            if index == 0 {
                if let first = with["first_frame"] { parameters["first_frame"] = first }
            } else {
                parameters["first_frame"] = .reference(Reference(stage: shots[index - 1].name, output: "last_frame"))
            }
            shots.append(StageNode(name: "\(name)-\(index + 1)", kind: "seedance.generate", with: parameters, location: location))
        }
        let clips = ValueExpression.list(shots.map { .reference(Reference(stage: $0.name, output: "video")) })
        var seams = StageNode(name: "\(name)-seams", kind: "seams", with: ["clips": clips], location: location)
        if let threshold = with["seam_threshold"] { seams.with["threshold"] = threshold }
        var exports: [String: ValueExpression] = [
            "clips": clips,
            "last_frames": .list(shots.map { .reference(Reference(stage: $0.name, output: "last_frame")) }),
            "seams": .reference(Reference(stage: seams.name, output: "report")),
        ]
        var stages = shots + [seams]
        switch with["color_match"] {
        case nil, .literal(.string("none")): break
        case .literal(.string("anchor")):
            // The anchor: `color_anchor`, else the chain's first frame, else shot 1's first frame.
            var color = StageNode(name: "\(name)-color", kind: "color-match", with: ["clips": clips], location: location)
            if let anchor = with["color_anchor"] ?? with["first_frame"] { color.with["color_anchor"] = anchor }
            if let tolerance = with["color_tolerance"] { color.with["color_tolerance"] = tolerance }
            stages.append(color)
            exports["clips"] = .reference(Reference(stage: color.name, output: "clips"))
            exports["drift"] = .reference(Reference(stage: color.name, output: "drift"))
        default:
            throw PipelineError("stage `\(name)` (seedance.chain): color_match is `none` or `anchor`", at: location,
                                fix: "color_match: anchor (correct each shot's colour toward the first frame)")
        }
        return MacroExpansion(stages: stages, exports: exports)
    }
}

/// `seedance.storyboard`: shot k goes from keyframe k to keyframe k+1 (first and last
/// frame), so every shot can generate at once: six shots take about one generation's time.
public struct StoryboardMacro: MacroStage {
    public let kind = "seedance.storyboard"
    public var acceptedKeys: [String] { ["keyframes", "prompts"] + generationParameters }
    public init() {}

    public var parameters: [ParameterSpec] {
        [ParameterSpec("keyframes", .list, required: true), ParameterSpec("prompts", .list, required: true)] + passedThrough
    }

    public var documentation: StageDocumentation {
        StageDocumentation("keyframe-anchored shots: shot k goes from keyframe k to keyframe k+1, so every shot generates at once",
                           outputs: ["clips": "the shots' clips, in order", "last_frames": "each shot's last frame"],
                           parameters: GenerateStage.parameterHelp.merging([
                               "keyframes": "N+1 images for N shots",
                               "prompts": "one prompt per shot (N)",
                           ]) { $1 },
                           example: ["keyframes": .list([.string("frame.png"), .string("frame.png"), .string("frame.png")]),
                                     "prompts": .list([.string("Shot 1: the valley at dawn"), .string("Shot 2: noon")])])
    }

    public func expand(name: String, with: [String: ValueExpression], location: SourceLocation?, context: MacroContext) throws
        -> MacroExpansion
    {
        guard let keyframes = with["keyframes"], let frames = context.staticCount(of: keyframes), frames >= 2 else {
            throw PipelineError("stage `\(name)` (seedance.storyboard) needs `keyframes`: a list of at least two images",
                                at: location)
        }
        guard let prompts = with["prompts"], let count = context.staticCount(of: prompts), count == frames - 1 else {
            throw PipelineError("stage `\(name)` (seedance.storyboard) needs `prompts`: one per shot, \(frames - 1) for \(frames) keyframes",
                                at: location)
        }
        let passthrough = with.filter { generationParameters.contains($0.key) }
        let shots = (0..<count).map { index in
            var parameters = passthrough
            parameters["prompt"] = context.item(index, of: prompts)
            parameters["first_frame"] = context.item(index, of: keyframes)
            parameters["last_frame"] = context.item(index + 1, of: keyframes)
            return StageNode(name: "\(name)-\(index + 1)", kind: "seedance.generate", with: parameters, location: location)
        }
        return MacroExpansion(stages: shots, exports: [
            "clips": .list(shots.map { .reference(Reference(stage: $0.name, output: "video")) }),
            "last_frames": .list(shots.map { .reference(Reference(stage: $0.name, output: "last_frame")) }),
        ])
    }
}

/// The generation parameters a macro passes through, typed as `seedance.generate` takes
/// them (`takes` and `cast` as its take and cast support take them).
var passedThrough: [ParameterSpec] {
    let generate = GenerateStage().signature
    return generationParameters.compactMap { name in
        // `cast: [names]` as written (the stage receives the members themselves).
        if name == "cast" { return ParameterSpec("cast", .list) }
        if let spec = generate.parameters.first(where: { $0.name == name }) { return spec }
        if let port = generate.inputs.first(where: { $0.name == name }) {
            if case .list = port.type { return ParameterSpec(name, .list) }
            return ParameterSpec(name, .string)
        }
        return name == "takes" ? ParameterSpec("takes", .integer, range: 1...100) : nil
    }
}

/// `seams`: how well each clip continues the one before, as PSNR between clip k's last
/// frame and clip k+1's first. A seam under the threshold is a warning in the report.
public struct SeamStage: Stage {
    public let kind = "seams"
    public init() {}

    public var documentation: StageDocumentation {
        StageDocumentation("how well each clip continues the one before: PSNR between clip k's last frame and clip k+1's first",
                           inputs: ["clips": "the clips, in order"], outputs: ["report": "each seam's PSNR, and which are under the threshold"],
                           parameters: ["threshold": "PSNR (dB) under which a seam is reported as poor"],
                           example: ["clips": .list([.string("clip.mp4"), .string("clip.mp4")])])
    }

    public var signature: StageSignature {
        StageSignature(inputs: [Port("clips", .list(.video))], outputs: [Port("report", .json)],
                       parameters: [ParameterSpec("threshold", .number, default: .number(30))])
    }

    public func run(_ invocation: StageInvocation, context: StageContext) async throws -> [String: Value] {
        let clips = try await context.store.verifiedLocations(of: (invocation["clips"]?.list ?? []).compactMap(\.artifact))
        let threshold = invocation["threshold"]?.number ?? 30
        var seams: [Value] = []
        for index in clips.indices.dropLast() {
            let (from, to) = (clips[index], clips[index + 1])
            let psnr = try await MediaThread.run {
                try VideoFile(from).lastFrame().psnr(to: try VideoFile(to).frame(at: 0)).map { $0.isInfinite ? 99 : $0 }
            }
            let poor = (psnr ?? 0) < threshold
            if poor {
                context.logger.warning("seam \(index + 1)→\(index + 2): \(String(format: "%.1f", psnr ?? 0)) dB, under \(threshold) dB")
            }
            seams.append(.object(["from": .number(Double(index + 1)), "to": .number(Double(index + 2)),
                                  "psnr": psnr.map { .number(($0 * 10).rounded() / 10) } ?? .null, "warning": .bool(poor)]))
        }
        return ["report": .object(["seams": .list(seams), "threshold": .number(threshold)])]
    }
}
