import Foundation
import Media
import MediaTestSupport
import Testing

@Suite(.timeLimit(.minutes(10))) struct LoudnessNormalizerTests {
    let folder = TemporaryFolder("loudness")

    /// A short clip whose sound is a quiet tone with loud clicks: a peak-to-loudness ratio
    /// far above 13 dB, so reaching -14 LUFS needs the limiter, not just gain.
    func spikyClip() throws -> URL {
        let url = folder.file("spiky.mp4")
        let writer = try MovieWriter(url: url, video: VideoSettings(width: 160, height: 90, frameRate: 25, preset: "ultrafast"),
                                     audio: AudioSettings(sampleRate: 48_000, channels: 2))
        let seconds = 4
        for _ in 0..<(seconds * 25) { try writer.append(FrameImage(width: 160, height: 90, red: 40, green: 90, blue: 140)) }
        var samples: [Float] = []
        samples.reserveCapacity(seconds * 48_000 * 2)
        for index in 0..<(seconds * 48_000) {
            let time = Double(index) / 48_000
            var value = 0.02 * sin(2 * .pi * 330 * time)
            // A 2 ms click every quarter of a second, close to full scale.
            if index % 12_000 < 96 { value += 0.9 * sin(2 * .pi * 2_000 * time) }
            samples += [Float(value), Float(value)]
        }
        try writer.appendAudio(interleaved: samples)
        try writer.finish()
        return url
    }

    @Test func reachesTheTargetUnderTheCeilingWithTheLimiter() throws {
        let input = try spikyClip()
        let output = folder.file("normalized.mp4")
        let result = try LoudnessNormalizer.normalize(input, to: output, target: -14, ceiling: -1)
        #expect(result.limited)
        #expect(result.gain > 10)
        // The referee: ffmpeg's own BS.1770 meter, on the written file.
        let referee = try #require(try Referee.loudnessAndTruePeak(output))
        #expect(abs(referee.loudness - -14) <= 0.5)
        #expect(referee.truePeak < -1)
        // Our measurements agree with it.
        #expect(abs((result.after.integratedLoudness ?? 0) - referee.loudness) < 0.3)
        #expect(abs((result.after.truePeak ?? 0) - referee.truePeak) < 0.5)
        // Only the audio was re-encoded: the video packets are the same bytes.
        let before = try Referee.run("ffmpeg", ["-v", "error", "-i", input.path, "-map", "0:v", "-c", "copy", "-f", "md5", "-"])
        let after = try Referee.run("ffmpeg", ["-v", "error", "-i", output.path, "-map", "0:v", "-c", "copy", "-f", "md5", "-"])
        #expect(String(decoding: before.stdout, as: UTF8.self) == String(decoding: after.stdout, as: UTF8.self))
        let duration = try #require(try Referee.streamDuration(output, stream: "a"))
        #expect(abs(duration - 4) < 0.05)
    }

    @Test func quietAudioIsRaisedByGainAlone() throws {
        let input = try Fixtures.clip("quiet.mp4", in: folder, SyntheticClip(width: 160, height: 90, duration: 3, tone: SyntheticClip.Tone(level: -32)))
        let output = folder.file("raised.mp4")
        let result = try LoudnessNormalizer.normalize(input, to: output)
        #expect(!result.limited)
        let referee = try #require(try Referee.loudnessAndTruePeak(output))
        #expect(abs(referee.loudness - -14) <= 0.5)
        #expect(referee.truePeak < -1)
    }

    @Test func silenceAndMissingAudioAreClearErrors() throws {
        let mute = try Fixtures.clip("mute.mp4", in: folder, SyntheticClip(width: 160, height: 90, duration: 1, tone: nil))
        #expect(throws: MediaError.self) { try LoudnessNormalizer.normalize(mute, to: folder.file("x.mp4")) }
        do {
            _ = try LoudnessNormalizer.normalize(mute, to: folder.file("x.mp4"))
        } catch {
            #expect("\(error)".contains("no audio stream"))
            #expect("\(error)".contains("mute.mp4"))
        }
        #expect(!FileManager.default.fileExists(atPath: folder.file("x.mp4").path))
    }
}
