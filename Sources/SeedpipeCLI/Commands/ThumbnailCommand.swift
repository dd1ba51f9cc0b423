import ArgumentParser
import Foundation
import Media

struct ThumbnailCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "thumbnail",
        abstract: "Write the frame shown at a time as a JPEG or PNG image.",
        discussion: """
            The frame is exact: seedpipe seeks to the keyframe before the time and decodes
            forward to the frame on screen at that moment. The image type follows the
            output's extension (.jpg, .jpeg or .png).

            Examples (seedpipe synth -o clip.mp4 makes a clip to try them on):
              seedpipe thumbnail clip.mp4 --at 2.5 -o poster.jpg
              seedpipe thumbnail clip.mp4 --at 4 --width 640 -o preview.png
            """
    )

    @Argument(help: "The video to take the frame from.")
    var file: String

    @Option(help: "The time of the frame, in seconds from the start.")
    var at: Double

    @Option(help: "Scale to this width in pixels (the height keeps the aspect ratio).")
    var width: Int?

    @Option(name: .shortAndLong, help: "The image to write: .jpg, .jpeg or .png.")
    var output: String

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard ImageFormat(pathExtension: URL(fileURLWithPath: output).pathExtension) != nil else {
            throw ValidationError("-o \(output): use a .jpg, .jpeg or .png file name")
        }
        if let width, width < 2 || width > 16384 {
            throw ValidationError("--width \(width) is out of range; use 2 to 16384")
        }
    }

    func run() throws {
        global.apply()
        let shown = try VideoFile(URL(fileURLWithPath: file)).writeStill(at: at, to: URL(fileURLWithPath: output), width: width)
        print("wrote \(output) (frame at \(Format.seconds(shown.time)))")
    }
}
