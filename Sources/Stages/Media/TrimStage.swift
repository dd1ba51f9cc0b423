import Foundation
import Media
import Pipeline

/// A length or a point in a clip, as a pipeline writes it: seconds (`0.5`) or frames (`"12f"`).
enum ClipTime: Hashable {
    case seconds(Double)
    case frames(Int)

    static let help = "seconds (0.5) or frames (\"12f\")"

    init?(_ value: Value) {
        switch value {
        case .number(let seconds) where seconds >= 0 && seconds.isFinite: self = .seconds(seconds)
        case .string(let text) where text.hasSuffix("f"):
            guard let frames = Int(text.dropLast()), frames >= 0 else { return nil }
            self = .frames(frames)
        case .string(let text) where text.hasSuffix("s"):
            guard let seconds = Double(text.dropLast()), seconds >= 0, seconds.isFinite else { return nil }
            self = .seconds(seconds)
        default: return nil
        }
    }

    /// Whole frames at `rate` (seconds rounded to the nearest frame).
    func frames(at rate: Int) -> Int {
        switch self {
        case .seconds(let seconds): Int((seconds * Double(rate)).rounded())
        case .frames(let frames): frames
        }
    }

    /// Seconds, frames counted at `rate` (a generated clip's 24 fps when the clip is not made yet).
    func seconds(at rate: Double = 24) -> Double {
        switch self {
        case .seconds(let seconds): seconds
        case .frames(let frames): Double(frames) / rate
        }
    }

    /// Why `value` is not one, for `check`.
    static func problem(_ name: String, _ value: Value?) -> String? {
        guard let value, value != .null else { return nil }
        return ClipTime(value) == nil ? "\(name): \(value.text) is not a time; give \(help), 0 or more" : nil
    }
}

/// `trim`: part of a clip, cut at exact frames with its sound cut to match: the GOPs the cuts
/// fall in are re-encoded (as `encode:` says) and the rest copied, where the clip allows it
/// (``Concatenation`` says how). `start` and then `end` or `duration`, each seconds or frames.
public struct TrimStage: Stage {
    public let kind = "trim"
    public init() {}

    public var documentation: StageDocumentation {
        StageDocumentation("part of a clip, cut at exact frames with its sound cut to match (only the GOPs the cuts fall in are re-encoded, where the clip allows)",
                           inputs: ["video": "the clip"], outputs: ["video": "the part kept"],
                           parameters: ["start": "where the part starts: " + ClipTime.help + " from the clip's start (default 0)",
                                        "end": "where it ends: " + ClipTime.help + " from the clip's start (default: the clip's end)",
                                        "duration": "how long it lasts, instead of end: " + ClipTime.help,
                                        "encode": EncodeParameter.help],
                           example: ["video": .string("clip.mp4"), "start": .number(0.5), "duration": .string("24f")])
    }

    public var signature: StageSignature {
        StageSignature(inputs: [Port("video", .video)], outputs: [Port("video", .video)],
                       parameters: [ParameterSpec("start", .any), ParameterSpec("end", .any), ParameterSpec("duration", .any),
                                    EncodeParameter.spec])
    }

    public func check(_ parameters: [String: Value]) -> [String] {
        var problems = ["start", "end", "duration"].compactMap { ClipTime.problem($0, parameters[$0]) }
        if parameters["end"].map({ $0 != .null }) == true, parameters["duration"].map({ $0 != .null }) == true {
            problems.append("duration: give end or duration, not both")
        }
        // The clip's length known before it is made (a generation's duration): a cut outside it is refused now.
        if let length = MediaEstimate.duration(of: parameters["video"]) {
            let start = parameters["start"].flatMap(ClipTime.init)?.seconds() ?? 0
            let text = Value.number(length).text
            if start >= length {
                problems.append("start: \(parameters["start"]!.text) is past the end of the clip (\(text) s, as its generation asks)")
            } else if let end = parameters["end"].flatMap(ClipTime.init)?.seconds(), end > length + 1e-9 {
                problems.append("end: \(parameters["end"]!.text) is past the end of the clip (\(text) s, as its generation asks)")
            } else if let duration = parameters["duration"].flatMap(ClipTime.init)?.seconds(), start + duration > length + 1e-9 {
                problems.append("duration: \(parameters["duration"]!.text) from \(Value.number(start).text) s runs past the end of the clip (\(text) s, as its generation asks)")
            }
        }
        return problems
    }

    /// The cut's length, when the clip's is known.
    public func estimatedDurations(_ parameters: [String: Value]) -> [String: Double] {
        guard let length = MediaEstimate.duration(of: parameters["video"]) else { return [:] }
        let start = parameters["start"].flatMap(ClipTime.init)?.seconds() ?? 0
        let end = parameters["end"].flatMap(ClipTime.init)?.seconds()
            ?? parameters["duration"].flatMap(ClipTime.init).map { start + $0.seconds() } ?? length
        return ["video": max(0, min(end, length) - start)]
    }

    public func run(_ invocation: StageInvocation, context: StageContext) async throws -> [String: Value] {
        let clip = try await context.store.verifiedLocation(of: invocation["video"]!.artifact!)
        let encode = try EncodeParameter.settings(invocation["encode"], base: .reencode)
        let start = invocation["start"].flatMap(ClipTime.init), end = invocation["end"].flatMap(ClipTime.init)
        let duration = invocation["duration"].flatMap(ClipTime.init)
        let output = context.scratch.appendingPathComponent("trimmed.mp4")
        context.progress(0, "cutting")
        let link = context.scratch.appendingPathComponent("clip.mp4")
        try await BlockingIO.run { try FileManager.default.linkItem(at: clip, to: link) }
        _ = try await MediaThread.run {
            let (rate, frames) = try Concatenation.frames(of: link)
            let head = start?.frames(at: rate) ?? 0
            let last = end.map { $0.frames(at: rate) } ?? duration.map { head + $0.frames(at: rate) } ?? frames
            guard last <= frames, last > head else {
                throw PipelineError(.invalidPipeline, "the clip has \(frames) frames (\(rate) fps): frames \(head) to \(last) are not a part of it")
            }
            // Automatic: only the cut GOPs are re-encoded where the clip allows it (SmartTrim).
            return try Concatenation.join([link], to: output, trims: [ClipTrim(head: head, tail: frames - last)],
                                          encode: encode)
        }
        return ["video": .artifact(try await context.store.put(file: output, type: .video))]
    }
}
