import Foundation
import Media
import Pipeline
import SeedanceAPI

/// `concat`: clips joined in order (stream copy when they allow it), cut or crossfaded.
/// With `color_match: anchor` each clip's colour is measured against the anchor
/// (`color_anchor`, else the first clip's first frame) and the clips that drifted past
/// `color_tolerance` (ΔE) are corrected as the film is joined; `drift` reports every clip.
public struct ConcatStage: Stage {
    public let kind = "concat"
    public init() {}
    public var documentation: StageDocumentation {
        StageDocumentation("joins clips in order into one film: stream copy when they allow it, cuts or crossfades, optionally colour-matched",
                           inputs: ["clips": "the clips, in order", "color_anchor": "with color_match: anchor, the colour to match"],
                           outputs: ["video": "the film", "drift": "with color_match: anchor, each clip's colour distance (ΔE)"],
                           parameters: ["reencode": "re-encode even when the clips could be stream-copied",
                                        "transition": "how clips meet: a cut (none) or a crossfade",
                                        "transition_seconds": "the crossfade's length, seconds",
                                        "color_match": "anchor: correct clips that drifted from the anchor colour as they are joined",
                                        "color_tolerance": "drift (ΔE) up to which a clip is left as it is",
                                        "encode": EncodeParameter.help + " (any setting but faststart makes the join re-encode)",
                                        "trim_head": "cut from each clip's start: " + ClipTime.help + ", or a list with one per clip (re-encodes)",
                                        "trim_tail": "cut from each clip's end: " + ClipTime.help + ", or a list with one per clip (re-encodes)"],
                           example: ["clips": .list([.string("clip.mp4"), .string("clip.mp4")]), "transition": .string("crossfade"),
                                     "transition_seconds": .number(0.5)])
    }

    public var signature: StageSignature {
        StageSignature(inputs: [Port("clips", .list(.video)), Port("color_anchor", .image, required: false)],
                       outputs: [Port("video", .video), Port("drift", .json, required: false)],
                       parameters: [ParameterSpec("reencode", .boolean, default: .bool(false)),
                                    ParameterSpec("transition", .string, default: .string("none"),
                                                  allowed: [.string("none"), .string("crossfade")]),
                                    ParameterSpec("transition_seconds", .number, default: .number(0.5), range: 0.04...10)]
                           + ColorMatchStage.parameters + [EncodeParameter.spec, ParameterSpec("trim_head", .any), ParameterSpec("trim_tail", .any)])
    }

    public func check(_ parameters: [String: Value]) -> [String] {
        var problems: [String] = []
        for name in ["trim_head", "trim_tail"] {
            guard let value = parameters[name], value != .null else { continue }
            let items = value.list ?? [value]
            if let clips = parameters["clips"]?.list, value.list != nil, items.count != clips.count {
                problems.append("\(name): \(items.count) values for \(clips.count) clips; give one per clip, or one for all")
            }
            problems += items.enumerated().compactMap { ClipTime.problem(value.list == nil ? name : "\(name)[\($0.offset)]", $0.element) }
        }
        return problems
    }

    /// Each clip's trim, from `trim_head` and `trim_tail` (one value for all, or one per clip).
    static func trims(_ invocation: StageInvocation, clips: [URL]) throws -> [ClipTrim] {
        func times(_ name: String) -> [ClipTime?] {
            guard let value = invocation[name], value != .null else { return Array(repeating: nil, count: clips.count) }
            if let list = value.list { return list.map(ClipTime.init) }
            return Array(repeating: ClipTime(value), count: clips.count)
        }
        let heads = times("trim_head"), tails = times("trim_tail")
        guard heads.contains(where: { $0 != nil }) || tails.contains(where: { $0 != nil }) else { return [] }
        // Frames of the film: the first clip's rate.
        let rate = try Concatenation.frames(of: clips[0]).rate
        return clips.indices.map { index in
            ClipTrim(head: (index < heads.count ? heads[index] : nil)?.frames(at: rate) ?? 0,
                            tail: (index < tails.count ? tails[index] : nil)?.frames(at: rate) ?? 0)
        }
    }
    public func run(_ invocation: StageInvocation, context: StageContext) async throws -> [String: Value] {
        let stored = try await context.store.verifiedLocations(of: (invocation["clips"]?.list ?? []).compactMap(\.artifact))
        let scratch = context.scratch
        let clips = try await BlockingIO.run {
            try stored.enumerated().map { index, file in
                let link = scratch.appendingPathComponent("clip\(index).mp4")
                try FileManager.default.linkItem(at: file, to: link)
                return link
            }
        }
        var outputs: [String: Value] = [:]
        var corrections: [ColorCorrection?] = []
        if invocation["color_match"]?.string == "anchor" {
            let matched = try await ColorMatchStage.measure(clips, invocation: invocation, context: context)
            corrections = matched.corrections
            outputs["drift"] = matched.report
        }
        let output = context.scratch.appendingPathComponent("joined.mp4")
        let transition: Concatenation.Transition = invocation["transition"]?.string == "crossfade"
            ? .crossfade(seconds: invocation["transition_seconds"]?.number ?? 0.5) : .none
        // Encode settings beyond `faststart` are asked of an encoder: they re-encode the join.
        let encodes = (invocation["encode"]?.object ?? [:]).keys.contains { $0 != "faststart" }
        let method: Concatenation.Method = invocation["reencode"]?.bool == true || encodes ? .reencode : .automatic
        let encode = try EncodeParameter.settings(invocation["encode"], base: .reencode)
        _ = try await MediaThread.run { [corrections] in
            try Concatenation.join(clips, to: output, method: method, transition: transition, corrections: corrections,
                                   trims: try Self.trims(invocation, clips: clips), encode: encode) { done, total in
                context.progress(Double(done) / Double(total), "clip \(done)/\(total)")
            }
        }
        outputs["video"] = .artifact(try await context.store.put(file: output, type: .video))
        return outputs
    }
}
