import Foundation
import Media
import Pipeline

/// `encode:` on every stage that encodes (`concat` when it re-encodes, `color-match`,
/// `soundtrack`, `trim`, and plugins that declare it, such as `loudness-normalize`): how the
/// result is encoded. A pipeline's (or a profile's) top-level `encode:` gives every such stage
/// its defaults; the settings are part of the action key. The built-in registry checks it by
/// name (``StageRegistry/parameterChecks``), so every stage's is checked the same way.
enum EncodeParameter {
    static let name = "encode"
    static let spec = ParameterSpec(name, .object)
    static let help = "how the result is encoded: video_codec (h264; hevc needs libx265), crf 0–51, preset (ultrafast … veryslow), "
        + "max_bitrate (12M, with a one-second VBV buffer), audio_bitrate (192k), pixel_format (yuv420p), faststart (index first, for the web)"

    /// The block's values as `EncodeSettings.applying` takes them.
    private static func plain(_ block: [String: Value]) -> [String: Any] {
        block.mapValues { value -> Any in
            switch value {
            case .number(let number): number
            case .string(let text): text
            case .bool(let flag): flag
            default: value.text
            }
        }
    }

    /// Every problem with `encode:`, as `encode.KEY: …` (so it is told where the key is written).
    static func problems(_ value: Value?) -> [String] {
        guard let value, value != .null else { return [] }
        guard let block = value.object else { return ["encode: must be a mapping such as { crf: 18, preset: medium }"] }
        var problems: [String] = []
        for key in block.keys.sorted() where !EncodeSettings.keys.contains(key) {
            problems.append("encode.\(key): not an encode setting"
                            + (closest(to: key, in: EncodeSettings.keys).map { "; did you mean `\($0)`?" }
                                ?? " (encode takes \(EncodeSettings.keys.joined(separator: ", ")))"))
        }
        let known = block.filter { EncodeSettings.keys.contains($0.key) }
        problems += EncodeSettings.standard.applying(plain(known)).problems.map { "encode.\($0)" }
        return problems
    }

    /// `base` with the block's settings over it; a problem is a stage error (validation said it first).
    static func settings(_ value: Value?, base: EncodeSettings) throws -> EncodeSettings {
        guard let block = value?.object else { return base }
        let (settings, problems) = base.applying(plain(block))
        if let problem = problems.first { throw PipelineError(.invalidPipeline, "encode.\(problem)") }
        return settings
    }
}
