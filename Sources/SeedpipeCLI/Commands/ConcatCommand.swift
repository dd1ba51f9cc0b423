import ArgumentParser
import Foundation
import Media

struct ConcatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "concat",
        abstract: "Join clips, in order, into one MP4.",
        discussion: """
            Clips with the same format are joined by stream copy: no quality loss, and as
            fast as the disk. Otherwise (or with --reencode) every clip is re-encoded to the
            first clip's size and frame rate, letterboxed rather than stretched. A clip
            without audio gets silence of its own length. The encoding options apply when
            the clips are re-encoded (any of them but --faststart re-encodes); --faststart
            puts the index first either way, so a browser plays before the whole file loads.

            Examples:
              seedpipe synth -o a.mp4
              seedpipe synth -o b.mp4 --seed 1
              seedpipe concat a.mp4 b.mp4 -o film.mp4
              seedpipe concat a.mp4 b.mp4 -o film.mp4 --reencode
              seedpipe concat a.mp4 b.mp4 -o film.mp4 --crossfade 0.5
              seedpipe concat a.mp4 b.mp4 -o web.mp4 --crf 23 --max-bitrate 2M --faststart
            """
    )

    @Argument(help: "The clips to join, in order (at least two).")
    var clips: [String] = []

    @Option(name: .shortAndLong, help: "The MP4 file to write.")
    var output: String

    @Flag(help: "Re-encode even when stream copy is possible.")
    var reencode = false

    @Option(help: "Overlap each join by this many seconds, fading picture and sound (re-encodes).")
    var crossfade: Double?

    @Option(help: ArgumentHelp("Video codec: h264 (libx264), or hevc (libx265, tagged hvc1) where this FFmpeg has it.", valueName: "CODEC"))
    var videoCodec: String?

    @Option(help: "Constant rate factor, 0 (lossless) to 51 (default 18 for a re-encoded join).")
    var crf: Int?

    @Option(help: "Encoder preset: ultrafast, superfast, veryfast (default), faster, fast, medium, slow, slower, veryslow.")
    var preset: String?

    @Option(help: ArgumentHelp("Cap the video's bit rate (with a one-second VBV buffer), such as 12M.", valueName: "RATE"))
    var maxBitrate: String?

    @Option(help: ArgumentHelp("AAC bit rate, such as 192k (default 128k).", valueName: "RATE"))
    var audioBitrate: String?

    @Flag(help: "Write the index (moov) before the media, for web playback.")
    var faststart = false

    @OptionGroup var global: GlobalOptions

    /// The encoding options as an `encode:` block.
    var encodeBlock: [String: Any] {
        var block: [String: Any] = [:]
        if let videoCodec { block["video_codec"] = videoCodec }
        if let crf { block["crf"] = Double(crf) }
        if let preset { block["preset"] = preset }
        if let maxBitrate { block["max_bitrate"] = maxBitrate }
        if let audioBitrate { block["audio_bitrate"] = audioBitrate }
        if faststart { block["faststart"] = true }
        return block
    }

    /// Options that only mean something when re-encoding.
    var asksForEncoding: Bool { videoCodec != nil || crf != nil || preset != nil || maxBitrate != nil || audioBitrate != nil }

    func validate() throws {
        if let problem = EncodeSettings.reencode.applying(encodeBlock).problems.first {
            throw ValidationError("--" + problem.replacingOccurrences(of: "_", with: "-"))
        }
        if let crossfade, !(crossfade > 0 && crossfade <= 10) {
            throw ValidationError("--crossfade must be more than 0 and at most 10 seconds")
        }
        guard clips.count >= 2 else {
            throw ValidationError(clips.isEmpty
                ? "give the clips to join: seedpipe concat CLIP CLIP... -o OUT.mp4"
                : "concat needs at least two clips (got 1); to copy one clip, copy the file")
        }
    }

    func run() throws {
        global.apply()
        let result = try Concatenation.join(
            clips.map { URL(fileURLWithPath: $0) }, to: URL(fileURLWithPath: output),
            method: reencode || asksForEncoding ? .reencode : .automatic, transition: crossfade.map { .crossfade(seconds: $0) } ?? .none,
            encode: EncodeSettings.reencode.applying(encodeBlock).settings,
            progress: { done, total in Terminal.progress("joining clip \(done)/\(total)", done: done == total) })
        let how = result.method == .streamCopy ? "by stream copy" : "by re-encoding"
        print("wrote \(output): \(result.clipCount) clips joined \(how), \(Format.seconds(result.duration))")
        for reason in result.reasons { print("  re-encoded because \(reason)") }
    }
}
