import ArgumentParser
import Foundation
import Media

struct LastFrameCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "last-frame",
        abstract: "Write the very last frame of a video as an image.",
        discussion: """
            This is the frame a chained generation starts from, so PNG (lossless) is the
            right choice; .jpg works too.

            Example (seedpipe synth -o clip.mp4 makes a clip to try it on):
              seedpipe last-frame clip.mp4 -o last.png
            """
    )

    @Argument(help: "The video to take the last frame from.")
    var file: String

    @Option(name: .shortAndLong, help: "The image to write: .png (or .jpg).")
    var output: String

    @Option(help: "Scale to this width in pixels (the height keeps the aspect ratio).")
    var width: Int?

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard ImageFormat(pathExtension: URL(fileURLWithPath: output).pathExtension) != nil else {
            throw ValidationError("-o \(output): use a .png, .jpg or .jpeg file name")
        }
    }

    func run() throws {
        global.apply()
        let still = try VideoFile(URL(fileURLWithPath: file)).writeLastFrame(to: URL(fileURLWithPath: output), width: width)
        print("wrote \(output) (\(still.width)x\(still.height), frame at \(Format.seconds(still.time)))")
    }
}
