import Foundation
import Media
import MediaTestSupport
import Testing

/// Clips from anywhere (the shapes of `Corpus`), each against the `ffmpeg` program.
@Suite(.timeLimit(.minutes(10))) struct CorpusTests {
    static let audible = Corpus.clips.filter(\.hasAudio).map(\.name)

    /// Levels, loudness and the normalizer's measure use the decoded shape (mono MP3 in MP4
    /// says stereo in its header and decodes mono; a TS changes rate and layout mid-way).
    @Test(arguments: audible) func audioIsMeasuredAsDecoded(_ name: String) throws {
        let url = try Corpus.file(name)
        let levels = try AudioLevels.analyze(url)
        let referee = try #require(try Referee.integratedLoudness(url))
        #expect(levels.hasAudio)
        let loudness = try #require(levels.integratedLoudness, "\(name)")
        #expect(abs(loudness - referee) <= 0.5, "\(name): \(loudness) LUFS, ffmpeg \(referee)")
        let measured = try #require(try LoudnessNormalizer.measure(url).integratedLoudness)
        #expect(abs(measured - referee) <= 0.5, "\(name): the normalizer measures \(measured) LUFS, ffmpeg \(referee)")
        let probed = try MediaInfo.probe(url).audio
        #expect(levels.channels == probed?.channels && levels.sampleRate == probed?.sampleRate || name == "audio_change.ts",
                "\(name): analysed as \(levels.channels ?? 0) channels at \(levels.sampleRate ?? 0) Hz, probed \(String(describing: probed))")
    }

    @Test func monoMP3InMP4IsMono() throws {
        let url = try Corpus.file("mp3_mono.mp4")
        #expect(try AudioLevels.analyze(url).channels == 1)
        let samples = try AudioSamples.read(url, sampleRate: 48_000, channels: 2)
        #expect(samples.channels == 2 && abs(samples.duration - 1) < 0.05, "mono read as two channels on request")
        #expect(throws: MediaError.self) { try AudioSamples.read(url, seconds: .nan) }
    }

    static let videos = Corpus.clips.map(\.name)

    /// ffprobe's rotation of a file's first video stream (0 when none).
    static func refereeRotation(_ url: URL) throws -> Double {
        let result = try Referee.run("ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries", "stream_side_data=rotation",
                                                 "-of", "csv=p=0", url.path])
        return Double(String(decoding: result.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    }

    /// Probe reports the rotation as ffprobe does and the size as shown.
    @Test(arguments: Corpus.clips) func probeReportsRotationAndDisplaySize(_ clip: Corpus.Entry) throws {
        let url = try Corpus.file(clip.name)
        let video = try #require(try MediaInfo.probe(url).video)
        #expect(video.rotation ?? 0 == Double(clip.rotation), "\(clip.name)")
        #expect(try Self.refereeRotation(url) == Double(clip.rotation), "\(clip.name): the fixture has the rotation the test expects")
        // Its length and rate as ffprobe reads them: within a frame.
        let info = try MediaInfo.probe(url)
        let refereeDuration = try #require(try Referee.formatDuration(url))
        let frame = 1 / (video.nominalFrameRate ?? 25)
        #expect(abs((info.duration ?? 0) - refereeDuration) <= frame, "\(clip.name): \(info.duration ?? 0) s, ffprobe \(refereeDuration) s")
        let turned = clip.rotation % 180 != 0
        #expect(video.displayWidth == (turned ? video.height : video.width) && video.displayHeight == (turned ? video.width : video.height),
                "\(clip.name)")
    }

    /// A still at 0.5 s and the very last frame, upright as shown, against ffmpeg's (which
    /// turns by the display matrix too): 40 dB or better.
    @Test(arguments: videos) func stillsAreUprightAsFFmpegShowsThem(_ name: String) throws {
        let url = try Corpus.file(name)
        let video = try #require(try MediaInfo.probe(url).video)
        let width = try #require(video.displayWidth), height = try #require(video.displayHeight)
        let still = try VideoFile(url).frame(at: 0.5)
        #expect(still.width == width && still.height == height, "\(name): \(still.width)x\(still.height)")
        // ffmpeg's -ss gives the first frame at or after the time: a millisecond before ours is ours.
        let referee = try Referee.frame(url, at: max(0, (still.time ?? 0.5) - 0.001), width: width, height: height)
        #expect((still.psnr(to: referee) ?? 0) >= 40, "\(name): \(still.psnr(to: referee) ?? 0) dB against ffmpeg's frame")
        let last = try VideoFile(url).lastFrame()
        // ffmpeg cannot seek near the end of the TS made of two joined segments: it decodes all of it.
        let refereeLast = name.hasSuffix(".ts") ? try lastByDecodingAll(url, width: width, height: height)
            : try Referee.frame(url, last: true, width: width, height: height)
        #expect((last.psnr(to: refereeLast) ?? 0) >= 40, "\(name): last frame \(last.psnr(to: refereeLast) ?? 0) dB")
    }

    func lastByDecodingAll(_ url: URL, width: Int, height: Int) throws -> FrameImage {
        let result = try Referee.run("ffmpeg", ["-v", "error", "-i", url.path, "-f", "rawvideo", "-pix_fmt", "rgb24",
                                                "-sws_flags", "bicubic+accurate_rnd", "-"])
        try #require(result.stdout.count >= width * height * 3)
        return FrameImage(width: width, height: height, pixels: [UInt8](result.stdout.suffix(width * height * 3)))
    }

    /// JPEG and PNG stills with an EXIF orientation are read upright (ffmpeg 5.1 turns a
    /// JPEG's by itself; a PNG's it ignores, so its referee is turned by a filter).
    @Test(arguments: Corpus.stills.map(\.name)) func exifOrientationIsHonoured(_ name: String) throws {
        let still = try #require(Corpus.stills.first { $0.name == name })
        let url = try Corpus.file(name)
        let image = try FrameImage(contentsOf: url)
        let turned = still.exif >= 5
        #expect(image.width == (turned ? 36 : 64) && image.height == (turned ? 64 : 36), "\(name)")
        let info = try #require(try MediaInfo.probe(url).video)
        #expect(info.rotation == Double(still.rotation) && info.displayWidth == image.width, "\(name): \(String(describing: info.rotation))")
        let filter = ["exif3": "hflip,vflip", "exif6": "transpose=clock", "exif8": "transpose=cclock"][String(name.prefix(5)), default: ""]
        var arguments = ["-v", "error", "-i", url.path]
        if name.hasSuffix(".png") { arguments += ["-vf", filter] }
        arguments += ["-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-sws_flags", "bicubic+accurate_rnd", "-"]
        let result = try Referee.run("ffmpeg", arguments)
        try #require(result.stdout.count == image.width * image.height * 3, "\(name): \(result.stderr)")
        let referee = FrameImage(width: image.width, height: image.height, pixels: [UInt8](result.stdout))
        #expect((image.psnr(to: referee) ?? 0) >= 40, "\(name): \(image.psnr(to: referee) ?? 0) dB")
    }

    /// Clips of one display matrix are stream-copied and the film keeps it.
    @Test func rotatedClipsOfOneMatrixAreCopiedAndKeepIt() throws {
        let folder = TemporaryFolder("corpus-copy")
        let clip = try Corpus.file("rot270.mp4")
        let output = folder.file("portrait.mp4")
        let result = try Concatenation.join([clip, clip], to: output)
        #expect(result.method == .streamCopy)
        #expect(try Self.refereeRotation(output) == -90)
        let film = try #require(try MediaInfo.probe(output).video)
        #expect(film.displayWidth == 36 && film.displayHeight == 64)
        // Re-mastering the sound copies the picture, and keeps it upright too.
        let mastered = folder.file("mastered.mp4")
        _ = try LoudnessNormalizer.normalize(output, to: mastered, target: -16)
        #expect(try Self.refereeRotation(mastered) == -90)
    }

    /// A mixed list is re-encoded: every clip upright, letterboxed or pillarboxed into the
    /// first one's frame as shown, with black bars, at its nominal rate, decoding cleanly.
    @Test func aMixedListIsJoinedUprightWithBlackBars() throws {
        let folder = TemporaryFolder("corpus-mix")
        let names = ["vfr.mp4", "rot270.mp4", "portrait.mp4", "hevc_rot270.mp4", "vp9_opus.webm", "mpeg2.ts", "yuv444_65x37.mp4",
                     "mono.mp4", "surround51.mp4", "noaudio.mp4", "mp3_mono.mp4", "fps12.mp4", "yuv422_65x37.mov", "rot90.mp4"]
        let urls = try names.map(Corpus.file)
        let output = folder.file("mixed.mp4")
        let layout = try Concatenation.layout(of: urls)
        #expect(layout.frameRate == 30, "the first clip's nominal rate, not its 27.9 average")
        let result = try Concatenation.join(urls, to: output)
        #expect(result.method == .reencode)
        let decode = try Referee.run("ffmpeg", ["-v", "error", "-i", output.path, "-f", "null", "-"])
        #expect(decode.status == 0 && decode.stderr.isEmpty, "\(decode.stderr)")
        #expect(try Referee.frameCount(output) == layout.frames)
        let video = try #require(try Referee.streamDuration(output, stream: "v"))
        let audio = try #require(try Referee.streamDuration(output, stream: "a"))
        #expect(abs(video - audio) <= 1.0 / 30, "picture \(video) s and sound \(audio) s end together")

        let starts = layout.starts
        let film = VideoFile(output)
        for (index, name) in names.enumerated() {
            // Mid-clip, the film shows the clip upright: ffmpeg's upright frame, scaled into the box.
            let source = urls[index]
            let info = try #require(try MediaInfo.probe(source).video)
            // Shown with its pixels' aspect (ffprobe's sample_aspect_ratio: 65x37 scaled from 16:9 keeps 16:9).
            let sar = String(decoding: try Referee.run("ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries",
                                                                  "stream=sample_aspect_ratio", "-of", "csv=p=0", source.path]).stdout,
                             as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ":").compactMap { Double($0) }
            let pixelAspect = sar.count == 2 && sar[0] > 0 && sar[1] > 0 ? sar[0] / sar[1] : 1
            let turned = info.displayWidth != info.width
            let (w, h) = (Double(info.displayWidth!) * (turned ? 1 : pixelAspect), Double(info.displayHeight!) * (turned ? pixelAspect : 1))
            let fit = min(64 / w, 36 / h)
            let boxWidth = max(2, Int((w * fit).rounded()) & ~1), boxHeight = max(2, Int((h * fit).rounded()) & ~1)
            let x = (64 - boxWidth) / 2 & ~1, y = (36 - boxHeight) / 2 & ~1
            let at = Double(starts[index] + layout.clipFrames[index] / 2) / 30
            let shown = try film.frame(at: at)
            #expect(shown.width == 64 && shown.height == 36)
            let seconds = Double(layout.clipFrames[index] / 2) / 30
            let result = try Referee.run("ffmpeg", ["-v", "error", "-ss", String(seconds), "-i", source.path, "-frames:v", "1",
                                                    "-vf", "scale=\(boxWidth):\(boxHeight),format=yuv420p", "-f", "rawvideo",
                                                    "-pix_fmt", "rgb24", "-"])
            try #require(result.stdout.count == boxWidth * boxHeight * 3, "\(name): \(result.stderr)")
            var inside: [UInt8] = []
            for row in y..<(y + boxHeight) {
                for column in x..<(x + boxWidth) {
                    let pixel = shown[column, row]
                    inside += [pixel.red, pixel.green, pixel.blue]
                }
            }
            let psnr = FrameImage(width: boxWidth, height: boxHeight, pixels: inside)
                .psnr(to: FrameImage(width: boxWidth, height: boxHeight, pixels: [UInt8](result.stdout))) ?? 0
            #expect(psnr >= 20, "\(name): \(psnr) dB against ffmpeg's upright picture in the film's box")
        }

        // The bars: the portrait clip is pillarboxed (36x64 fits 20x36, columns 22 to 41). In
        // the encoder's blocks wholly in the bars, out of reach of its deblocking, they are
        // exactly black (Y′ 16, Cb = Cr = 128); nearer the picture's edge within 8 of it, the
        // encoder's ringing (a grey column of swscale's, Y′ 128, was there before).
        let portrait = starts[2] + layout.clipFrames[2] / 2
        let raw = try Referee.run("ffmpeg", ["-v", "error", "-i", output.path, "-vf", "select=eq(n\\,\(portrait))", "-frames:v", "1",
                                             "-f", "rawvideo", "-pix_fmt", "yuv420p", "-"]).stdout
        try #require(raw.count == 64 * 36 * 3 / 2)
        let bytes = [UInt8](raw)
        func expectBar(_ value: UInt8, black: UInt8, exact: Bool, _ place: String) {
            #expect(exact ? value == black : abs(Int(value) - Int(black)) <= 8, "\(place) is \(value), not \(black)")
        }
        for row in 0..<36 {
            for column in 0..<64 where !(22..<42).contains(column) {
                expectBar(bytes[row * 64 + column], black: 16, exact: column < 12 || column >= 52, "luma at \(column),\(row)")
            }
        }
        for row in 0..<18 {
            for column in 0..<32 where !(11..<21).contains(column) {
                let exact = column < 4 || column >= 28
                expectBar(bytes[64 * 36 + row * 32 + column], black: 128, exact: exact, "Cb at \(column),\(row)")
                expectBar(bytes[64 * 36 + 32 * 18 + row * 32 + column], black: 128, exact: exact, "Cr at \(column),\(row)")
            }
        }
    }
}
