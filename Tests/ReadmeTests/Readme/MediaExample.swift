import Foundation

// The README's Media example, compiled here (ReadmeExampleTests checks the README shows it).
// README: begin
import Media

func mediaTour(url: URL, posterURL: URL, clips: [URL], filmURL: URL, out: URL, frameImage: FrameImage, samples: [Float]) throws {
    let info = try MediaInfo.probe(url)                       // container and streams
    let poster = try VideoFile(url).frame(at: 2.5)            // FrameImage, RGB
    try poster.write(to: posterURL, width: 640)               // .jpg or .png by extension
    let last = try VideoFile(url).lastFrame()
    let levels = try AudioLevels.analyze(url)                 // peak, rms, integratedLoudness, silences
    let result = try Concatenation.join(clips, to: filmURL)   // .streamCopy or .reencode, with reasons

    let writer = try MovieWriter(url: out, video: VideoSettings(width: 1280, height: 720), audio: AudioSettings())
    try writer.append(frameImage)
    try writer.appendAudio(interleaved: samples)
    try writer.finish()
    _ = (info, last, levels, result)
}
// README: end
