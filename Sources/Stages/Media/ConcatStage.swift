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
        // Clips whose length is known before they are made (a generation's duration): trims and
        // a crossfade that do not fit them are refused now, not after the clips were paid for.
        let lengths = (parameters["clips"]?.list ?? []).map(MediaEstimate.duration(of:))
        let kept = Self.keptLengths(parameters, lengths: lengths)
        for (index, length) in lengths.enumerated() {
            guard let length, let left = kept[index], left <= 1e-9 else { continue }
            let (head, tail) = Self.trim(parameters, index)
            problems.append("\(head > 0 ? "trim_head" : "trim_tail"): cuts \(Value.number(head + tail).text) s from clip \(index + 1) of "
                            + "\(lengths.count), which lasts \(Value.number(length).text) s (as its generation asks): nothing would be left of it")
        }
        if parameters["transition"]?.string == "crossfade", let seconds = parameters["transition_seconds"]?.number, lengths.count > 1 {
            for (index, left) in kept.enumerated() {
                guard let left, left > 1e-9, seconds >= left - 1e-9 else { continue }
                problems.append("transition_seconds: a \(Value.number(seconds).text) s crossfade is as long as clip \(index + 1) "
                                + "(\(Value.number(left).text) s\(Self.trim(parameters, index) != (0, 0) ? " once trimmed" : "")): make it shorter than every clip")
                break
            }
        }
        return problems
    }

    /// The film's length, when every clip's is known: the clips as trimmed, less each crossfade.
    public func estimatedDurations(_ parameters: [String: Value]) -> [String: Double] {
        let lengths = (parameters["clips"]?.list ?? []).map(MediaEstimate.duration(of:))
        let kept = Self.keptLengths(parameters, lengths: lengths)
        guard !kept.isEmpty, kept.allSatisfy({ $0 != nil }) else { return [:] }
        let fades = parameters["transition"]?.string == "crossfade" ? (parameters["transition_seconds"]?.number ?? 0.5) * Double(kept.count - 1) : 0
        return ["video": max(0, kept.compactMap { $0 }.reduce(0, +) - fades)]
    }

    /// Seconds cut from clip `index`'s head and tail (`trim_head`, `trim_tail`: one for all, or one per clip).
    static func trim(_ parameters: [String: Value], _ index: Int) -> (head: Double, tail: Double) {
        func time(_ name: String) -> Double {
            guard let value = parameters[name], value != .null else { return 0 }
            let item = value.list.map { index < $0.count ? $0[index] : .null } ?? value
            return ClipTime(item)?.seconds() ?? 0
        }
        return (time("trim_head"), time("trim_tail"))
    }

    /// Each clip's length once trimmed, where its length is known.
    static func keptLengths(_ parameters: [String: Value], lengths: [Double?]) -> [Double?] {
        lengths.enumerated().map { index, length in
            length.map { length in
                let (head, tail) = trim(parameters, index)
                return length - head - tail
            }
        }
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
