import Foundation
import Media
import Pipeline
import SeedanceAPI

/// `color-match`: clips measured against an anchor colour (`anchor`, else the first clip's
/// first frame); each clip that drifted past `color_tolerance` (ΔE) is corrected and
/// re-encoded, the others pass through as they are (the same bytes, so a join can still
/// stream-copy them). `seedance.chain` with `color_match: anchor` ends in one of these.
public struct ColorMatchStage: Stage {
    public let kind = "color-match"
    public init() {}
    public var documentation: StageDocumentation {
        StageDocumentation("brings clips that drifted in colour back to an anchor (corrected ones re-encoded, the rest passed through as they are)",
                           inputs: ["clips": "the clips, in order", "color_anchor": "the colour to match (default: the first clip's first frame)"],
                           outputs: ["clips": "the clips, corrected where they drifted", "drift": "each clip's colour distance (ΔE) before and after"],
                           parameters: ["color_tolerance": "drift (ΔE) up to which a clip is left as it is",
                                        "encode": EncodeParameter.help + " (for the corrected clips)"],
                           example: ["clips": .list([.string("clip.mp4"), .string("clip.mp4")]), "color_anchor": .string("frame.png")])
    }


    static let tolerance = ParameterSpec("color_tolerance", .number, default: .number(3), range: 0...100)
    /// What `concat` takes to match colour as it joins.
    static let parameters = [
        ParameterSpec("color_match", .string, default: .string("none"), allowed: [.string("none"), .string("anchor")]), tolerance,
    ]

    public var signature: StageSignature {
        StageSignature(inputs: [Port("clips", .list(.video)), Port("color_anchor", .image, required: false)],
                       outputs: [Port("clips", .list(.video)), Port("drift", .json)],
                       parameters: [Self.tolerance, EncodeParameter.spec])
    }


    public func run(_ invocation: StageInvocation, context: StageContext) async throws -> [String: Value] {
        let artifacts = (invocation["clips"]?.list ?? []).compactMap(\.artifact)
        let clips = try await context.store.verifiedLocations(of: artifacts)
        let matched = try await Self.measure(clips, invocation: invocation, context: context)
        let encode = try EncodeParameter.settings(invocation["encode"], base: .reencode)
        var outputs: [Value] = []
        for (index, artifact) in artifacts.enumerated() {
            guard let correction = matched.corrections[index] else {
                outputs.append(.artifact(artifact))
                continue
            }
            context.progress(Double(index) / Double(artifacts.count), "correcting the colour of clip \(index + 1)")
            let file = context.scratch.appendingPathComponent("clip\(index + 1).mp4")
            _ = try await MediaThread.run { [clip = clips[index]] in
                try Concatenation.join([clip], to: file, method: .reencode, corrections: [correction], encode: encode)
            }
            outputs.append(.artifact(try await context.store.put(file: file, type: .video)))
        }
        return ["clips": .list(outputs), "drift": matched.report]
    }

    /// Every clip's drift against the anchor and, past the tolerance, its correction.
    static func measure(_ clips: [URL], invocation: StageInvocation, context: StageContext) async throws
        -> (corrections: [ColorCorrection?], report: Value)
    {
        let tolerance = invocation["color_tolerance"]?.number ?? 3
        let anchorImage: URL? = if let anchor = invocation["color_anchor"]?.artifact {
            try await context.store.verifiedLocation(of: anchor)
        } else { nil }
        context.progress(0, "measuring colour drift")
        let measured = try await MediaThread.run {
            let anchor = try anchorImage.map(ColorMatch.statistics(ofImage:)) ?? ColorMatch.statistics(ofFirstFrame: clips[0])
            return try clips.map { try ColorMatch.plan(ColorMatch.statistics(ofClip: $0), anchor: anchor, tolerance: tolerance) }
        }
        var shots: [Value] = []
        for (index, entry) in measured.enumerated() {
            let drift = entry.drift
            if drift.corrected {
                context.logger.info("clip \(index + 1): colour drift ΔE \(String(format: "%.1f", drift.before)) → \(String(format: "%.1f", drift.after))")
            }
            shots.append(.object(["clip": .number(Double(index + 1)), "before": .number((drift.before * 100).rounded() / 100),
                                  "after": .number((drift.after * 100).rounded() / 100), "corrected": .bool(drift.corrected)]))
        }
        let report = Value.object(["tolerance": .number(tolerance), "anchor": .string(anchorImage == nil ? "first frame" : "color_anchor"),
                                   "clips": .list(shots)])
        return (measured.map(\.correction), report)
    }
}
