import ArgumentParser
import Foundation
import Media

struct SynthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Render a synthetic test clip (H.264 + AAC) to try the other commands on.",
        discussion: """
            The picture is a moving gradient with the frame number drawn as a row of black
            and white cells; the sound is a sine tone.

            Examples:
              seedpipe synth -o clip.mp4
              seedpipe synth -o wide.mp4 --size 1280x720 --duration 5 --tone 440
              seedpipe synth -o mute.mp4 --no-audio
            """
    )

    @Option(name: .shortAndLong, help: "The MP4 file to write.")
    var output: String

    @Option(help: "Length in seconds.")
    var duration: Double = 5

    @Option(help: "Frame size, WIDTHxHEIGHT (even numbers).")
    var size: String = "1280x720"

    @Option(help: "Frames per second.")
    var fps: Int = 25

    @Option(help: "Tone frequency in Hz.")
    var tone: Double = 440

    @Option(parsing: .unconditional, help: "Tone level in dBFS (negative, e.g. -12).")
    var level: Double = -12

    @Flag(help: "Leave out the audio track.")
    var noAudio = false

    @Option(help: "Changes the colours, so clips differ.")
    var seed: Int = 0

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard parsedSize != nil else { throw ValidationError("--size \(size): use WIDTHxHEIGHT, e.g. 1280x720") }
        guard duration > 0, duration <= 3600 else { throw ValidationError("--duration must be more than 0 and at most 3600 seconds") }
        guard (1...240).contains(fps) else { throw ValidationError("--fps must be 1 to 240") }
    }

    private var parsedSize: (Int, Int)? {
        let parts = size.lowercased().split(separator: "x").compactMap { Int($0) }
        guard parts.count == 2, parts[0] >= 16, parts[1] >= 16 else { return nil }
        return (parts[0], parts[1])
    }

    func run() throws {
        global.apply()
        let (width, height) = parsedSize!
        let clip = SyntheticClip(
            width: width, height: height, frameRate: fps, duration: duration,
            tone: noAudio ? nil : .init(frequency: tone, level: level), seed: seed)
        try clip.render(to: URL(fileURLWithPath: output))
        print("wrote \(output): \(width)x\(height), \(fps) fps, \(Format.seconds(duration))\(noAudio ? ", no audio" : "")")
    }
}
