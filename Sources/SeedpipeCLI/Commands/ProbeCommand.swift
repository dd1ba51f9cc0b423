import ArgumentParser
import Foundation
import Media

struct ProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Describe a media file: container, duration and every stream.",
        discussion: """
            Examples (seedpipe synth -o clip.mp4 makes a clip to try them on):
              seedpipe probe clip.mp4
              seedpipe probe clip.mp4 --json | jq '.streams[0].width'
            """
    )

    @Argument(help: "The media file to describe.")
    var file: String

    @Flag(help: "Print JSON instead of text.")
    var json = false

    @OptionGroup var global: GlobalOptions

    func run() throws {
        global.apply()
        let info = try MediaInfo.probe(URL(fileURLWithPath: file))
        if json { return try Terminal.json(info) }
        var header = "\(file): \(info.container)"
        if let duration = info.duration { header += ", \(Format.seconds(duration))" }
        if let size = info.size { header += ", \(Format.bytes(size))" }
        if let bitRate = info.bitRate { header += ", \(Format.bitRate(bitRate))" }
        print(header)
        for stream in info.streams { print("  " + describe(stream)) }
    }

    private func describe(_ stream: StreamInfo) -> String {
        var parts = ["#\(stream.index) \(stream.kind.rawValue): \(stream.codec)" + (stream.profile.map { " (\($0))" } ?? "")]
        if let width = stream.width, let height = stream.height {
            var size = "\(width)x\(height)"
            if let rotation = stream.rotation {
                size += " (rotation \(String(format: "%g", rotation))°, shown \(stream.displayWidth ?? width)x\(stream.displayHeight ?? height))"
            }
            parts.append(size)
        }
        if let pixelFormat = stream.pixelFormat { parts.append(pixelFormat) }
        if let nominal = stream.nominalFrameRate, let average = stream.frameRate, abs(nominal - average) > 0.01 {
            parts.append(String(format: "%g fps (%.2f average)", nominal, average))
        } else if let rate = stream.frameRate {
            parts.append(String(format: "%g fps", rate))
        }
        if let sampleRate = stream.sampleRate { parts.append("\(sampleRate) Hz") }
        if let layout = stream.channelLayout ?? stream.channels.map({ "\($0) channels" }) { parts.append(layout) }
        if let duration = stream.duration { parts.append(Format.seconds(duration)) }
        if let frames = stream.frameCount { parts.append("\(frames) \(stream.kind == .video ? "frames" : "packets")") }
        if let bitRate = stream.bitRate { parts.append(Format.bitRate(bitRate)) }
        return parts.joined(separator: ", ")
    }
}
