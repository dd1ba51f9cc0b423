import Foundation
import Media
import MediaTestSupport
import Testing

@Suite(.timeLimit(.minutes(10))) struct ConcatTests {
    let folder = TemporaryFolder("concat")

    func clips(_ count: Int, duration: Double = 2, audio: (Int) -> Bool = { _ in true }) throws -> [URL] {
        try (0..<count).map { index in
            try Fixtures.clip("clip\(index).mp4", in: folder,
                              SyntheticClip(duration: duration, tone: audio(index) ? .init() : nil, seed: index))
        }
    }

    /// The referee: the file decodes with nothing said at -v error, and each stream lasts
    /// as long as the clips together, within one frame.
    func expectClean(_ url: URL, duration expected: Double, audio: Bool = true) throws {
        try #require(Referee.isAvailable, "ffmpeg not installed")
        let decode = try Referee.run("ffmpeg", ["-v", "error", "-i", url.path, "-f", "null", "-"])
        #expect(decode.status == 0)
        #expect(decode.stderr.isEmpty, "ffmpeg said: \(decode.stderr)")
        let video = try #require(try Referee.streamDuration(url, stream: "v"))
        #expect(abs(video - expected) <= 1.0 / 25, "video lasts \(video) s, expected \(expected) s")
        if audio {
            let sound = try #require(try Referee.streamDuration(url, stream: "a"))
            #expect(abs(sound - expected) <= 1.0 / 25, "audio lasts \(sound) s, expected \(expected) s")
        }
    }

    @Test func compatibleClipsAreStreamCopiedWithContinuousTimestamps() throws {
        let output = folder.file("joined.mp4")
        let result = try Concatenation.join(try clips(3), to: output)
        #expect(result.method == .streamCopy)
        #expect(result.reasons.isEmpty)
        #expect(abs(result.duration - 6) < 1e-6)
        try expectClean(output, duration: 6)
        // The join is exact: the frame before 2 s is clip 1's last, the frame at 2 s is clip 2's first.
        let video = VideoFile(output)
        #expect(SyntheticClip.frameNumber(in: try video.frame(at: 1.96)) == 49)
        #expect(SyntheticClip.frameNumber(in: try video.frame(at: 2.0)) == 0)
        #expect(SyntheticClip.frameNumber(in: try video.lastFrame()) == 49)
    }

    @Test func audioStaysAlignedAcrossManyJoins() throws {
        let output = folder.file("long.mp4")
        let result = try Concatenation.join(try clips(12, duration: 1), to: output)
        #expect(result.method == .streamCopy)
        try expectClean(output, duration: 12)
        // Decoded end to end (as a player does), the audio ends where the video ends: within
        // one AAC frame after twelve joins, so nothing accumulated.
        let levels = try AudioLevels.analyze(output)
        #expect(abs(levels.duration - 12) <= 1024.0 / 48_000, "audio decodes to \(levels.duration) s")
    }

    @Test func clipWithoutAudioGetsSilenceOfItsLength() throws {
        let output = folder.file("gap.mp4")
        let result = try Concatenation.join(try clips(3, audio: { $0 != 1 }), to: output)
        #expect(result.method == .streamCopy)
        try expectClean(output, duration: 6)
        let levels = try AudioLevels.analyze(output, options: .init(silenceThreshold: -50, minimumSilence: 1))
        #expect(abs(levels.duration - 6) <= 1024.0 / 48_000, "audio decodes to \(levels.duration) s")
        let silence = try #require(levels.silences.first)
        #expect(abs(silence.start - 2) < 0.1 && abs(silence.end - 4) < 0.1, "\(levels.silences)")
    }

    @Test func differentSizesAreReencodedAndLetterboxed() throws {
        let wide = try Fixtures.clip("wide.mp4", in: folder, SyntheticClip(width: 320, height: 180, duration: 1))
        let square = try Fixtures.clip("square.mp4", in: folder,
                                       SyntheticClip(width: 180, height: 180, frameRate: 30, duration: 1, tone: nil, seed: 3))
        let output = folder.file("mixed.mp4")
        let result = try Concatenation.join([wide, square], to: output)
        #expect(result.method == .reencode)
        #expect(result.reasons.count == 1)
        #expect(result.reasons.first?.contains("180x180") == true)
        let info = try MediaInfo.probe(output)
        #expect(info.video?.width == 320 && info.video?.height == 180)
        #expect(info.video?.frameRate == 25)
        try expectClean(output, duration: 2)
        // The square clip sits in the middle with black bars left and right, not stretched.
        let frame = try VideoFile(output).frame(at: 1.5)
        let border = frame[5, 90]
        #expect(Int(border.red) + Int(border.green) + Int(border.blue) < 30, "border \(border)")
        let inside = frame[160, 150]
        #expect(Int(inside.red) + Int(inside.green) + Int(inside.blue) > 60, "picture \(inside)")
    }

    @Test func forcedStreamCopyOfIncompatibleClipsNamesTheDifference() throws {
        let a = try Fixtures.clip("a.mp4", in: folder, SyntheticClip(width: 320, height: 180, duration: 1))
        let b = try Fixtures.clip("b.mp4", in: folder, SyntheticClip(width: 160, height: 90, duration: 1))
        let error = try #require(throws: MediaError.self) {
            try Concatenation.join([a, b], to: folder.file("x.mp4"), method: .streamCopy)
        }
        #expect(error.code == .incompatibleClips)
        #expect(error.description.contains("160x90"))
        #expect(!FileManager.default.fileExists(atPath: folder.file("x.mp4").path))
    }

    @Test func crossfadesOverlapTheClipsPictureAndSound() throws {
        let output = folder.file("fade.mp4")
        // 0.4 s is 10 frames at 25 fps: 150 frames less two overlaps of 10 is 130 frames, 5.2 s.
        let result = try Concatenation.join(try clips(3), to: output, transition: .crossfade(seconds: 0.4))
        #expect(result.method == .reencode)
        #expect(abs(result.duration - 5.2) < 1e-6, "three 2 s clips, two 0.4 s overlaps")
        try expectClean(output, duration: 5.2)
        let video = VideoFile(output)
        // Clip 1 alone before its fade; clip 2 alone after it, from its frame 10 (0-9 were faded in).
        #expect(SyntheticClip.frameNumber(in: try video.frame(at: 1.0)) == 25)
        #expect(SyntheticClip.frameNumber(in: try video.frame(at: 2.2)) == 15)
        // Halfway through the fade, the picture is a mix of both.
        let middle = try video.frame(at: 1.8)
        let pureOne = try VideoFile(folder.file("clip0.mp4")).frame(at: 1.8)
        let pureTwo = try VideoFile(folder.file("clip1.mp4")).frame(at: 0.2)
        let towardOne = middle.psnr(to: pureOne) ?? 99, towardTwo = middle.psnr(to: pureTwo) ?? 99
        #expect(towardOne < 30 && towardTwo < 30, "blended: \(towardOne) dB from clip 1, \(towardTwo) dB from clip 2")
        let levels = try AudioLevels.analyze(output)
        #expect(abs(levels.duration - 5.2) <= 1024.0 / 48_000)
    }

    @Test func layoutMatchesTheJoinedFilmToTheFrame() throws {
        // Clips of 2 s, 1.28 s and 3 s at 25 fps (50, 32 and 75 frames), the second without sound.
        let urls = try [2.0, 1.28, 3.0].enumerated().map { index, seconds in
            try Fixtures.clip("lay\(index).mp4", in: folder, SyntheticClip(duration: seconds, tone: index == 1 ? nil : .init(), seed: index))
        }
        let cut = try Concatenation.layout(of: urls)
        #expect(cut.frameRate == 25 && cut.width == 320 && cut.height == 180)
        #expect(cut.clipFrames == [50, 32, 75] && cut.overlapFrames == 0 && cut.starts == [0, 50, 82])
        #expect(cut.clipHasAudio == [true, false, true])
        let faded = try Concatenation.layout(of: urls, transition: .crossfade(seconds: 0.4))
        #expect(faded.overlapFrames == 10 && faded.starts == [0, 40, 62] && faded.frames == 137)
        // A crossfade longer than the shortest clip is cut to one frame less than it, as the join does.
        #expect(try Concatenation.layout(of: urls, transition: .crossfade(seconds: 5)).overlapFrames == 31)

        let output = folder.file("laid.mp4")
        _ = try Concatenation.join(urls, to: output, transition: .crossfade(seconds: 0.4))
        #expect(try Referee.frameCount(output) == faded.frames, "the film has the frames its layout says")
        // The clip that starts on frame 62 shows its own frame 10 once the fade into it is over.
        #expect(SyntheticClip.frameNumber(in: try VideoFile(output).frame(at: Double(62 + 10) / 25 + 0.01)) == 10)
        #expect(throws: MediaError.self) { try Concatenation.layout(of: []) }
    }

    @Test func reencodeOnRequestKeepsAudioAligned() throws {
        let output = folder.file("re.mp4")
        let result = try Concatenation.join(try clips(3, audio: { $0 != 2 }), to: output, method: .reencode)
        #expect(result.method == .reencode)
        try expectClean(output, duration: 6)
    }
}
