import Foundation
import Media
import MediaTestSupport
import Testing

@Suite(.timeLimit(.minutes(10))) struct AudioTests {
    let folder = TemporaryFolder("audio")

    @Test func measuresToneLevels() throws {
        let url = try Fixtures.clip("tone.mp4", in: folder,
                                    SyntheticClip(duration: 3, tone: .init(frequency: 1000, level: -20)))
        let levels = try AudioLevels.analyze(url)
        #expect(levels.hasAudio)
        #expect(abs(levels.duration - 3) < 0.03)
        // AAC coding overshoots a pure tone's peak by up to about a decibel.
        let peak = try #require(levels.peak)
        #expect(abs(peak - -20) < 1.5, "peak \(peak)")
        // A sine's RMS is 3.01 dB under its peak.
        #expect(abs(try #require(levels.rms) - -23.01) < 0.5)
        // A stereo 1 kHz sine at -20 dBFS measures about -20 LUFS.
        #expect(abs(try #require(levels.integratedLoudness) - -20) < 0.6)
        #expect(levels.silences.isEmpty)
    }

    @Test func findsSilentSpans() throws {
        let url = try Fixtures.clip("gap.mp4", in: folder,
                                    SyntheticClip(duration: 4, tone: .init(silences: [1.0...2.2])))
        let levels = try AudioLevels.analyze(url)
        #expect(levels.silences.count == 1)
        let span = try #require(levels.silences.first)
        #expect(abs(span.start - 1.0) < 0.05)
        #expect(abs(span.end - 2.2) < 0.05)
    }

    @Test func clipWithoutAudioSaysSo() throws {
        let url = try Fixtures.clip("mute.mp4", in: folder, SyntheticClip(duration: 1, tone: nil))
        let levels = try AudioLevels.analyze(url)
        #expect(!levels.hasAudio)
    }

    @Test func peakAndRMSAgreeWithFFmpegVolumedetect() throws {
        try #require(Referee.isAvailable, "ffmpeg not installed")
        let url = try Fixtures.clip("v.mp4", in: folder, SyntheticClip(duration: 3, tone: .init(frequency: 500, level: -9)))
        let levels = try AudioLevels.analyze(url)
        let theirs = try #require(try Referee.volume(url))
        // volumedetect prints one decimal.
        #expect(abs(try #require(levels.peak) - theirs.max) <= 0.11)
        #expect(abs(try #require(levels.rms) - theirs.mean) <= 0.11)
    }

    @Test(arguments: [-14.0, -23.0, -31.0])
    func loudnessAgreesWithFFmpegEbur128(level: Double) throws {
        try #require(Referee.isAvailable, "ffmpeg not installed")
        let url = try Fixtures.clip("l.mp4", in: folder, SyntheticClip(duration: 4, tone: .init(frequency: 220, level: level)))
        let mine = try #require(try AudioLevels.analyze(url).integratedLoudness)
        let theirs = try #require(try Referee.integratedLoudness(url))
        #expect(abs(mine - theirs) <= 0.5, "seedpipe \(mine) LUFS, ffmpeg \(theirs) LUFS")
    }
}
