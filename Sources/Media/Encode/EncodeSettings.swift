internal import CFFmpeg
import Foundation

/// How a film is encoded when seedpipe encodes one (a re-encoding join, a colour match, a
/// soundtrack's mix): the video codec and its quality and speed, a bit-rate cap for platforms
/// that have one, the audio bit rate, and whether the index goes first for web playback.
///
/// ```swift
/// var settings = EncodeSettings.reencode
/// settings.crf = 18
/// settings.maxBitRate = 12_000_000      // with a matching VBV buffer
/// settings.faststart = true             // moov before mdat
/// ```
public struct EncodeSettings: Sendable, Hashable {
    public enum VideoCodec: String, Sendable, Hashable, CaseIterable {
        /// H.264 with libx264.
        case h264
        /// H.265 with libx265, tagged `hvc1` in MP4 so Apple's players open it.
        case hevc

        /// The FFmpeg encoder that makes it.
        public var encoder: String { self == .h264 ? "libx264" : "libx265" }
        var id: AVCodecID { self == .h264 ? AV_CODEC_ID_H264 : AV_CODEC_ID_HEVC }
        /// Whether this FFmpeg has the encoder.
        public var isAvailable: Bool { avcodec_find_encoder_by_name(encoder) != nil }
    }

    public var videoCodec: VideoCodec
    /// Constant rate factor: 0 (lossless) … 51; lower is better and bigger.
    public var crf: Int
    /// The encoder's speed/size trade: `ultrafast` … `veryslow` (slower is smaller at the same quality).
    public var preset: String
    /// Bits per second the video may not exceed, enforced with a VBV buffer of one second of it
    /// (nil: no cap).
    public var maxBitRate: Int?
    /// AAC bits per second.
    public var audioBitRate: Int
    /// The pixel format of the video (this build writes 4:2:0 8-bit, what players take everywhere).
    public var pixelFormat: String
    /// Moves the MP4 index (`moov`) before the media (`mdat`), so playback starts before the
    /// whole file is fetched.
    public var faststart: Bool

    public init(videoCodec: VideoCodec = .h264, crf: Int = 20, preset: String = "veryfast", maxBitRate: Int? = nil,
                audioBitRate: Int = 128_000, pixelFormat: String = "yuv420p", faststart: Bool = false) {
        self.videoCodec = videoCodec
        self.crf = crf
        self.preset = preset
        self.maxBitRate = maxBitRate
        self.audioBitRate = audioBitRate
        self.pixelFormat = pixelFormat
        self.faststart = faststart
    }

    /// What a re-encoding join, a colour match and a crossfade write unless told otherwise.
    public static let reencode = EncodeSettings(crf: 18)
    /// What the other writers use unless told otherwise (a soundtrack's and a loudness pass's audio).
    public static let standard = EncodeSettings()

    /// The presets x264 and x265 share.
    public static let presets = ["ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow", "placebo"]
    public static let pixelFormats = ["yuv420p"]
    /// The keys of an `encode:` block, as pipeline files write them.
    public static let keys = ["video_codec", "crf", "preset", "max_bitrate", "audio_bitrate", "pixel_format", "faststart"]

    /// `12M`, `800k`, `192000` as bits per second (k = 1000); nil when it is not one.
    public static func bitRate(_ text: String) -> Int? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let multiplier: Double
        var digits = Substring(trimmed)
        switch trimmed.last {
        case "k", "K": multiplier = 1_000; digits = digits.dropLast()
        case "m", "M": multiplier = 1_000_000; digits = digits.dropLast()
        default: multiplier = 1
        }
        guard let value = Double(digits), value > 0, value.isFinite else { return nil }
        return Int((value * multiplier).rounded())
    }

    /// "12M", "192k": a bit rate as people write it.
    public static func describe(bitRate: Int) -> String {
        bitRate % 1_000_000 == 0 ? "\(bitRate / 1_000_000)M" : bitRate % 1_000 == 0 ? "\(bitRate / 1_000)k" : String(bitRate)
    }

    /// These settings with an `encode:` block's values over them. Each problem names its key
    /// (`crf: 60 is out of range …`) and what is allowed, the encoder missing from this FFmpeg
    /// included; the block's values are plain (numbers, strings, booleans).
    public func applying(_ block: [String: Any]) -> (settings: EncodeSettings, problems: [String]) {
        var settings = self
        var problems: [String] = []
        for key in block.keys.sorted() {
            // Shown as written: 60, not 60.0.
            let value: Any = (block[key] as? Double).map { $0 == $0.rounded() && abs($0) < 1e15 ? String(Int($0)) : String($0) } ?? block[key]!
            let raw = block[key]!
            switch key {
            case "video_codec":
                guard let text = value as? String, let codec = VideoCodec(rawValue: text) else {
                    problems.append("video_codec: \(value) is not a codec here; use h264 or hevc")
                    continue
                }
                guard codec.isAvailable else {
                    problems.append("video_codec: \(text) needs the \(codec.encoder) encoder, which this FFmpeg does not have; "
                                    + "use h264, or an FFmpeg built with \(codec.encoder)")
                    continue
                }
                settings.videoCodec = codec
            case "crf":
                guard let number = raw as? Double, number == number.rounded(), (0...51).contains(number) else {
                    problems.append("crf: \(value) is out of range; use a whole number from 0 (lossless) to 51")
                    continue
                }
                settings.crf = Int(number)
            case "preset":
                guard let text = value as? String, Self.presets.contains(text) else {
                    problems.append("preset: \(value) is not a preset; use one of \(Self.presets.joined(separator: ", "))")
                    continue
                }
                settings.preset = text
            case "max_bitrate", "audio_bitrate":
                let rate = (raw as? String).flatMap(Self.bitRate) ?? (raw as? Double).flatMap { $0 > 0 ? Int($0) : nil }
                guard let rate else {
                    problems.append("\(key): \(value) is not a bit rate; write it as 12M, 800k or bits per second")
                    continue
                }
                if key == "audio_bitrate" {
                    guard (16_000...512_000).contains(rate) else {
                        problems.append("audio_bitrate: \(value) is out of range; use 16k to 512k")
                        continue
                    }
                    settings.audioBitRate = rate
                } else {
                    guard (100_000...500_000_000).contains(rate) else {
                        problems.append("max_bitrate: \(value) is out of range; use 100k to 500M")
                        continue
                    }
                    settings.maxBitRate = rate
                }
            case "pixel_format":
                guard let text = value as? String, Self.pixelFormats.contains(text) else {
                    problems.append("pixel_format: \(value) is not written here; use \(Self.pixelFormats.joined(separator: ", "))")
                    continue
                }
                settings.pixelFormat = text
            case "faststart":
                guard let flag = raw as? Bool else {
                    problems.append("faststart: \(value) must be true or false")
                    continue
                }
                settings.faststart = flag
            default:
                problems.append("\(key): not an encode setting (encode takes \(Self.keys.joined(separator: ", ")))")
            }
        }
        return (settings, problems)
    }
}
