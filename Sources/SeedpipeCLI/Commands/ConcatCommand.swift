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
            without audio gets silence of its own length.

            Examples:
              seedpipe synth -o a.mp4
              seedpipe synth -o b.mp4 --seed 1
              seedpipe concat a.mp4 b.mp4 -o film.mp4
              seedpipe concat a.mp4 b.mp4 -o film.mp4 --reencode
              seedpipe concat a.mp4 b.mp4 -o film.mp4 --crossfade 0.5
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

    @OptionGroup var global: GlobalOptions

    func validate() throws {
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
            method: reencode ? .reencode : .automatic, transition: crossfade.map { .crossfade(seconds: $0) } ?? .none,
            progress: { done, total in Terminal.progress("joining clip \(done)/\(total)", done: done == total) })
        let how = result.method == .streamCopy ? "by stream copy" : "by re-encoding"
        print("wrote \(output): \(result.clipCount) clips joined \(how), \(Format.seconds(result.duration))")
        for reason in result.reasons { print("  re-encoded because \(reason)") }
    }
}
