import Foundation
import Media
import MediaTestSupport
import Testing

/// Trims land on exact frames, with the sound under them: each decoded frame's number (the
/// synthetic clip draws it) and the tone's known silences, read by the `ffmpeg` referee.
@Suite(.timeLimit(.minutes(10))) struct TrimTests {
    let folder = TemporaryFolder("trim")

    /// Every frame's drawn number, as ffmpeg decodes the file.
    func numbers(_ url: URL, width: Int = 320, height: Int = 180) throws -> [Int?] {
        let result = try Referee.run("ffmpeg", ["-v", "error", "-i", url.path, "-f", "rawvideo", "-pix_fmt", "rgb24",
                                                "-sws_flags", "bicubic+accurate_rnd", "-"])
        let size = width * height * 3
        return stride(from: 0, to: result.stdout.count - size + 1, by: size).map { offset in
            SyntheticClip.frameNumber(in: FrameImage(width: width, height: height, pixels: [UInt8](result.stdout[offset..<(offset + size)])))
        }
    }

    @Test func cutsLandOnExactFramesOfAnH264ClipWithBFrames() async throws {
        try #require(Referee.isAvailable, "ffmpeg not installed")
        // `medium` uses B-frames, so pictures are stored out of order: a cut must count shown frames.
        let clip = try Fixtures.clip("b.mp4", in: folder, SyntheticClip(duration: 4, tone: .init(), seed: 3, preset: "medium"))
        let probe = try Referee.run("ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries", "frame=pict_type",
                                                "-of", "csv=p=0", clip.path])
        #expect(String(decoding: probe.stdout, as: UTF8.self).contains("B"), "the clip has B-frames")
        let output = folder.file("cut.mp4")
        let result = try Concatenation.join([clip], to: output, trims: [ClipTrim(head: 12, tail: 7)])
        // (A scene cut gives this clip a keyframe at 32: the GOP from there is copied, the rest re-encoded.)
        #expect(result.method == .smartCut || result.reasons.contains("clip 1 trimmed to the frame"), "\(result.reasons)")
        #expect(try numbers(output) == (12...92).map { Optional($0) }, "frames 12 to 92 of 0–99, each once, in order")
        let video = try #require(try Referee.streamDuration(output, stream: "v"))
        let audio = try #require(try Referee.streamDuration(output, stream: "a"))
        #expect(abs(video - 81.0 / 25) < 1e-6, "81 frames: \(video) s")
        #expect(abs(audio - video) <= 1.0 / 25, "the sound is cut to match: \(audio) s against \(video) s")

        // In a join, each clip's own cut: 5 from the first's head, 3 from the second's tail.
        let second = try Fixtures.clip("c.mp4", in: folder, SyntheticClip(duration: 2, tone: .init(), seed: 4))
        let joined = folder.file("joined.mp4")
        _ = try Concatenation.join([clip, second], to: joined, trims: [ClipTrim(head: 5), ClipTrim(tail: 3)])
        #expect(try numbers(joined) == ((5...99).map { Optional($0) } + (0...46).map { Optional($0) }))

        #expect(throws: MediaError.self) { try Concatenation.join([clip], to: folder.file("none.mp4"), trims: [ClipTrim(head: 60, tail: 40)]) }
        #expect(throws: MediaError.self) {
            try Concatenation.join([clip], to: folder.file("copy.mp4"), method: .streamCopy, trims: [ClipTrim(head: 1)])
        }
    }

    @Test func theSoundIsCutWithItsPicturesPastTheAACPriming() async throws {
        try #require(Referee.isAvailable, "ffmpeg not installed")
        // Silent from 1.0 s to 1.5 s; everything else a tone. AAC's encoder delay (priming) sits
        // at the head of the stream: a cut must count from the first sample heard, not the first stored.
        let clip = try Fixtures.clip("tone.mp4", in: folder, SyntheticClip(duration: 3, tone: .init(silences: [1.0...1.5]), seed: 5))
        let output = folder.file("cut.mp4")
        _ = try Concatenation.join([clip], to: output, trims: [ClipTrim(head: 15, tail: 10)])  // 0.6 s and 0.4 s
        let samples = try AudioSamples.read(output, sampleRate: 48_000, channels: 2)
        func level(_ from: Double, _ to: Double) -> Double {
            let slice = samples.interleaved[(Int(from * 48_000) * 2)..<(Int(to * 48_000) * 2)]
            return (slice.map { Double($0 * $0) }.reduce(0, +) / Double(slice.count)).squareRoot()
        }
        // The silence now runs from 0.4 s to 0.9 s.
        #expect(level(0.43, 0.87) < 1e-3, "silent where the cut put the silence: \(level(0.43, 0.87))")
        #expect(level(0.05, 0.37) > 0.05 && level(0.93, 1.9) > 0.05, "the tone around it")
        #expect(level(0.37, 0.43) > 0.01, "the tone reaches 0.4 s (within 30 ms): \(level(0.37, 0.43))")
        let video = try #require(try Referee.streamDuration(output, stream: "v"))
        let first = try numbers(output).first ?? nil
        #expect(abs(video - 2.0) < 1e-6 && first == 15)
    }

    /// ffprobe's MD5 of each video packet, in file order.
    func packetHashes(_ url: URL) throws -> [String] {
        let result = try Referee.run("ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries", "packet=data_hash",
                                                 "-show_data_hash", "MD5", "-of", "csv=p=0", url.path])
        return String(decoding: result.stdout, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    @Test func aCutReencodesOnlyTheCutGOPsAndCopiesTheRestByteForByte() async throws {
        try #require(Referee.isAvailable, "ffmpeg not installed")
        // 250 frames with B-frames and a keyframe every 50; silent from 3.0 s to 3.5 s.
        let clip = try Fixtures.clip("long.mp4", in: folder,
                                     SyntheticClip(duration: 10, tone: .init(silences: [3.0...3.5]), seed: 6, preset: "medium"))
        let output = folder.file("smart.mp4")
        let result = try Concatenation.join([clip], to: output, trims: [ClipTrim(head: 12, tail: 30)])
        #expect(result.method == .smartCut, "\(result)")
        #expect(try numbers(output) == (12...219).map { Optional($0) }, "frames 12 to 219, each once, in order")
        let decode = try Referee.run("ffmpeg", ["-v", "error", "-i", output.path, "-f", "null", "-"])
        #expect(decode.status == 0 && decode.stderr.isEmpty, "ffmpeg said: \(decode.stderr)")
        let source = Set(try packetHashes(clip)), cut = try packetHashes(output)
        let copied = cut.filter { source.contains($0) }.count
        #expect(cut.count == 208 && copied >= 100, "\(copied) of \(cut.count) pictures are the source's own packets")
        let picture = try #require(try Referee.streams(output).first { $0["codec_type"] as? String == "video" })
        #expect(picture["codec_tag_string"] as? String == "avc3")
        let video = try #require(try Referee.streamDuration(output, stream: "v"))
        let audio = try #require(try Referee.streamDuration(output, stream: "a"))
        #expect(abs(video - 208.0 / 25) < 1e-6 && abs(audio - video) <= 1.0 / 25, "video \(video) s, audio \(audio) s")
        // The sound is cut with the pictures: the silence now starts 0.48 s earlier.
        let samples = try AudioSamples.read(output, sampleRate: 48_000, channels: 2)
        func level(_ from: Double, _ to: Double) -> Double {
            let slice = samples.interleaved[(Int(from * 48_000) * 2)..<(Int(to * 48_000) * 2)]
            return (slice.map { Double($0 * $0) }.reduce(0, +) / Double(slice.count)).squareRoot()
        }
        #expect(level(2.55, 2.99) < 1e-3 && level(2.2, 2.49) > 0.05 && level(3.05, 3.4) > 0.05,
                "\(level(2.55, 2.99)) \(level(2.2, 2.49)) \(level(3.05, 3.4))")
    }

    @Test func aJoinOfCutClipsCopiesTheirWholeGOPsToo() async throws {
        try #require(Referee.isAvailable, "ffmpeg not installed")
        let clips = try (0..<2).map {
            try Fixtures.clip("gop\($0).mp4", in: folder, SyntheticClip(duration: 6, tone: .init(), seed: 10 + $0, preset: "medium"))
        }
        let output = folder.file("joined.mp4")
        let result = try Concatenation.join(clips, to: output, trims: [ClipTrim(head: 12), ClipTrim(head: 7, tail: 5)])
        #expect(result.method == .smartCut, "\(result)")
        #expect(try numbers(output) == ((12...149).map { Optional($0) } + (7...144).map { Optional($0) }))
        let decode = try Referee.run("ffmpeg", ["-v", "error", "-i", output.path, "-f", "null", "-"])
        #expect(decode.status == 0 && decode.stderr.isEmpty, "ffmpeg said: \(decode.stderr)")
        let video = try #require(try Referee.streamDuration(output, stream: "v"))
        let audio = try #require(try Referee.streamDuration(output, stream: "a"))
        #expect(abs(video - 276.0 / 25) < 1e-6 && abs(audio - video) <= 1.0 / 25, "video \(video) s, audio \(audio) s")
        let copied = Set(try packetHashes(clips[0])).union(try packetHashes(clips[1]))
        #expect(try packetHashes(output).filter { copied.contains($0) }.count >= 100)
    }
}
