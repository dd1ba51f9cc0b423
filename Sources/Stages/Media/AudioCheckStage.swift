import Foundation
import Media
import Pipeline
import SeedanceAPI

/// `audio-check`: fails the run (or warns) when the audio is missing, silent or out of range.
public struct AudioCheckStage: Stage {
    public let kind = "audio-check"
    public init() {}
    public var documentation: StageDocumentation {
        StageDocumentation("checks a video's audio: fails the run (or warns) when it is missing, silent or outside a loudness range",
                           inputs: ["video": "the video to check"],
                           outputs: ["report": "loudness (LUFS), true peak, silent stretches and the problems found"],
                           parameters: ["min_loudness": "the quietest integrated loudness allowed, LUFS",
                                        "max_loudness": "the loudest integrated loudness allowed, LUFS",
                                        "silence_threshold": "below this level (dBFS) a stretch counts as silence",
                                        "on_problem": "fail the run, or only warn"],
                           example: ["video": .string("clip.mp4"), "min_loudness": .number(-24), "max_loudness": .number(-10)])
    }

    public var signature: StageSignature {
        StageSignature(inputs: [Port("video", .video)], outputs: [Port("report", .json)],
                       parameters: [ParameterSpec("min_loudness", .number), ParameterSpec("max_loudness", .number),
                                    ParameterSpec("silence_threshold", .number, default: .number(-60)),
                                    ParameterSpec("on_problem", .string, default: .string("fail"),
                                                  allowed: [.string("fail"), .string("warn")])])
    }
    public func run(_ invocation: StageInvocation, context: StageContext) async throws -> [String: Value] {
        let video = try await context.store.verifiedLocation(of: invocation["video"]!.artifact!)
        let threshold = invocation["silence_threshold"]?.number ?? -60
        let levels = try await MediaThread.run { try AudioLevels.analyze(video, options: .init(silenceThreshold: threshold)) }
        var problems: [String] = []
        if !levels.hasAudio { problems.append("no audio track") }
        else if levels.isSilent { problems.append("the audio is silent") }
        else if let loudness = levels.integratedLoudness {
            if let floor = invocation["min_loudness"]?.number, loudness < floor {
                problems.append(String(format: "loudness %.1f LUFS is under %.1f", loudness, floor))
            }
            if let ceiling = invocation["max_loudness"]?.number, loudness > ceiling {
                problems.append(String(format: "loudness %.1f LUFS is over %.1f", loudness, ceiling))
            }
        }
        if !problems.isEmpty && invocation["on_problem"]?.string != "warn" {
            throw StageError(.checkFailed, "audio check: " + problems.joined(separator: "; "))
        }
        for problem in problems { context.logger.warning("audio check: \(problem)") }
        var report = try Value(encoding: levels).object ?? [:]
        report["problems"] = .list(problems.map { .string($0) })
        return ["report": .object(report)]
    }
}
